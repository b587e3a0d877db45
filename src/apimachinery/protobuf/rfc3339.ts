// metav1.Time and metav1.MicroTime travel in protobuf as Unix seconds and nanoseconds and in JSON as
// RFC 3339 text in UTC: whole seconds for Time, six fraction digits for MicroTime (Go's time.RFC3339 and
// metav1.RFC3339Micro layouts).

// Go's zero time.Time (January 1, year 1) in Unix seconds: a Timestamp carrying it is the zero value.
export const goZeroTimeSeconds = -62135596800;

const pattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** The JSON text of a time: "2006-01-02T15:04:05Z", or with `micros` "2006-01-02T15:04:05.000000Z". */
export function formatRFC3339(seconds: number, nanos: number, micros: boolean): string {
  const d = new Date(seconds * 1000);
  const year = d.getUTCFullYear();
  const date = `${String(year).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const fraction = micros ? `.${String(Math.floor(nanos / 1000)).padStart(6, '0')}` : '';
  return `${date}T${time}${fraction}Z`;
}

/** Unix seconds and nanoseconds of an RFC 3339 time, or undefined if the text is not one. */
export function parseRFC3339(text: string): { seconds: number; nanos: number } | undefined {
  const m = pattern.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  if (date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second, 0);
  let seconds = date.getTime() / 1000;
  if (z === undefined) {
    const offset = Number(oh) * 3600 + Number(om) * 60;
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    seconds -= sign === '-' ? -offset : offset;
  }
  const nanos = frac === undefined ? 0 : Number(frac.padEnd(9, '0'));
  return { seconds, nanos };
}
