// The DaemonSet controller's pure rules (upstream's pkg/controller/daemon/util and NodeShouldRunDaemonPod):
// which nodes a DaemonSet's pod belongs on, the tolerations every daemon pod gets, and the node affinity
// that pins a daemon pod to its node.
import type { Affinity, NodeSelectorTerm, PodSpec, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../client/index.js';
import { nodeSelectorTermMatches, tolerationsTolerate } from '../../api/node-scheduling.js';
import type { Node } from '../nodelifecycle/taints.js';

/** The label on daemon pods and ControllerRevisions naming the template's revision. */
export const revisionHashLabel = 'controller-revision-hash';
/** The deprecated label with the DaemonSet's template generation. */
export const templateGenerationLabel = 'pod-template-generation';

/** The tolerations every daemon pod gets (upstream's AddOrUpdateDaemonPodTolerations). */
export function daemonPodTolerations(hostNetwork: boolean): Toleration[] {
  const t = (key: string, effect: string): Toleration => ({ key: `node.kubernetes.io/${key}`, operator: 'Exists', effect });
  return [
    t('not-ready', 'NoExecute'),
    t('unreachable', 'NoExecute'),
    t('disk-pressure', 'NoSchedule'),
    t('memory-pressure', 'NoSchedule'),
    t('pid-pressure', 'NoSchedule'),
    t('unschedulable', 'NoSchedule'),
    ...(hostNetwork ? [t('network-unavailable', 'NoSchedule')] : []),
  ];
}

/** Adds tolerations to a list, replacing equal ones (same key, operator, value and effect). */
export function addOrUpdateTolerations(existing: readonly Toleration[] | undefined, add: Toleration[]): Toleration[] {
  const out = [...(existing ?? [])];
  for (const t of add) {
    const i = out.findIndex((x) => (x.key ?? '') === (t.key ?? '') && (x.operator ?? 'Equal') === (t.operator ?? 'Equal') && (x.value ?? '') === (t.value ?? '') && (x.effect ?? '') === (t.effect ?? ''));
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/** The affinity with its required node terms replaced by one that names the node (ReplaceDaemonSetPodNodeNameNodeAffinity). */
export function pinToNode(affinity: Affinity | undefined, nodeName: string): Affinity {
  const term: NodeSelectorTerm = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  return {
    ...affinity,
    nodeAffinity: { ...affinity?.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } },
  };
}

/** The node a daemon pod is for: spec.nodeName, or the node its required affinity names (GetTargetNodeName). */
export function targetNodeName(pod: { spec?: PodSpec | Record<string, unknown> }): string | undefined {
  const spec = pod.spec as PodSpec | undefined;
  if (spec?.nodeName) return spec.nodeName;
  for (const term of spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** True when one of the terms matches the node (an empty term matches nothing). */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: Node & KubeObject): boolean {
  return terms.some((term) => nodeSelectorTermMatches(term, node.metadata?.labels ?? {}, node.metadata?.name ?? ''));
}

/** The pod's nodeSelector and required node affinity both admit the node. */
export function fitsNodeAffinity(spec: PodSpec | undefined, node: Node & KubeObject): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required ? nodeSelectorTermsMatch(required.nodeSelectorTerms ?? [], node) : true;
}

/**
 * Upstream's NodeShouldRunDaemonPod: whether a new daemon pod belongs on the node, and whether one
 * already there may stay (it may when only NoSchedule taints it does not tolerate were added later).
 */
export function nodeShouldRunDaemonPod(spec: PodSpec | undefined, node: Node & KubeObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const name = node.metadata?.name ?? '';
  if (spec?.nodeName && spec.nodeName !== name) return { shouldRun: false, shouldContinueRunning: false };
  if (!fitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = addOrUpdateTolerations(spec?.tolerations, daemonPodTolerations(spec?.hostNetwork === true));
  const untolerated = (effects: string[]): boolean =>
    (node.spec?.taints ?? []).some((t: Taint) => effects.includes(t.effect) && !tolerationsTolerate(tolerations, t));
  if (untolerated(['NoSchedule', 'NoExecute'])) return { shouldRun: false, shouldContinueRunning: !untolerated(['NoExecute']) };
  return { shouldRun: true, shouldContinueRunning: true };
}
