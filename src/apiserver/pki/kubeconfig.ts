// Kubeconfig files (client-go's clientcmd v1 Config): the admin's, written on the server's first start as
// k3s writes k3s.yaml (everything named "default", credentials embedded, mode 0600), and read back by our
// own clients with the parts of clientcmd's rules they need: current-context, *-data or a file path
// (relative to the kubeconfig's folder), token or tokenFile, namespace defaulting to "default".
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { yaml } from '../../base/lazy-yaml.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** What a kubeconfig for one user of one cluster holds. */
export interface KubeconfigSpec {
  /** The API server's URL, e.g. https://127.0.0.1:6443. */
  server: string;
  /** PEM of the CA(s) that signed the server's certificate. */
  certificateAuthorityPem: string;
  clientCertificatePem: string;
  clientKeyPem: string;
  /** The name of the cluster, user and context; k3s calls all three "default". */
  name?: string;
}

/** What a client needs from a kubeconfig's chosen context, with file references already read. */
export interface KubeconfigClient {
  context: string;
  cluster: string;
  user: string;
  server: string;
  namespace: string;
  certificateAuthorityPem?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  clientCertificatePem?: string;
  clientKeyPem?: string;
  token?: string;
  username?: string;
  password?: string;
}

/** Writes a kubeconfig with embedded credentials, readable by its owner only (its folder made if need be); returns its absolute path. */
export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<string> {
  const name = spec.name ?? 'default';
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  // Keys in the order client-go writes them (sorted), so that files look like the ones kubectl writes. The
  // text is what the yaml package would write for this document (kubeconfig.test.ts checks it), written here
  // so that a server start need not load that package.
  const n = scalar(name);
  const text = [
    'apiVersion: v1',
    'clusters:',
    '  - cluster:',
    `      certificate-authority-data: ${b64(spec.certificateAuthorityPem)}`,
    `      server: ${scalar(spec.server)}`,
    `    name: ${n}`,
    'contexts:',
    '  - context:',
    `      cluster: ${n}`,
    `      user: ${n}`,
    `    name: ${n}`,
    `current-context: ${n}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `  - name: ${n}`,
    '    user:',
    `      client-certificate-data: ${b64(spec.clientCertificatePem)}`,
    `      client-key-data: ${b64(spec.clientKeyPem)}`,
    '',
  ].join('\n');
  const resolved = path.resolve(file);
  await mkdir(path.dirname(resolved), { recursive: true });
  await writeFileAtomic(resolved, text, 0o600);
  return resolved;
}

/** A YAML scalar for a string: plain when it cannot be read as anything else, else double-quoted (JSON). */
function scalar(value: string): string {
  const plain = /^[A-Za-z][A-Za-z0-9._/:@+=-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(value) && !/: |:$/.test(value);
  return plain ? value : JSON.stringify(value);
}

/** Reads a kubeconfig file and resolves the given context (default: its current-context). */
export async function readKubeconfig(
  file: string,
  options: { context?: string } = {},
): Promise<KubeconfigClient> {
  const text = await readFile(file, 'utf8');
  return resolveKubeconfig(text, path.dirname(path.resolve(file)), options);
}

/** Resolves a context of kubeconfig text; relative file references are taken from `baseDir`. */
export async function resolveKubeconfig(
  text: string,
  baseDir: string,
  options: { context?: string } = {},
): Promise<KubeconfigClient> {
  const config = asRecord(yaml().parse(text) as unknown);
  const contextName = options.context ?? str(config['current-context']);
  if (contextName === undefined || contextName === '') {
    throw new Error('invalid configuration: no configuration has been provided');
  }
  const context = named(config, 'contexts', 'context', contextName);
  if (context === undefined) throw new Error(`context was not found for specified context: ${contextName}`);
  const clusterName = str(context.cluster) ?? '';
  const userName = str(context.user) ?? '';
  const cluster = named(config, 'clusters', 'cluster', clusterName);
  if (cluster === undefined)
    throw new Error(`cluster "${clusterName}" not found for context "${contextName}"`);
  const server = str(cluster.server);
  if (server === undefined || server === '')
    throw new Error(`cluster "${clusterName}" has no server defined`);
  const user = named(config, 'users', 'user', userName) ?? {};

  const read = async (
    dataKey: string,
    fileKey: string,
    from: Record<string, unknown>,
  ): Promise<string | undefined> => {
    const data = str(from[dataKey]);
    if (data !== undefined && data !== '') return Buffer.from(data, 'base64').toString('utf8');
    const ref = str(from[fileKey]);
    if (ref === undefined || ref === '') return undefined;
    return readFile(path.resolve(baseDir, ref), 'utf8');
  };
  const tokenFile = str(user.tokenFile);
  const token =
    str(user.token) ||
    (tokenFile ? (await readFile(path.resolve(baseDir, tokenFile), 'utf8')).trim() : undefined) ||
    undefined;
  return {
    context: contextName,
    cluster: clusterName,
    user: userName,
    server,
    namespace: str(context.namespace) || 'default',
    certificateAuthorityPem: await read('certificate-authority-data', 'certificate-authority', cluster),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster['tls-server-name']) || undefined,
    clientCertificatePem: await read('client-certificate-data', 'client-certificate', user),
    clientKeyPem: await read('client-key-data', 'client-key', user),
    token,
    username: str(user.username) || undefined,
    password: str(user.password) || undefined,
  };
}

/** The inner object of the entry called `name` in one of a kubeconfig's named lists. */
function named(
  config: Record<string, unknown>,
  list: string,
  field: string,
  name: string,
): Record<string, unknown> | undefined {
  const entries = Array.isArray(config[list]) ? (config[list] as unknown[]) : [];
  for (const entry of entries) {
    const e = asRecord(entry);
    if (e.name === name) return asRecord(e[field]);
  }
  return undefined;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
