import { runProgram, StartError } from '../spawner.js';

/** What a finished command printed. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (no shell) and resolves when it exits 0; otherwise rejects with an Error carrying its
 * stderr. Node has no mknod, setxattr or mount, so these few system calls go through their commands. The
 * program is started by the spawner's helper process (spawner.ts), which is much cheaper than Node's spawn.
 */
export async function execFileChecked(
  file: string,
  args: string[],
  options: { cwd?: string; input?: string | Buffer } = {},
): Promise<ExecResult> {
  let exit;
  try {
    exit = await runProgram(file, args, {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.input === undefined ? {} : { input: options.input }),
    });
  } catch (e) {
    if (e instanceof StartError && e.code === 'ENOENT') throw new Error(`${file} is not installed (${e.message})`);
    throw e;
  }
  const stdout = exit.stdout.toString('utf8');
  const stderr = exit.stderr.toString('utf8');
  if (exit.code === 0) return { stdout, stderr };
  throw new Error(`${file} ${args.join(' ')}: ${exit.signal ?? `exit status ${exit.code}`}: ${stderr.trim()}`);
}
