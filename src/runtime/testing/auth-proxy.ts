// A loopback HTTP front for a registry that asks for basic credentials (as registries with htpasswd do) and,
// optionally, answers blob requests with a redirect to the registry itself (as registries on object
// storage do). Used as a registry mirror in tests.
import http from 'node:http';
import { freePort } from './free-port.js';

/** A running proxy. */
export interface AuthProxy {
  /** "127.0.0.1:PORT". */
  host: string;
  /** Requests seen: "METHOD path authorized|anonymous". */
  requests: string[];
  stop: () => Promise<void>;
}

/** Starts the proxy in front of `upstream` ("127.0.0.1:PORT"). */
export async function startAuthProxy(options: {
  upstream: string;
  username: string;
  password: string;
  redirectBlobs?: boolean;
}): Promise<AuthProxy> {
  const port = await freePort();
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const authorized = req.headers.authorization === expected;
    requests.push(`${req.method} ${req.url} ${authorized ? 'authorized' : 'anonymous'}`);
    if (!authorized) {
      res.writeHead(401, {
        'www-authenticate': 'Basic realm="k8ts-test"',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    if (options.redirectBlobs === true && /\/blobs\/sha256:/.test(req.url ?? '')) {
      res.writeHead(307, { location: `http://${options.upstream}${req.url}` });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    delete headers.host;
    const upstream = http.request(
      {
        host: options.upstream.split(':')[0],
        port: Number(options.upstream.split(':')[1]),
        path: req.url,
        method: req.method,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
