import { spawn } from 'node:child_process';

/** What a finished command printed. */
export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (no shell) and resolves when it exits 0; otherwise rejects with an Error carrying its
 * stderr. Node has no mknod, setxattr or mount, so these few system calls go through their commands.
 */
export function execFileChecked(
  file: string,
  args: string[],
  options: { cwd?: string; input?: string | Buffer } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? new Error(`${file} is not installed (${e.message})`) : e);
    });
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) resolve({ stdout, stderr });
      else
        reject(new Error(`${file} ${args.join(' ')}: ${signal ?? `exit status ${code}`}: ${stderr.trim()}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
