// The `k8ts` command: parses the subcommand and its flags, and wires the components each subcommand runs.
import { configureLogging } from '../base/log.js';
import { agentCommand, agentFlags, tokenCreateCommand, tokenCreateFlags } from './commands/agent.js';
import { imagesImportFlags, runtimeFlags } from './commands/runtime-flags.js';
import { schedulerFlags } from './commands/scheduler-flags.js';
import { serverCommand, serverFlags } from './commands/server.js';
import { storeCheckCommand } from './commands/store-check.js';
import { versionCommand } from './commands/version.js';
import type { FlagSpec } from './flags.js';
import { flagHelp, parseFlags } from './flags.js';

interface Command {
  summary: string;
  flags: FlagSpec;
  run(
    values: Record<string, string | boolean | undefined>,
    io: { out: (s: string) => void; signal: AbortSignal; args: string[] },
  ): Promise<number>;
}

// Commands whose modules are heavy (the runtime, the scheduler) are loaded when they run.
const commands: Record<string, Command> = {
  server: {
    summary: 'Run the control plane (store now; API server, scheduler and controllers as they land)',
    flags: serverFlags,
    run: (values, io) => serverCommand(values, io.signal),
  },
  scheduler: {
    summary:
      'Run the scheduler alone against an API server (a second, custom scheduler, or a split control plane)',
    flags: schedulerFlags,
    run: async (values, io) => (await import('./commands/scheduler.js')).schedulerCommand(values, io.signal),
  },
  agent: {
    summary: 'Join this machine (and/or simulated nodes) to a cluster and run its kubelet',
    flags: agentFlags,
    run: (values, io) => agentCommand(values, io.signal),
  },
  'token create': {
    summary: "Print the server's join token for k8ts agent --token",
    flags: tokenCreateFlags,
    run: (values, io) => tokenCreateCommand(values, io.out),
  },
  'store check': {
    summary: 'Smoke-test a datastore through the store contract',
    flags: { 'data-dir': serverFlags['data-dir']!, 'datastore-endpoint': serverFlags['datastore-endpoint']! },
    run: (values, io) => storeCheckCommand(values, io.out),
  },
  runtime: {
    summary: 'Run the built-in container runtime, serving CRI on a unix socket',
    flags: runtimeFlags,
    run: async (values, io) => (await import('./commands/runtime.js')).runtimeCommand(values, io.signal),
  },
  'images import': {
    summary: 'Import image archives (OCI layout or docker save) into the runtime',
    flags: imagesImportFlags,
    run: async (values, io) =>
      (await import('./commands/runtime.js')).imagesImportCommand(values, io.args, io.out),
  },
  version: {
    summary: 'Print the version',
    flags: {},
    run: (_values, io) => Promise.resolve(versionCommand(io.out)),
  },
};

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return `k8ts: Kubernetes, written in TypeScript\n\nUsage: k8ts COMMAND [flags]\n\nCommands:\n${rows.join('\n')}\n\nRun 'k8ts COMMAND --help' for a command's flags.`;
}

/** Runs the CLI with the arguments after the program name; resolves to the exit code. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s + '\n'),
): Promise<number> {
  const err = (s: string): void => void process.stderr.write(s + '\n');
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    out(usage());
    return argv.length === 0 ? 1 : 0;
  }
  const name =
    argv[1] !== undefined && commands[`${argv[0]} ${argv[1]}`] ? `${argv[0]} ${argv[1]}` : argv[0]!;
  const command = commands[name];
  if (!command) {
    err(`k8ts: unknown command "${argv[0]}"\n\n${usage()}`);
    return 1;
  }
  let parsed;
  try {
    parsed = parseFlags(argv.slice(name.split(' ').length), command.flags);
  } catch (e) {
    err(`k8ts ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  if (parsed.values.help) {
    out(`Usage: k8ts ${name} [flags]\n\n${command.summary}\n\nFlags:\n${flagHelp(command.flags)}`);
    return 0;
  }
  configureLogging({ verbosity: Number(parsed.values.v ?? 0) || 0 });
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    return await command.run(parsed.values, { out, signal: ac.signal, args: parsed.positionals });
  } catch (e) {
    err(`k8ts ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

// Run directly (`node --import tsx src/cli/main.ts ...`), not when imported by bin/k8ts.js or a test.
if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
