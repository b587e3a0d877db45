// The pod-template-hash of a Deployment's ReplicaSet (upstream's controller.ComputeHash): FNV-32a over a
// deterministic dump of the pod template plus the collision count, rendered in the alphabet upstream's
// rand.SafeEncodeString uses (no vowels, no digits easily confused with letters). The dump is canonical
// JSON with sorted keys rather than upstream's spew output, so the hashes differ from upstream's.

/** SafeEncodeString's alphabet. */
const alphanums = 'bcdfghjklmnpqrstvwxz2456789';

/** The hash label value for a pod template and the deployment's status.collisionCount. */
export function computeHash(template: unknown, collisionCount: number | undefined): string {
  const bytes = [...new TextEncoder().encode(canonicalJson(template))];
  if (collisionCount !== undefined && collisionCount > 0) {
    // Eight bytes, the count little-endian in the first four, as upstream writes it.
    const c = collisionCount >>> 0;
    bytes.push(c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, (c >>> 24) & 0xff, 0, 0, 0, 0);
  }
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  // Upstream encodes the decimal rendering of the sum, one character per digit.
  return [...String(h)].map((ch) => alphanums[ch.charCodeAt(0) % alphanums.length] ?? '').join('');
}

function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val)
      ? Object.fromEntries(
          Object.entries(val as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
        )
      : val,
  );
}
