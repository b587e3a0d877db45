// A loopback HTTP server that answers real kubectl just enough (legacy discovery, a handler for the rest)
// for tests to see what kubectl sends and what it makes of our answers.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where the gcloud SDK keeps one kubectl per minor version. */
export function kubectlPath(minor: number): string {
  const file = `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`;
  if (!existsSync(file))
    throw new Error(`this test needs kubectl 1.${minor} at ${file} (google-cloud-cli's kubectl)`);
  return file;
}

/** A request the server received, with its whole body. */
export interface RecordedRequest {
  method: string;
  url: string;
  path: string;
  accept: string;
  contentType: string;
  body: Buffer;
}

/** What a handler answers; undefined falls through to discovery or a 404. */
export interface Reply {
  status: number;
  contentType: string;
  body: Buffer | string;
}

/** One resource in an APIResourceList. */
export interface FakeResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
}

/** A running fake API server with a kubeconfig for kubectl. */
export interface FakeAPIServer {
  url: string;
  requests: RecordedRequest[];
  /** Runs kubectl 1.<minor> against the server, with `stdin` as its input; resolves with its exit code and output. */
  kubectl(
    minor: number,
    args: string[],
    stdin?: string,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

const json = (status: number, obj: unknown): Reply => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(obj),
});

/** Starts a server on 127.0.0.1 that serves discovery for `groups` ("v1" or "group/version" → resources). */
export async function startFakeAPIServer(
  groups: Record<string, FakeResource[]>,
  handler: (req: RecordedRequest) => Reply | undefined,
): Promise<FakeAPIServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'k8ts-protobuf-'));
  const requests: RecordedRequest[] = [];
  const named = Object.keys(groups).filter((gv) => gv.includes('/'));
  const discovery = (p: string): Reply | undefined => {
    if (p === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'] });
    if (p === '/apis') {
      return json(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: named.map((gv) => {
          const version = { groupVersion: gv, version: gv.split('/')[1] };
          return { name: gv.split('/')[0], versions: [version], preferredVersion: version };
        }),
      });
    }
    const gv = p === '/api/v1' ? 'v1' : p.startsWith('/apis/') ? p.slice('/apis/'.length) : undefined;
    const resources = gv === undefined ? undefined : groups[gv];
    if (resources === undefined) return undefined;
    return json(200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: resources.map((r) => ({
        name: r.name,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs ?? ['create', 'delete', 'get', 'list', 'patch', 'update'],
      })),
    });
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0] ?? url,
        accept: req.headers.accept ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      };
      requests.push(recorded);
      let reply: Reply | undefined;
      try {
        reply = handler(recorded) ?? (recorded.method === 'GET' ? discovery(recorded.path) : undefined);
      } catch (err) {
        reply = json(500, {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: String(err),
          code: 500,
        });
      }
      reply ??= json(404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
      });
      res.writeHead(reply.status, { 'content-type': reply.contentType });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: url } }],
      users: [{ name: 'fake', user: {} }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: 'default' } }],
      'current-context': 'fake',
    }),
  );
  return {
    url,
    requests,
    kubectl: (minor, args, stdin) =>
      new Promise((resolve) => {
        const argv = ['--kubeconfig', kubeconfig, '--cache-dir', path.join(dir, `cache-${minor}`), ...args];
        const options = { cwd: dir, timeout: 30_000, env: { ...process.env, HOME: dir } };
        const child = execFile(kubectlPath(minor), argv, options, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
          resolve({ code, stdout, stderr });
        });
        child.stdin?.end(stdin ?? '');
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
