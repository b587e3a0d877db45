// `k8ts agent --server URL --token TOKEN`: joins this machine (and/or simulated nodes) to a cluster. The
// agent fetches the server CA from /cacerts, checks it against the hash the token pins, then asks the
// server for a client certificate for system:node:<name> with the token's credentials, and runs kubelets.
// `k8ts token create` prints the token of a server from its data directory.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { parseJoinToken, validateCABundle } from '../../apiserver/pki/join-token.js';
import { caCertsPath, clientCACertPath, ensureServerTokenSecret, kubeletServingCertPath, nodeCertPath, serverJoinToken } from '../../apiserver/pki/node-join.js';
import { serverCertFiles } from '../../apiserver/pki/server-certs.js';
import type { Logger } from '../../base/log.js';
import { logger } from '../../base/log.js';
import type { ClientConfig } from '../../client/index.js';
import { RESTClient } from '../../client/index.js';
import type { FlagSpec } from '../flags.js';
import { defaultDataDir } from '../flags.js';
import { kubernetesVersion } from '../version.js';
import type { KubeletServing } from './kubelets.js';
import { kubeletFlags, startKubelets } from './kubelets.js';

/** `k8ts agent`'s flags (k3s's names). */
export const agentFlags: FlagSpec = {
  server: { type: 'string', short: 's', help: 'the server to join: https://host:6443', default: '' },
  token: { type: 'string', short: 't', help: 'the join token (k8ts token create)', default: '' },
  'data-dir': { type: 'string', short: 'd', help: 'folder that holds the agent state', default: '' },
  // The server defines these two for its DNS; an agent's kubelet only points pods at it.
  'cluster-dns': { type: 'string', help: 'DNS server IPs for ClusterFirst pods, comma-separated', default: '10.43.0.10' },
  'cluster-domain': { type: 'string', help: "the cluster's DNS domain", default: 'cluster.local' },
  // kube-proxy programs this machine's nftables for the cluster's Services, as on the server.
  'cluster-cidr': { type: 'string', help: "the cluster's pod ranges (traffic from elsewhere to a cluster IP is masqueraded)", default: '10.42.0.0/16,fd42::/48' },
  'disable-kube-proxy': { type: 'boolean', help: 'do not run kube-proxy (it programs the nftables tables ip/ip6 k8ts-proxy)' },
  ...kubeletFlags,
};

function get(url: string, options: { ca?: string; insecure?: boolean; headers?: Record<string, string> }): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: options.headers ?? {}, ...(options.ca ? { ca: options.ca } : {}), rejectUnauthorized: !options.insecure, timeout: 30_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Fetches the server CA and checks it against the hash the token pins. */
async function verifiedServerCA(base: string, token: string): Promise<string> {
  // The CA is not trusted yet: read it without verification, then pin it by the token's hash.
  const ca = await get(base + caCertsPath, { insecure: true });
  if (ca.code !== 200) throw new Error(`GET ${caCertsPath}: HTTP ${ca.code}`);
  validateCABundle(parseJoinToken(token), ca.body);
  return ca.body;
}

/** GETs a join endpoint with the token's credentials for `nodeName`; returns the body. */
async function joinGet(base: string, ca: string, token: string, nodeName: string, what: string, headers: Record<string, string> = {}): Promise<string> {
  const c = parseJoinToken(token).credentials;
  const basic = c.kind === 'password' ? `${c.username}:${c.password}` : `${c.id}:${c.secret}`;
  const r = await get(base + what, { ca, headers: { Authorization: `Basic ${Buffer.from(basic).toString('base64')}`, 'K8ts-Node-Name': nodeName, ...headers } });
  if (r.code !== 200) throw new Error(`GET ${what}: HTTP ${r.code}: ${r.body.trim()}`);
  return r.body;
}

/** Splits "CERT PEM + KEY PEM" as the join endpoints answer them. */
function certAndKey(body: string): { cert: string; key: string } {
  const keyAt = body.indexOf('-----BEGIN', body.indexOf('-----END CERTIFICATE-----'));
  return { cert: body.slice(0, keyAt), key: body.slice(keyAt) };
}

