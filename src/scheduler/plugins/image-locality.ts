// ImageLocality: nodes that already hold the pod's images score higher, weighted by image size and by how
// widely the image is spread (so one node holding a popular image does not attract everything).
import type { FrameworkHandle, PreScorePlugin, ScorePlugin } from '../framework.js';
import { normalizedImageName } from '../node-info.js';
import { maxNodeScore, Status } from '../types.js';

export const imageLocalityName = 'ImageLocality';
const mb = 1024 * 1024;
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;

export function newImageLocality(_args: unknown, handle: FrameworkHandle): PreScorePlugin & ScorePlugin {
  const stateKey = 'PreScore' + imageLocalityName;
  return {
    name: imageLocalityName,
    preScore(state, pod) {
      const containers = [...(pod.pod.spec?.initContainers ?? []), ...(pod.pod.spec?.containers ?? [])];
      const images = containers.filter((c) => c.image).map((c) => normalizedImageName(c.image!));
      // No node holds any of the images: every node would score 0.
      if (!images.some((i) => handle.cache.imageNodeCount(i) > 0)) return new Status('Skip');
      state.write(stateKey, { images, containers: containers.length });
      return null;
    },
    score(state, _pod, node) {
      if (node.images.size === 0) return 0;
      const s = state.read<{ images: string[]; containers: number }>(stateKey);
      if (!s) return 0;
      const total = handle.cache.nodeCount;
      let sum = 0;
      for (const name of s.images) {
        const size = node.images.get(name);
        if (size !== undefined && total > 0) sum += Math.trunc((size * handle.cache.imageNodeCount(name)) / total);
      }
      const max = maxContainerThreshold * Math.max(1, s.containers);
      if (sum < minThreshold) sum = minThreshold;
      else if (sum > max) sum = max;
      return Math.trunc((maxNodeScore * (sum - minThreshold)) / (max - minThreshold));
    },
  };
}
