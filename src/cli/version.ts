import { readFileSync } from 'node:fs';

/** The Kubernetes release whose API k8ts serves. */
export const kubernetesVersion = 'v1.33.0';

/** k8ts's own version, from package.json (two levels up from both src/cli and dist/cli). */
export function k8tsVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `v${pkg.version}`;
}
