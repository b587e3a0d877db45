// A token service for distribution's token authentication, as Docker Hub's auth.docker.io works: GET with
// basic credentials (or none, for anonymous access) or POST with a refresh token, answered by a JWT signed with
// ES256 whose x5c header carries the certificate the registry trusts (its rootcertbundle).
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { freePort } from './free-port.js';
import { requireTools } from './requirements.js';
import { run } from './run.js';

/** Who may get tokens. */
export interface TokenServerOptions {
  dir: string;
  /** username → password. */
  users: Record<string, string>;
  /** refresh token (identity token) → username. */
  refreshTokens?: Record<string, string>;
  /** Repositories anyone may pull without credentials. */
  publicRepositories?: string[];
}

/** A running token service. */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** Token requests seen, as "GET user" / "GET anonymous" / "POST refresh". */
  requests: string[];
  /** Issues a token directly, as a registry token given to a pull would be. */
  issue(user: string, scopes: string[]): string;
  stop: () => Promise<void>;
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope.slice(last + 1).split(','),
  };
}

/** Starts the token service on a free loopback port. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  requireTools(['openssl']);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyFile = path.join(options.dir, 'token.key');
  const certFile = path.join(options.dir, 'token.crt');
  await writeFile(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await run('openssl', [
    'req',
    '-new',
    '-x509',
    '-key',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    '/CN=k8ts-test-token-issuer',
  ]);
  const certPem = await readFile(certFile, 'utf8');
  const certDer = certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const port = await freePort();
  const service = 'k8ts-test-registry';
  const issuer = 'k8ts-test-issuer';
  const requests: string[] = [];

  const issue = (user: string, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access: Access[] = [];
    for (const scope of scopes) {
      const wanted = parseScope(scope);
      if (wanted === undefined || wanted.type !== 'repository') continue;
      if (user !== '') access.push(wanted);
      else if (options.publicRepositories?.includes(wanted.name) === true) {
        access.push({ ...wanted, actions: wanted.actions.filter((a) => a === 'pull') });
      }
    }
    const header = base64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [certDer] }));
    const claims = base64url(
      JSON.stringify({
        iss: issuer,
        sub: user,
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${header}.${claims}.${base64url(signature)}`;
  };

  const deny = (res: http.ServerResponse) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ details: 'incorrect username or password' }));
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', () => {
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        requests.push('POST refresh');
        const user = options.refreshTokens?.[form.get('refresh_token') ?? ''];
        if (form.get('grant_type') !== 'refresh_token' || user === undefined) return deny(res);
        const token = issue(user, (form.get('scope') ?? '').split(' '));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: token, expires_in: 300, scope: form.get('scope') }));
        return;
      }
      let user = '';
      const authorization = req.headers.authorization;
      if (authorization?.startsWith('Basic ') === true) {
        const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const name = decoded.slice(0, colon);
        if (colon < 0 || options.users[name] !== decoded.slice(colon + 1)) {
          requests.push(`GET denied ${name}`);
          return deny(res);
        }
        user = name;
      }
      requests.push(`GET ${user === '' ? 'anonymous' : user}`);
      if (url.searchParams.get('service') !== service) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'unknown service' }));
        return;
      }
      const token = issue(user, url.searchParams.getAll('scope'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    issue,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
