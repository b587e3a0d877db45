// Which nodes a pod may go to, by the rules that the scheduler, the DaemonSet controller and the node
// controllers share (upstream keeps them in k8s.io/component-helpers/scheduling/corev1 and v1helper):
// tolerations against taints, and node selector terms against a node's labels and name.
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration } from 'kubernetes-types/core/v1.js';

/** Whether a toleration tolerates a taint (upstream's Toleration.ToleratesTaint). */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? 'Equal') {
    case 'Exists':
      return true;
    case 'Equal':
    case '':
      return (t.value ?? '') === (taint.value ?? '');
    default:
      return false;
  }
}

/** True when some toleration tolerates the taint. */
export function tolerationsTolerate(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The first taint none of the tolerations tolerates. */
export function findUntoleratedTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  return taints.find((taint) => !tolerationsTolerate(tolerations, taint));
}

/** One requirement against a value (undefined: the label is absent). Gt and Lt compare integers, as ParseInt reads them. */
function requirementMatches(req: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0]!)) return false;
      return req.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields (only metadata.name) do; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, nodeName))
  );
}

/** A NodeSelector matches when any of its terms does. */
export function nodeSelectorMatches(sel: NodeSelector, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  return sel.nodeSelectorTerms.some((t) => nodeSelectorTermMatches(t, labels, nodeName));
}
