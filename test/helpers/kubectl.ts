// Runs real kubectl binaries against a k8ts server, for end-to-end tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The kubectl of a minor version (1.27–1.33) as installed on the test machines. */
export function kubectlPath(minor: number): string {
  const p = `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
  if (!existsSync(p)) throw new Error(`kubectl 1.${minor} is missing: expected ${p} (google-cloud-sdk's kubectl packages)`);
  return p;
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with a kubeconfig, optionally feeding stdin; never throws on a non-zero exit. */
export function kubectl(binary: string, kubeconfig: string, args: string[], stdin?: string, timeoutMs = 60_000): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      env: { ...process.env, KUBECONFIG: kubeconfig, HOME: process.env.HOME ?? '/root', KUBECTL_KUBERC: 'false' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? '');
  });
}
