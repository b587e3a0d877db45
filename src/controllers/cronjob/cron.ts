// Cron schedules as the CronJob controller reads them (the semantics of robfig/cron's ParseStandard, which
// upstream uses): five fields (minute, hour, day of month, month, day of week) with lists, ranges, steps,
// '*' and '?', month and weekday names; the @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly
// descriptors and "@every <duration>"; an optional TZ= or CRON_TZ= prefix naming the zone. When both day
// fields are restricted a day matches either; when one is '*' both must match. next() walks wall-clock
// fields in the schedule's zone (Intl, full ICU in Node 20) and gives up after five years, as robfig does.

export interface CronSchedule {
  /** The first activation strictly after `afterMs` (whole minutes), or undefined when there is none. */
  next(afterMs: number): number | undefined;
  /** The zone the schedule's fields are read in. */
  readonly timeZone: string;
}

interface Field {
  bits: Set<number>;
  /** '*' or '?' without a step: the day-of-month/day-of-week rule treats it as unrestricted. */
  star: boolean;
}

interface Bounds {
  min: number;
  max: number;
  names?: Readonly<Record<string, number>>;
}

const bounds: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } },
  { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } },
];

const descriptors: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** The zone the process runs in, which upstream uses when a CronJob names none. */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Whether Intl knows the zone (upstream loads it from the tz database). */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses a schedule; throws an Error with a robfig-like message when it is invalid. */
export function parseCron(input: string, defaultZone = 'UTC'): CronSchedule {
  let spec = input.trim();
  let zone = defaultZone;
  if (spec === '') throw new Error('empty spec string');
  const tz = /^(?:CRON_)?TZ=(\S+)\s*(.*)$/.exec(spec);
  if (tz) {
    if (!isKnownTimeZone(tz[1]!)) throw new Error(`provided bad location ${tz[1]}: unknown time zone ${tz[1]}`);
    zone = tz[1]!;
    spec = tz[2]!.trim();
  }
  if (zone === 'Local') zone = localTimeZone();
  if (spec.startsWith('@every ')) {
    const ms = parseDuration(spec.slice('@every '.length).trim());
    if (ms === undefined) throw new Error(`failed to parse duration ${spec}`);
    // robfig rounds the interval to whole seconds, at least one.
    const every = Math.max(1000, Math.floor(ms / 1000) * 1000);
    return { timeZone: zone, next: (after) => Math.floor(after / 1000) * 1000 + every };
  }
  if (spec.startsWith('@')) {
    const d = descriptors[spec];
    if (!d) throw new Error(`unrecognized descriptor: ${spec}`);
    spec = d;
  }
  const parts = spec.split(/\s+/).filter((p) => p !== '');
  if (parts.length !== 5) throw new Error(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const fields = parts.map((p, i) => parseField(p, bounds[i]!));
  return new FieldSchedule(fields as [Field, Field, Field, Field, Field], zone);
}

function parseField(text: string, b: Bounds): Field {
  const bits = new Set<number>();
  let star = false;
  for (const expr of text.split(',')) {
    if (expr === '') continue;
    const [range, stepText, ...more] = expr.split('/');
    if (more.length > 0) throw new Error(`too many slashes: ${expr}`);
    const lowHigh = range!.split('-');
    let start: number;
    let end: number;
    let isStar = false;
    if (lowHigh[0] === '*' || lowHigh[0] === '?') {
      start = b.min;
      end = b.max;
      isStar = true;
    } else {
      if (lowHigh.length > 2) throw new Error(`too many hyphens: ${expr}`);
      start = value(lowHigh[0]!, b);
      end = lowHigh.length === 2 ? value(lowHigh[1]!, b) : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      step = number(stepText);
      if (lowHigh.length === 1 && !isStar) end = b.max;
      if (step > 1) isStar = false;
    }
    if (start < b.min) throw new Error(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
    if (end > b.max) throw new Error(`end of range (${end}) above maximum (${b.max}): ${expr}`);
    if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
    if (step === 0) throw new Error(`step of range should be a positive number: ${expr}`);
    for (let v = start; v <= end; v += step) bits.add(v);
    if (isStar) star = true;
  }
  return { bits, star };
}

function value(text: string, b: Bounds): number {
  return b.names?.[text.toLowerCase()] ?? number(text);
}

function number(text: string): number {
  if (!/^[0-9]+$/.test(text)) throw new Error(`failed to parse int from ${text}: strconv.Atoi: parsing "${text}": invalid syntax`);
  return Number(text);
}

/** Go's time.ParseDuration for the units cron intervals use; undefined when it does not parse. */
function parseDuration(s: string): number | undefined {
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = s;
  let total = 0;
  if (rest === '') return undefined;
  while (rest !== '') {
    const m = /^([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time of an instant in a zone, as milliseconds of a naive UTC date. */
export function wallClock(ms: number, zone: string): number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return ms;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(ms)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute, p.second) + (ms % 1000 + 1000) % 1000;
}

/** The zone's offset from UTC at an instant, in milliseconds. */
export function zoneOffsetMs(ms: number, zone: string): number {
  return wallClock(ms, zone) - ms;
}

class FieldSchedule implements CronSchedule {
  private readonly f: [Field, Field, Field, Field, Field];
  readonly timeZone: string;

  constructor(f: [Field, Field, Field, Field, Field], timeZone: string) {
    this.f = f;
    this.timeZone = timeZone;
  }

  next(afterMs: number): number | undefined {
    const [minute, hour, dom, month, dow] = this.f;
    let w = Math.floor(wallClock(afterMs, this.timeZone) / 60_000) * 60_000 + 60_000;
    const limitYear = new Date(w).getUTCFullYear() + 5;
    for (;;) {
      const d = new Date(w);
      const y = d.getUTCFullYear();
      if (y > limitYear) return undefined;
      const mo = d.getUTCMonth();
      const day = d.getUTCDate();
      const h = d.getUTCHours();
      if (!month.bits.has(mo + 1)) {
        w = Date.UTC(y, mo + 1, 1);
        continue;
      }
      const domMatch = dom.bits.has(day);
      const dowMatch = dow.bits.has(d.getUTCDay());
      const dayOk = dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
      if (!dayOk) {
        w = Date.UTC(y, mo, day + 1);
        continue;
      }
      if (!hour.bits.has(h)) {
        w = Date.UTC(y, mo, day, h + 1);
        continue;
      }
      if (!minute.bits.has(d.getUTCMinutes())) {
        w += 60_000;
        continue;
      }
      const instant = this.toInstant(w);
      // A wall time the zone skips (spring forward) never comes; one it repeats may lie before `after`.
      if (instant <= afterMs || Math.floor(wallClock(instant, this.timeZone) / 60_000) * 60_000 !== w) {
        w += 60_000;
        continue;
      }
      return instant;
    }
  }

  private toInstant(wall: number): number {
    if (this.timeZone === 'UTC' || this.timeZone === 'Etc/UTC') return wall;
    const guess = wall - zoneOffsetMs(wall, this.timeZone);
    return wall - zoneOffsetMs(guess, this.timeZone);
  }
}
