// Completion indexes of Indexed Jobs: the text form of status.completedIndexes ("1,3-5,7": three or more
// consecutive indexes collapse into a range) and the completion index a pod carries in its annotation.
import type { KubeObject } from '../../client/index.js';

/** The annotation (and label) holding an Indexed Job pod's completion index. */
export const completionIndexAnnotation = 'batch.kubernetes.io/job-completion-index';

/** A pod's completion index, or undefined when it has none or it is not a valid non-negative integer. */
export function completionIndexOf(pod: KubeObject): number | undefined {
  const v = pod.metadata?.annotations?.[completionIndexAnnotation];
  if (v === undefined || !/^(0|[1-9][0-9]{0,8})$/.test(v)) return undefined;
  return Number(v);
}

/** Parses "1,3-5,7" into a set, ignoring malformed parts and indexes at or above `completions`. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (!text) return out;
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let i = first; i <= last && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes in increasing order, three or more consecutive ones as "first-last". */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}
