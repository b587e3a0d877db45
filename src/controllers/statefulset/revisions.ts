// A StatefulSet's ControllerRevisions (upstream's pkg/controller/history and the statefulset controller's
// revision helpers): each revision stores the pod template as the patch {"spec":{"template":{...,
// "$patch":"replace"}}}, is named <set>-<hash> where the hash is FNV-32 over that patch plus the
// collision count (rendered in SafeEncodeString's alphabet), and carries a revision number.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../client/index.js';

/** The label holding the name of the revision a pod was made from. */
export const revisionLabel = 'controller-revision-hash';
/** The label holding a ControllerRevision's hash. */
export const revisionHashLabel = 'controller.kubernetes.io/hash';

const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

export type Revision = ControllerRevision & KubeObject;

/** The revision data of a template: upstream's getPatch. */
export function templatePatch(template: PodTemplateSpec | undefined): Record<string, unknown> {
  return { spec: { template: { ...canonical(template ?? {}) as Record<string, unknown>, $patch: 'replace' } } };
}

/** The template a revision stores. */
export function templateOf(rev: Revision): PodTemplateSpec {
  const data: unknown = rev.data;
  const t: Record<string, unknown> = (data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template ?? {};
  const { $patch: _patch, ...template } = t;
  const out: PodTemplateSpec = structuredClone(template);
  return out;
}

/** Upstream's HashControllerRevision: FNV-32 of the data, then the probe's decimal digits. */
export function hashRevision(data: unknown, probe: number | undefined): string {
  let h = 0x811c9dc5;
  const feed = (bytes: Uint8Array): void => {
    for (const b of bytes) h = (Math.imul(h, 0x01000193) ^ b) >>> 0;
  };
  feed(new TextEncoder().encode(JSON.stringify(canonical(data))));
  if (probe !== undefined) feed(new TextEncoder().encode(String(probe)));
  return [...String(h)].map((ch) => alphanums[ch.charCodeAt(0) % alphanums.length] ?? '').join('');
}

/** Whether two revisions store the same template. */
export function equalRevisions(a: Revision, b: Revision): boolean {
  return JSON.stringify(canonical(a.data)) === JSON.stringify(canonical(b.data));
}

/** Keys sorted, so that equal data serialize equally. */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
