import { k8tsVersion, kubernetesVersion } from '../version.js';

/** `k8ts version`: what k8ts is, which Kubernetes API it serves, on which Node.js. */
export function versionCommand(out: (s: string) => void): number {
  out(`k8ts version ${k8tsVersion()} (Kubernetes ${kubernetesVersion})\nnode version ${process.version}`);
  return 0;
}
