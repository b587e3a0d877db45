// Durations as upstream's tables show them (apimachinery's duration.HumanDuration): two or three
// significant figures, coarser as the duration grows ("45s", "2m30s", "95m", "5h10m", "3d4h", "400d",
// "2y30d"), with a two-second allowance for clocks that disagree.

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/** Format a duration given in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / second);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / minute);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / hour);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

// Go's zero time, which a Time field holds when it was never set; it prints as unknown, not as an age.
const zeroTime = Date.parse('0001-01-01T00:00:00Z');

/**
 * Parse an RFC 3339 Time or MicroTime into milliseconds, or undefined when absent or zero. Fractions beyond
 * milliseconds are dropped (MicroTime carries microseconds).
 */
export function parseTime(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const trimmed = value.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms) || ms === zeroTime) return undefined;
  return ms;
}

/** How long ago a timestamp was, as a table shows it: "<unknown>" for an absent timestamp. */
export function translateTimestampSince(value: string | undefined | null, now: number): string {
  const t = parseTime(value);
  return t === undefined ? '<unknown>' : humanDuration(now - t);
}
