// How an agent joins, k3s-style: GET /cacerts (no credentials) gives the server CA bundle, which the agent
// checks against the hash its join token pins; then GET /v1-k8ts/client-kubelet.crt, authenticated with the
// token's credentials (HTTP basic) and naming the node in the K8ts-Node-Name header, answers with a client
// certificate for system:node:<name> in group system:nodes followed by its key (PEM). Its serving twin, GET
// /v1-k8ts/serving-kubelet.crt (k3s: /v1-k3s/serving-kubelet.crt), answers the kubelet server's certificate,
// signed by the server CA (which the API server checks kubelets against) for the node's name and the
// addresses in the K8ts-Node-IP header; /v1-k8ts/client-ca.crt gives the CA of the kubelet server's callers.
// What a node may do once it has the certificates is the authorizer's business (the seam: `authorizeJoin`).
import { isIP } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { CertificateAuthority } from './certificate-authority.js';
import { formatJoinToken } from './join-token.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** The paths of the join endpoints. */
export const caCertsPath = '/cacerts';
export const nodeCertPath = '/v1-k8ts/client-kubelet.crt';
export const kubeletServingCertPath = '/v1-k8ts/serving-kubelet.crt';
export const clientCACertPath = '/v1-k8ts/client-ca.crt';
/** The user name of the server token's credentials (k3s: "server"). */
export const serverTokenUser = 'server';
const nodeNamePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** Reads the server's join secret from `<dataDir>/token`, making one on first use. */
export async function ensureServerTokenSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'token');
  try {
    const s = (await readFile(file, 'utf8')).trim();
    if (s !== '') return s;
  } catch {
    // first start
  }
  const secret = randomBytes(16).toString('hex');
  await writeFileAtomic(file, secret + '\n', 0o600);
  return secret;
}

/** The full join token of a server: K10<CA hash>::server:<secret>. */
export function serverJoinToken(serverCAPem: string, secret: string): string {
  return formatJoinToken(serverCAPem, { kind: 'password', username: serverTokenUser, password: secret });
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Options of the join handlers. */
export interface NodeJoinOptions {
  serverCAPem: string;
  clientCA: CertificateAuthority;
  /** Signs kubelets' serving certificates; without it the serving endpoint is not offered. */
  serverCA?: CertificateAuthority;
  /** The secret a joining agent must present. */
  secret: string;
  /** The authorization seam: may this node join? Default: any node with the secret. */
  authorizeJoin?: (nodeName: string) => boolean;
}

/** The names a kubelet's serving certificate covers: the node's name, its addresses, and loopback. */
export function kubeletServingNames(nodeName: string, addresses: readonly string[]): { commonName: string; dnsNames: string[]; ipAddresses: string[] } {
  return { commonName: nodeName, dnsNames: [nodeName, 'localhost'], ipAddresses: [...new Set([...addresses, '127.0.0.1', '::1'])] };
}

/** Checks a join request's credentials and node name; answers the failure and returns undefined, or the name. */
function admit(req: IncomingMessage, res: ServerResponse, o: NodeJoinOptions): string | undefined {
  const auth = req.headers.authorization ?? '';
  const m = /^Basic (.+)$/.exec(auth);
  const creds = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
  const colon = creds.indexOf(':');
  const password = colon >= 0 ? creds.slice(colon + 1) : '';
  if (!m || !same(password, o.secret)) return void send(res, 401, 'Unauthorized\n');
  const nodeName = String(req.headers['k8ts-node-name'] ?? '').toLowerCase();
  if (!nodeNamePattern.test(nodeName) || nodeName.length > 253) return void send(res, 400, 'invalid or missing K8ts-Node-Name header\n');
  if (o.authorizeJoin && !o.authorizeJoin(nodeName)) return void send(res, 403, `node ${nodeName} may not join\n`);
  return nodeName;
}

/** The handlers of the join endpoints, by path, for the API server's unauthenticated extra paths. */
export function nodeJoinHandlers(o: NodeJoinOptions): Map<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>> {
  return new Map([
    [
      caCertsPath,
      (_req: IncomingMessage, res: ServerResponse) => {
        send(res, 200, o.serverCAPem, 'application/x-pem-file');
        return Promise.resolve();
      },
    ],
    [
      nodeCertPath,
      async (req: IncomingMessage, res: ServerResponse) => {
        const nodeName = admit(req, res, o);
        if (nodeName === undefined) return;
        const cert = await o.clientCA.issueClientCertificate({ user: `system:node:${nodeName}`, groups: ['system:nodes'] });
        send(res, 200, cert.certPem + cert.keyPem, 'application/x-pem-file');
      },
    ],
    [
      clientCACertPath,
      (req: IncomingMessage, res: ServerResponse) => {
        if (admit(req, res, o) !== undefined) send(res, 200, o.clientCA.certPem, 'application/x-pem-file');
        return Promise.resolve();
      },
    ],
    ...(o.serverCA
      ? [
          [
            kubeletServingCertPath,
            async (req: IncomingMessage, res: ServerResponse) => {
              const nodeName = admit(req, res, o);
              if (nodeName === undefined) return;
              const ips = String(req.headers['k8ts-node-ip'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
              if (ips.some((ip) => isIP(ip) === 0)) return send(res, 400, 'invalid K8ts-Node-IP header\n');
              const cert = await o.serverCA!.issueServingCertificate(kubeletServingNames(nodeName, ips));
              send(res, 200, cert.certPem + cert.keyPem, 'application/x-pem-file');
            },
          ] as const,
        ]
      : []),
  ]);
}
