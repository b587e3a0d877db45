// The labels and annotations upstream's kuberuntime puts on sandboxes and containers, by which a kubelet
// finds its pods' containers again after a restart.
import { createHash } from 'node:crypto';
import type { Container } from 'kubernetes-types/core/v1.js';

export const podNameLabel = 'io.kubernetes.pod.name';
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
export const podUIDLabel = 'io.kubernetes.pod.uid';
export const containerNameLabel = 'io.kubernetes.container.name';
export const containerHashAnnotation = 'io.kubernetes.container.hash';
export const containerRestartCountAnnotation = 'io.kubernetes.container.restartCount';
export const terminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
export const terminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
export const preStopHandlerAnnotation = 'io.kubernetes.container.preStopHandler';
export const containerPortsAnnotation = 'io.kubernetes.container.ports';
export const podTerminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';
/** The label kubelets put on sandboxes (kubernetes_docker's legacy "POD" container name). */
export const kubernetesManagedLabel = 'io.kubernetes.container.name';

/** A hash of the container's spec; a changed spec restarts the container, as upstream. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 8);
}
