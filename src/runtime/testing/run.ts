import { spawn } from 'node:child_process';

/** Runs a command (no shell), resolving with its stdout; rejects with its stderr when it exits non-zero. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`,
          ),
        );
    });
  });
}
