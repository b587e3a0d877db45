// The scheduler's cache: nodes and the pods on them, bound or assumed. A pod is assumed on its node the
// moment the scheduling cycle picks it (so the next pod sees the space taken), confirmed when the informer
// reports it bound, and forgotten if binding fails. Beside the NodeInfos it keeps counts that make the
// affinity and spreading plugins cheap: per distinct pod-affinity term, how many matching pods sit in each
// topology domain, maintained incrementally as pods are added and removed.
import type { AffinityTerm, NamespaceLabels, PodInfo } from './pod-info.js';
import { defaultNamespaceLabels, termMatches } from './pod-info.js';
import { NodeInfo } from './node-info.js';
import type { Node } from './types.js';

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

/** Counts per topology value of the pods one term selects. */
interface TermCount {
  term: AffinityTerm;
  skipTerminating: boolean;
  counts: Map<string, number>;
}

/** One distinct affinity term carried by existing pods, with where those pods are. */
export interface ExistingTerm {
  kind: 'requiredAntiAffinity' | 'requiredAffinity' | 'preferred';
  term: AffinityTerm;
  weight: number;
  /** Pods carrying the term, per value of term.topologyKey on their node. */
  counts: Map<string, number>;
  total: number;
}

const maxTermCounts = 512;

/** Nodes and the pods placed on them. */
export class SchedulerCache {
  readonly #nodes = new Map<string, NodeInfo>();
  readonly #pods = new Map<string, PodState>();
  #list: NodeInfo[] | undefined;
  #termCounts = new Map<string, TermCount>();
  readonly #existingTerms = new Map<string, ExistingTerm>();
  #domains = new Map<string, Map<string, number>>();
  /** Nodes holding each image, for ImageLocality's spread factor. */
  readonly #imageNodes = new Map<string, number>();
  nsLabels: NamespaceLabels = defaultNamespaceLabels;

  /** Forgets every node and pod (a new term of leadership lists them again). */
  clear(): void {
    this.#nodes.clear();
    this.#pods.clear();
    this.#list = undefined;
    this.#termCounts = new Map();
    this.#existingTerms.clear();
    this.#domains = new Map();
    this.#imageNodes.clear();
  }

  /** Every node with a Node object, in a stable order (the order nodes were added). */
  nodeList(): NodeInfo[] {
    if (!this.#list) this.#list = [...this.#nodes.values()].filter((n) => n.node !== undefined);
    return this.#list;
  }

  node(name: string): NodeInfo | undefined {
    const n = this.#nodes.get(name);
    return n?.node ? n : undefined;
  }

  get nodeCount(): number {
    return this.nodeList().length;
  }

  /** How many nodes hold an image (for ImageLocality). */
  imageNodeCount(image: string): number {
    return this.#imageNodes.get(image) ?? 0;
  }

  addNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    let ni = this.#nodes.get(name);
    if (ni) {
      const oldLabels = ni.labels;
      const hadNode = ni.node !== undefined;
      const relabel = !hadNode || !sameLabels(oldLabels, node.metadata?.labels ?? {});
      if (hadNode) this.#countImages(ni, -1);
      if (relabel) this.#forEachPod(ni, (p) => this.#indexPod(ni!, p, -1));
      ni.setNode(node);
      if (relabel) this.#forEachPod(ni, (p) => this.#indexPod(ni!, p, 1));
      this.#countImages(ni, 1);
      if (!hadNode) this.#list = undefined;
      if (relabel) this.#nodeLabelsChanged();
    } else {
      ni = new NodeInfo(name, node);
      this.#nodes.set(name, ni);
      this.#countImages(ni, 1);
      this.#list = undefined;
      this.#nodeLabelsChanged();
    }
    return ni;
  }

  removeNode(name: string): void {
    const ni = this.#nodes.get(name);
    if (!ni) return;
    this.#countImages(ni, -1);
    this.#list = undefined;
    this.#nodeLabelsChanged();
    if (ni.pods.size === 0) {
      this.#nodes.delete(name);
    } else {
      // Pods stay accounted until they are deleted, as upstream keeps a node's ghost until its pods go.
      this.#forEachPod(ni, (p) => this.#indexPod(ni, p, -1));
      ni.node = undefined;
      ni.labels = {};
    }
  }

  /** The cached state of a pod: where it is and whether it is only assumed. */
  podState(uid: string): { nodeName: string; assumed: boolean; info: PodInfo } | undefined {
    return this.#pods.get(uid);
  }

  isAssumed(uid: string): boolean {
    return this.#pods.get(uid)?.assumed === true;
  }

