// The kubelet server's lookups from names to CRI IDs, asked of the runtime itself: the kubelet labels every
// sandbox and container it creates with the pod's namespace, name and UID and the container's name
// (io.kubernetes.*, as upstream), so ListPodSandbox and ListContainers with a label selector find them on
// any CRI runtime, ours or containerd. Logs are the files the runtime reports (ContainerStatus.logPath),
// which the kubelet reads itself, as upstream does.
import type * as cri from '../../cri/index.js';
import { containerNameLabel, podNameLabel, podNamespaceLabel, podUIDLabel } from '../pod/labels.js';
import type { CriNames } from './cri-bridge.js';
import type { ContainerRef, PodRef } from './streaming-runtime.js';
import { RuntimeNotFoundError } from './streaming-runtime.js';

function podLabels(ref: PodRef): Record<string, string> {
  return { [podNamespaceLabel]: ref.namespace, [podNameLabel]: ref.name, ...(ref.uid ? { [podUIDLabel]: ref.uid } : {}) };
}

/** The instances of a container, newest first. */
async function instances(runtime: cri.RuntimeService, ref: ContainerRef): Promise<cri.Container[]> {
  const { containers } = await runtime.listContainers({ filter: { labelSelector: { ...podLabels(ref), [containerNameLabel]: ref.container } } });
  return (containers ?? []).sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || (b.createdAt ?? 0) - (a.createdAt ?? 0));
}

/** CriNames answered by `runtime`. */
export function criNames(runtime: cri.RuntimeService): CriNames {
  return {
    containerId: async (ref) => {
      const running = (await instances(runtime, ref)).find((c) => c.state === 'CONTAINER_RUNNING');
      if (!running?.id) throw new RuntimeNotFoundError(`container not found ("${ref.container}")`);
      return running.id;
    },
    sandboxId: async (ref) => {
      const { items } = await runtime.listPodSandbox({ filter: { labelSelector: podLabels(ref), state: { state: 'SANDBOX_READY' } } });
      const sandbox = (items ?? []).sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0];
      if (!sandbox?.id) throw new RuntimeNotFoundError(`pod ${ref.namespace}/${ref.name} has no ready sandbox on this node`);
      return sandbox.id;
    },
    containerLog: async (ref, previous) => {
      const all = await instances(runtime, ref);
      const chosen = previous ? all[1] : all[0];
      if (!chosen?.id) throw new RuntimeNotFoundError(`container "${ref.container}" in pod "${ref.name}" is not available`);
      const id = chosen.id;
      const { status } = await runtime.containerStatus({ containerId: id });
      if (!status?.logPath) throw new RuntimeNotFoundError(`container "${ref.container}" in pod "${ref.name}" has no log`);
      return {
        path: status.logPath,
        running: async () => (await runtime.containerStatus({ containerId: id }).catch(() => ({ status: undefined }))).status?.state === 'CONTAINER_RUNNING',
      };
    },
  };
}
