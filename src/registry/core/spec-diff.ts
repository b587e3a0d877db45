// Comparing specs as upstream's apiequality.Semantic does, on decoded JSON: a missing field, null, an empty
// list or map and a zero value are the same thing (Go cannot tell them apart either), and the text of what
// differs for the "pod updates may not change ..." message.

/** Go's zero values and empty collections read as absent; object keys sorted. */
function normalize(v: unknown): unknown {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => normalize(x) ?? null);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalize((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/** Deep equality of two decoded JSON values, treating zero, null, empty and absent alike. */
export function semanticallyEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function leaves(v: unknown, path: string, out: Map<string, string>): void {
  if (v !== null && typeof v === 'object') {
    if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${path}[${i}]`, out));
    else for (const [k, x] of Object.entries(v)) leaves(x, path === '' ? k : `${path}.${k}`, out);
    return;
  }
  if (v !== undefined) out.set(path, JSON.stringify(v));
}

/**
 * A readable account of what differs between two specs, one "-" line for each old value and one "+" line for
 * each new one, framed like the go-cmp diff upstream prints (whose exact layout we do not reproduce).
 */
export function specDiff(typeName: string, oldSpec: unknown, newSpec: unknown): string {
  const before = new Map<string, string>();
  const after = new Map<string, string>();
  leaves(normalize(oldSpec), '', before);
  leaves(normalize(newSpec), '', after);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const lines = [`  ${typeName}{`];
  for (const p of paths) {
    const o = before.get(p);
    const n = after.get(p);
    if (o === n) continue;
    if (o !== undefined) lines.push(`- \t${p}: ${o}`);
    if (n !== undefined) lines.push(`+ \t${p}: ${n}`);
  }
  lines.push('  }');
  return lines.join('\n') + '\n';
}
