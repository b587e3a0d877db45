// Where the API server is and who we are to it: from a kubeconfig file (the same fields kubectl reads) or
// from inside a pod (the service account's token and CA, and the kubernetes Service's address in the env).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { yaml } from '../base/lazy-yaml.js';

/** What the REST client needs to reach and authenticate to one API server. */
export interface ClientConfig {
  /** Base URL, e.g. https://127.0.0.1:6443 or http://127.0.0.1:8080. */
  server: string;
  /** PEM CA bundle that signs the server's certificate; undefined means the system roots. */
  ca?: string;
  /** PEM client certificate and key for TLS client authentication. */
  cert?: string;
  key?: string;
  /** A bearer token. */
  token?: string;
  /** A file whose contents are the bearer token, re-read as it rotates (projected service account tokens). */
  tokenFile?: string;
  insecureSkipTLSVerify?: boolean;
  /** TLS server name to verify instead of the URL's host. */
  tlsServerName?: string;
  /** Client-side request rate; defaults 50 QPS with bursts of 100. */
  qps?: number;
  burst?: number;
  userAgent?: string;
  /** Per-request timeout in ms for non-watch requests (0: none). */
  timeoutMs?: number;
}

/** The error upstream's rest.InClusterConfig returns outside a pod. */
export class NotInClusterError extends Error {
  override readonly name = 'NotInClusterError';
  constructor() {
    super(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    );
  }
}

/** Where kubectl looks: the first file of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find((p) => p !== '');
  return first ?? path.join(homedir(), '.kube', 'config');
}

interface NamedEntry<T> {
  name?: string;
  cluster?: T;
  user?: T;
  context?: T;
}
interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}
interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
}
interface KubeconfigContext {
  cluster?: string;
  user?: string;
}
interface KubeconfigFile {
  'current-context'?: string;
  clusters?: NamedEntry<KubeconfigCluster>[];
  users?: NamedEntry<KubeconfigUser>[];
  contexts?: NamedEntry<KubeconfigContext>[];
}

/** Reads a kubeconfig file; relative file references resolve against the file's folder, as kubectl does. */
export function loadKubeconfig(
  file: string = defaultKubeconfigPath(),
  options: { context?: string } = {},
): ClientConfig {
  return parseKubeconfig(readFileSync(file, 'utf8'), path.dirname(path.resolve(file)), options);
}

/** Builds a config from kubeconfig text; `baseDir` anchors relative certificate and key paths. */
export function parseKubeconfig(
  text: string,
  baseDir: string,
  options: { context?: string } = {},
): ClientConfig {
  const doc = (yaml().parse(text) ?? {}) as KubeconfigFile;
  const contextName = options.context ?? doc['current-context'];
  if (!contextName) throw new Error('invalid configuration: no current-context is set');
  const ctx = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!ctx) throw new Error(`context "${contextName}" does not exist`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new Error(`cluster "${ctx.cluster ?? ''}" does not exist`);
  if (!cluster.server)
    throw new Error(`invalid configuration: no server found for cluster "${ctx.cluster ?? ''}"`);
  const user = (ctx.user !== undefined ? doc.users?.find((u) => u.name === ctx.user)?.user : undefined) ?? {};
  const resolve = (p: string): string => (path.isAbsolute(p) ? p : path.join(baseDir, p));
  const pem = (data: string | undefined, file: string | undefined): string | undefined =>
    data
      ? Buffer.from(data, 'base64').toString('utf8')
      : file
        ? readFileSync(resolve(file), 'utf8')
        : undefined;
  const config: ClientConfig = { server: cluster.server.replace(/\/+$/, '') };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca !== undefined) config.ca = ca;
  if (cluster['insecure-skip-tls-verify']) config.insecureSkipTLSVerify = true;
  if (cluster['tls-server-name']) config.tlsServerName = cluster['tls-server-name'];
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  if (cert !== undefined) config.cert = cert;
  if (key !== undefined) config.key = key;
  if (user.token) config.token = user.token;
  else if (user.tokenFile) config.tokenFile = resolve(user.tokenFile);
  return config;
}

/** The folder where the kubelet mounts a pod's service account credentials. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The config of a process running in a pod. `root` and `env` are for tests. */
export function inClusterConfig(options: { root?: string; env?: NodeJS.ProcessEnv } = {}): ClientConfig {
  const env = options.env ?? process.env;
  const dir = options.root ?? serviceAccountDir;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new NotInClusterError();
  const tokenFile = path.join(dir, 'token');
  // Fail now, as upstream does, rather than on the first request.
  readFileSync(tokenFile, 'utf8');
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const config: ClientConfig = { server: `https://${hostPart}:${port}`, tokenFile };
  try {
    config.ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
  } catch {
    // Upstream only logs a missing CA and falls back to the system roots.
  }
  return config;
}

/** The namespace of the pod we run in, from the service account mount; "default" outside a pod. */
export function inClusterNamespace(root: string = serviceAccountDir): string {
  try {
    const ns = readFileSync(path.join(root, 'namespace'), 'utf8').trim();
    return ns === '' ? 'default' : ns;
  } catch {
    return 'default';
  }
}