  /** Places a pod the scheduler chose a node for, before the binding is written. */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.#pods.has(info.uid)) throw new Error(`pod ${info.key} is in the cache, so can't be assumed`);
    this.#pods.set(info.uid, { info, nodeName, assumed: true });
    this.#place(info, nodeName);
  }

  /** Undoes assumePod after a failed binding. */
  forgetPod(uid: string): void {
    const s = this.#pods.get(uid);
    if (!s?.assumed) return;
    this.#pods.delete(uid);
    this.#unplace(s.info, s.nodeName);
  }

  /** A bound pod the informer reports (confirms an assumed one). */
  addPod(info: PodInfo, nodeName: string): void {
    const s = this.#pods.get(info.uid);
    if (s) {
      this.#unplace(s.info, s.nodeName);
    }
    this.#pods.set(info.uid, { info, nodeName, assumed: false });
    this.#place(info, nodeName);
  }

  removePod(uid: string): void {
    const s = this.#pods.get(uid);
    if (!s) return;
    this.#pods.delete(uid);
    this.#unplace(s.info, s.nodeName);
  }

  /** Domains of a topology key: label value → how many nodes have it. */
  domains(key: string): Map<string, number> {
    let d = this.#domains.get(key);
    if (!d) {
      d = new Map();
      for (const n of this.nodeList()) {
        const v = n.labels[key];
        if (v !== undefined) d.set(v, (d.get(v) ?? 0) + 1);
      }
      this.#domains.set(key, d);
    }
    return d;
  }

  /**
   * How many pods the term selects in each value of its topology key, over every node; kept current as
   * pods come and go. `skipTerminating` leaves out pods being deleted (as spreading counts them).
   */
  termCounts(term: AffinityTerm, skipTerminating = false): Map<string, number> {
    const key = (skipTerminating ? 'T' : 'A') + term.key;
    let tc = this.#termCounts.get(key);
    if (!tc) {
      if (this.#termCounts.size >= maxTermCounts) this.#termCounts.clear();
      tc = { term, skipTerminating, counts: new Map() };
      for (const ni of this.nodeList()) {
        const v = ni.labels[term.topologyKey];
        if (v === undefined) continue;
        for (const p of ni.pods.values()) this.#countTerm(tc, p, v, 1);
      }
      this.#termCounts.set(key, tc);
    }
    return tc.counts;
  }

  /** The distinct affinity terms of existing pods. */
  existingTerms(): Iterable<ExistingTerm> {
    return this.#existingTerms.values();
  }

  #countTerm(tc: TermCount, p: PodInfo, value: string, sign: number): void {
    if (tc.skipTerminating && p.pod.metadata?.deletionTimestamp) return;
    if (!termMatches(tc.term, p.namespace, p.labels, this.nsLabels)) return;
    const n = (tc.counts.get(value) ?? 0) + sign;
    if (n === 0) tc.counts.delete(value);
    else tc.counts.set(value, n);
  }

  #place(info: PodInfo, nodeName: string): void {
    let ni = this.#nodes.get(nodeName);
    if (!ni) {
      ni = new NodeInfo(nodeName);
      this.#nodes.set(nodeName, ni);
    }
    ni.addPod(info);
    this.#indexPod(ni, info, 1);
  }

  #unplace(info: PodInfo, nodeName: string): void {
    const ni = this.#nodes.get(nodeName);
    if (!ni) return;
    ni.removePod(info.uid);
    this.#indexPod(ni, info, -1);
    if (!ni.node && ni.pods.size === 0) this.#nodes.delete(nodeName);
  }

  #indexPod(ni: NodeInfo, p: PodInfo, sign: number): void {
    if (!ni.node) return;
    for (const tc of this.#termCounts.values()) {
      const v = ni.labels[tc.term.topologyKey];
      if (v !== undefined) this.#countTerm(tc, p, v, sign);
    }
    if (p.requiredAntiAffinity.length + p.requiredAffinity.length + p.preferredAffinity.length + p.preferredAntiAffinity.length === 0) return;
    const index = (kind: ExistingTerm['kind'], term: AffinityTerm, weight: number): void => {
      const v = ni.labels[term.topologyKey];
      if (v === undefined) return;
      const key = `${kind}|${weight}|${term.key}`;
      let e = this.#existingTerms.get(key);
      if (!e) {
        if (sign < 0) return;
        e = { kind, term, weight, counts: new Map(), total: 0 };
        this.#existingTerms.set(key, e);
      }
      const n = (e.counts.get(v) ?? 0) + sign;
      if (n === 0) e.counts.delete(v);
      else e.counts.set(v, n);
      e.total += sign;
      if (e.total <= 0) this.#existingTerms.delete(key);
    };
    for (const t of p.requiredAntiAffinity) index('requiredAntiAffinity', t, 0);
    for (const t of p.requiredAffinity) index('requiredAffinity', t, 0);
    for (const w of p.preferredAffinity) index('preferred', w.term, w.weight);
    for (const w of p.preferredAntiAffinity) index('preferred', w.term, w.weight);
  }

  #forEachPod(ni: NodeInfo, fn: (p: PodInfo) => void): void {
    for (const p of ni.pods.values()) fn(p);
  }

  #countImages(ni: NodeInfo, sign: number): void {
    for (const img of ni.images.keys()) {
      const n = (this.#imageNodes.get(img) ?? 0) + sign;
      if (n <= 0) this.#imageNodes.delete(img);
      else this.#imageNodes.set(img, n);
    }
  }

  #nodeLabelsChanged(): void {
    this.#domains = new Map();
    // Counts are per topology value, which a relabelled node changes: rebuild them on next use.
    this.#termCounts = new Map();
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
