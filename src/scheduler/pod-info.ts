// What the scheduler precomputes once per pod: its requests, host ports, tolerations and affinity terms in
// matchable form, so that filtering thousands of nodes never re-parses the pod.
import type { PodAffinityTerm, Toleration, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from '../api/labels.js';
import { labelSelectorAsSelector } from '../api/labels.js';
import type { Resource } from './resources.js';
import { podRequests } from './resources.js';
import type { Pod } from './types.js';

/** A pod affinity term ready to match: namespaces resolved, selector parsed. */
export interface AffinityTerm {
  /** Namespaces the term names; null with `namespaceSelector` set means "decided by the selector". */
  namespaces: ReadonlySet<string>;
  /** Set when the term has a namespaceSelector (an empty one selects every namespace). */
  namespaceSelector: LabelSelector | undefined;
  selector: LabelSelector;
  topologyKey: string;
  /** A canonical key: two terms with the same key match the same pods in the same domains. */
  key: string;
}

/** A preferred term with its weight (negative for anti-affinity when scoring). */
export interface WeightedAffinityTerm {
  term: AffinityTerm;
  weight: number;
}

/** Labels of a namespace, for namespaceSelector; the default knows only the name label every namespace has. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>> | undefined;

export const defaultNamespaceLabels: NamespaceLabels = (ns) => ({ 'kubernetes.io/metadata.name': ns });

/** A host port a pod asks for. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** A pod as the scheduler's plugins read it. */
export interface PodInfo {
  pod: Pod;
  key: string;
  uid: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  priority: number;
  requests: Resource;
  /** Requests with upstream's defaults for unset cpu and memory (for scoring). */
  nonZeroRequests: Resource;
  hostPorts: HostPort[];
  tolerations: readonly Toleration[];
  requiredAffinity: AffinityTerm[];
  requiredAntiAffinity: AffinityTerm[];
  preferredAffinity: WeightedAffinityTerm[];
  preferredAntiAffinity: WeightedAffinityTerm[];
  /** Why parsing a term failed; the pod cannot be scheduled until fixed. */
  parseError: string | undefined;
}

/** The pod's priority (spec.priority, set by admission; 0 when absent). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

function newAffinityTerm(owner: Pod, t: PodAffinityTerm): AffinityTerm {
  const selector = labelSelectorAsSelector(t.labelSelector);
  const nsSel = t.namespaceSelector ? labelSelectorAsSelector(t.namespaceSelector) : undefined;
  const names = t.namespaces ?? [];
  const namespaces = new Set(names.length === 0 && !nsSel ? [owner.metadata?.namespace ?? 'default'] : names);
  const key = JSON.stringify([[...namespaces].sort(), nsSel?.toString() ?? null, nsSel?.isNothing() ?? false, selector.toString(), selector.isNothing(), t.topologyKey]);
  return { namespaces, namespaceSelector: nsSel, selector, topologyKey: t.topologyKey, key };
}

function weighted(owner: Pod, terms: WeightedPodAffinityTerm[] | undefined, sign: number): WeightedAffinityTerm[] {
  return (terms ?? []).map((w) => ({ term: newAffinityTerm(owner, w.podAffinityTerm), weight: sign * w.weight }));
}

/** Whether a pod (namespace and labels) is selected by the term. */
export function termMatches(term: AffinityTerm, namespace: string, labels: Readonly<Record<string, string>>, nsLabels: NamespaceLabels = defaultNamespaceLabels): boolean {
  if (!term.namespaces.has(namespace)) {
    if (!term.namespaceSelector || !term.namespaceSelector.matches(nsLabels(namespace))) return false;
  }
  return term.selector.matches(labels);
}

/** Builds a PodInfo; terms that do not parse leave `parseError` set. */
export function newPodInfo(pod: Pod): PodInfo {
  const meta = pod.metadata ?? {};
  const namespace = meta.namespace ?? 'default';
  const hostPorts: HostPort[] = [];
  const portsOf = (cs: { ports?: { hostPort?: number; hostIP?: string; protocol?: string }[] }[] | undefined): void => {
    for (const c of cs ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort && p.hostPort > 0) hostPorts.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
      }
    }
  };
  portsOf(pod.spec?.containers);
  portsOf(pod.spec?.initContainers?.filter((c) => c.restartPolicy === 'Always'));
  const info: PodInfo = {
    pod,
    key: `${namespace}/${meta.name ?? ''}`,
    uid: meta.uid ?? `${namespace}/${meta.name ?? ''}`,
    namespace,
    labels: meta.labels ?? {},
    priority: podPriority(pod),
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, true),
    hostPorts,
    tolerations: pod.spec?.tolerations ?? [],
    requiredAffinity: [],
    requiredAntiAffinity: [],
    preferredAffinity: [],
    preferredAntiAffinity: [],
    parseError: undefined,
  };
  const aff = pod.spec?.affinity;
  if (aff?.podAffinity || aff?.podAntiAffinity) {
    try {
      info.requiredAffinity = (aff.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => newAffinityTerm(pod, t));
      info.requiredAntiAffinity = (aff.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => newAffinityTerm(pod, t));
      info.preferredAffinity = weighted(pod, aff.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution, 1);
      info.preferredAntiAffinity = weighted(pod, aff.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution, -1);
    } catch (err) {
      info.parseError = err instanceof Error ? err.message : String(err);
    }
  }
  return info;
}

/** True when the pod has any pod (anti-)affinity term. */
export function hasAffinity(p: PodInfo): boolean {
  return p.requiredAffinity.length + p.requiredAntiAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length > 0;
}
