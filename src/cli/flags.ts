import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/** A command's flags, as node:util parseArgs describes them, with help text. */
export type FlagSpec = Record<
  string,
  { type: 'string' | 'boolean'; default?: string | boolean; short?: string; help: string; multiple?: false }
>;

/** The flags every command takes. */
export const commonFlags: FlagSpec = {
  v: { type: 'string', default: '0', help: 'log verbosity (0: quiet, higher: more)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

/** Parses argv against a spec; unknown flags are an error, as in k3s. */
export function parseFlags(argv: string[], spec: FlagSpec): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options = Object.fromEntries(
    Object.entries({ ...commonFlags, ...spec }).map(([name, f]) => [
      name,
      { type: f.type, ...(f.default !== undefined ? { default: f.default } : {}), ...(f.short ? { short: f.short } : {}) },
    ]),
  );
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { values: values, positionals };
}

/** Formats a spec as the help text's flag table. */
export function flagHelp(spec: FlagSpec): string {
  const rows = Object.entries({ ...spec, ...commonFlags }).map(([name, f]) => {
    const left = `  ${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ' value' : ''}`;
    const def = f.default !== undefined && f.default !== '' && f.default !== false ? ` (default: ${String(f.default)})` : '';
    return `${left.padEnd(34)} ${f.help}${def}`;
  });
  return rows.join('\n');
}

/** The default data directory: /var/lib/k8ts for root, ~/.k8ts otherwise (as k3s uses /var/lib/rancher/k3s). */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/k8ts' : path.join(homedir(), '.k8ts');
}
