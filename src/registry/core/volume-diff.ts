// The change listing upstream appends to "is immutable" messages of volumes and claims. Upstream prints a
// go-cmp diff of the Go structs; ours lists each changed top-level field as removed and added JSON.
import { byteOrder } from './kube-validation.js';

/** Lines naming what differs between two specs, under the Go type name upstream shows. */
export function specDiff(
  typeName: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(byteOrder);
  const lines = [`  ${typeName}{`];
  for (const k of keys) {
    const a = JSON.stringify(before[k] ?? null);
    const b = JSON.stringify(after[k] ?? null);
    if (a === b) continue;
    lines.push(`- \t${k}: ${a},`, `+ \t${k}: ${b},`);
  }
  lines.push('  }');
  return lines.join('\n') + '\n';
}
