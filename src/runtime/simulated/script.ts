// The command language of the simulated runtime ("simsh"): a container "runs" its command without any
// process, reading it as a tiny subset of sh. See docs/simulated-runtime.md.

/** One step of a simulated script. */
export type Step =
  | { op: 'sleep'; seconds: number }
  | { op: 'exit'; code: number }
  | { op: 'touch'; path: string }
  | { op: 'rm'; path: string }
  | { op: 'echo'; text: string }
  | { op: 'test'; path: string }
  | { op: 'forever' };

const shells = new Set(['sh', '/bin/sh', 'bash', '/bin/bash', 'ash', '/bin/ash']);

/** The script text of a command line: the argument of `sh -c`, or the words joined. */
export function scriptOf(argv: readonly string[]): string {
  if (argv.length >= 3 && shells.has(argv[0]!) && argv[1] === '-c') return argv[2]!;
  return argv.join(' ');
}

function unquote(s: string): string {
  const t = s.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/**
 * Parses a script into steps. Known words: sleep N|infinity, exit N, true, false, touch F, rm [-f] F,
 * echo TEXT, cat|test -f|test -e|ls F (succeed when F exists). Any other command is a program that runs
 * until stopped: the script stops there with a `forever` step.
 */
export function parseScript(text: string): Step[] {
  const steps: Step[] = [];
  // No command at all: the image's own entrypoint, a server that runs until stopped.
  if (text.trim() === '') return [{ op: 'forever' }];
  for (const raw of text.split(/;|&&|\n/)) {
    const part = raw.trim();
    if (part === '') continue;
    const words = part.split(/\s+/);
    const [cmd, ...rest] = words as [string, ...string[]];
    switch (cmd) {
      case 'sleep': {
        const a = rest[0] ?? '0';
        const seconds = a === 'infinity' ? Infinity : Number.parseFloat(a);
        steps.push({ op: 'sleep', seconds: Number.isFinite(seconds) || seconds === Infinity ? seconds : 0 });
        break;
      }
      case 'exit':
        steps.push({ op: 'exit', code: Number.parseInt(rest[0] ?? '0', 10) || 0 });
        return steps;
      case 'true':
      case ':':
        break;
      case 'false':
        steps.push({ op: 'exit', code: 1 });
        return steps;
      case 'touch':
        for (const p of rest) steps.push({ op: 'touch', path: p });
        break;
      case 'rm':
        for (const p of rest.filter((w) => !w.startsWith('-'))) steps.push({ op: 'rm', path: p });
        break;
      case 'echo':
        steps.push({ op: 'echo', text: unquote(part.slice(4)) });
        break;
      case 'cat':
      case 'ls':
      case 'stat':
      case 'test':
      case '[':
        steps.push({ op: 'test', path: rest.filter((w) => !w.startsWith('-') && w !== ']').at(-1) ?? '' });
        break;
      default:
        steps.push({ op: 'forever' });
        return steps;
    }
  }
  return steps;
}