/** Fetches and checks the server CA, then gets a node client certificate; returns a client config. */
export async function joinCluster(server: string, token: string, nodeName: string): Promise<ClientConfig> {
  const base = server.replace(/\/+$/, '');
  const ca = await verifiedServerCA(base, token);
  return { server: base, ca, ...certAndKey(await joinGet(base, ca, token, nodeName, nodeCertPath)) };
}

/** Gets the kubelet server's certificate (for the node's name and addresses) and the CA of its callers, as k3s's agent does. */
export async function kubeletServingFromServer(server: string, token: string, nodeName: string, addresses: string[]): Promise<KubeletServing> {
  const base = server.replace(/\/+$/, '');
  const ca = await verifiedServerCA(base, token);
  const { cert, key } = certAndKey(await joinGet(base, ca, token, nodeName, kubeletServingCertPath, { 'K8ts-Node-IP': addresses.join(',') }));
  return { cert, key, clientCA: await joinGet(base, ca, token, nodeName, clientCACertPath) };
}

/** `k8ts agent`: runs until SIGTERM or SIGINT. */
export async function agentCommand(values: Record<string, string | boolean | undefined>, signal: AbortSignal): Promise<number> {
  const log = logger('agent');
  const server = (values.server as string) || '';
  const token = (values.token as string) || '';
  if (server === '' || token === '') throw new Error('--server and --token are required');
  const dataDir = path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'agent'));
  const configs = new Map<string, Promise<ClientConfig>>();
  // One certificate per identity: this machine's node, and one shared by a simulated fleet.
  const clientConfig = (nodeName: string): Promise<ClientConfig> => {
    const name = nodeName === 'simulated' ? `${(values['simulated-node-prefix'] as string) || 'sim-node'}-fleet` : nodeName;
    let p = configs.get(name);
    if (!p) {
      p = joinCluster(server, token, name);
      configs.set(name, p);
    }
    return p;
  };
  const endpoint = (values['container-runtime-endpoint'] as string) || '';
  if (endpoint === '' && Number(values['simulate-nodes'] ?? 0) === 0) throw new Error('nothing to run: give --container-runtime-endpoint and/or --simulate-nodes N');
  const serving = (nodeName: string, addresses: string[]): Promise<KubeletServing> => kubeletServingFromServer(server, token, nodeName, addresses);
  const running = startKubelets(values, clientConfig, dataDir, log, signal, { serving });
  // kube-proxy, for this machine only (simulated nodes have no network to program), as the node's identity.
  if (endpoint !== '' && values['disable-kube-proxy'] !== true) running.push(runKubeProxy(values, clientConfig, signal, log));
  log.info('agent started', { server, node: (values['node-name']) || os.hostname(), simulated: Number(values['simulate-nodes'] ?? 0) });
  const results = await Promise.allSettled(running);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
  return 0;
}

/** Runs kube-proxy for this machine's node until the signal aborts. */
async function runKubeProxy(
  values: Record<string, string | boolean | undefined>,
  clientConfig: (nodeName: string) => Promise<ClientConfig>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const nodeName = ((values['node-name'] as string) || os.hostname()).toLowerCase();
  const client = new RESTClient({ ...(await clientConfig(nodeName)), userAgent: `kube-proxy/${kubernetesVersion}` });
  const clusterCIDRs = String(values['cluster-cidr'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const { Proxier } = await import('../../proxy/proxier.js');
  try {
    await new Proxier({ client, nodeName, clusterCIDRs, log: log.with({ component: 'kube-proxy' }) }).run(signal);
  } finally {
    client.close();
  }
}

/** `k8ts token create`: prints the server's join token. */
export const tokenCreateFlags: FlagSpec = {
  'data-dir': { type: 'string', short: 'd', help: 'the server data directory', default: '' },
};

export async function tokenCreateCommand(values: Record<string, string | boolean | undefined>, out: (s: string) => void): Promise<number> {
  const dataDir = path.resolve((values['data-dir'] as string) || path.join(defaultDataDir(), 'server'));
  const caPem = await readFile(serverCertFiles(path.join(dataDir, 'tls')).serverCaCert, 'utf8').catch(() => {
    throw new Error(`no server CA in ${dataDir}: start k8ts server with this --data-dir first`);
  });
  out(serverJoinToken(caPem, await ensureServerTokenSecret(dataDir)));
  return 0;
}
