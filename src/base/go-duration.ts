// Go's time.Duration text ("10s", "1m20s", "5m0s"), as upstream's messages print backoff delays.

/** Formats whole-second-or-longer durations as Go does (sub-second ones as ms). */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const total = ms / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Math.round((total % 60) * 1000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
