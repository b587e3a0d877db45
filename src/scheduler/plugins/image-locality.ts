// ImageLocality: nodes that already hold the pod's images score higher, weighted by image size and by how
// widely the image is spread (so one node holding a popular image does not attract everything).
import type { ScorePlugin } from '../framework.js';
import type { FrameworkHandle } from '../framework.js';
import { normalizedImageName } from '../node-info.js';
import { maxNodeScore } from '../types.js';

export const imageLocalityName = 'ImageLocality';
const mb = 1024 * 1024;
const minThreshold = 23 * mb;
const maxContainerThreshold = 1000 * mb;

export function newImageLocality(_args: unknown, handle: FrameworkHandle): ScorePlugin {
  return {
    name: imageLocalityName,
    score(_state, pod, node) {
      if (node.images.size === 0) return 0;
      const total = handle.cache.nodeCount;
      const containers = [...(pod.pod.spec?.initContainers ?? []), ...(pod.pod.spec?.containers ?? [])];
      let sum = 0;
      for (const c of containers) {
        if (!c.image) continue;
        const name = normalizedImageName(c.image);
        const size = node.images.get(name);
        if (size !== undefined && total > 0) sum += Math.trunc((size * handle.cache.imageNodeCount(name)) / total);
      }
      const max = maxContainerThreshold * Math.max(1, containers.length);
      if (sum < minThreshold) sum = minThreshold;
      else if (sum > max) sum = max;
      return Math.trunc((maxNodeScore * (sum - minThreshold)) / (max - minThreshold));
    },
  };
}
