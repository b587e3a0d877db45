// What a controller's integration test needs: a real in-process API server on an in-memory store, a client
// to it, a ControllerContext on a chosen clock, fresh namespaces, and waiting for conditions with deadlines.
// Register with `useApiServer()` inside a describe() (or at top level); it starts and stops the server.
import { after, before } from 'node:test';
import { ApiServer } from '../../src/apiserver/api-server.js';
import { logger } from '../../src/base/log.js';
import type { Clock, KubeObject } from '../../src/client/index.js';
import { EventRecorder, realClock, RESTClient } from '../../src/client/index.js';
import type { ControllerContext } from '../../src/controllers/common/controller.js';
import { InformerFactory } from '../../src/controllers/common/informer-factory.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';

export interface ApiHarness {
  /** A client with generous rate limits; valid once the before() hook ran. */
  readonly client: RESTClient;
  /** A context for a controller under test, with its own informers (start them with `informers.start`). */
  context(clock?: Clock, name?: string): ControllerContext;
  /** A new namespace with a unique name starting with `prefix`. */
  namespace(prefix: string): Promise<string>;
  /** Events recorded about an object, as "reason: message". */
  events(ns: string, name: string): Promise<string[]>;
}

/** Starts an API server for the enclosing suite. */
export function useApiServer(): ApiHarness {
  let store: SqliteStore;
  let server: ApiServer;
  let client: RESTClient | undefined;
  let count = 0;
  before(async () => {
    store = new SqliteStore({ path: ':memory:' });
    server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
    const port = await server.start();
    client = new RESTClient({ server: `http://127.0.0.1:${port}`, qps: 5000, burst: 5000 });
  });
  after(async () => {
    client?.close();
    await server.stop();
    await store.close();
  });
  const harness: ApiHarness = {
    get client(): RESTClient {
      if (!client) throw new Error('the API server is not started yet');
      return client;
    },
    context(clock: Clock = realClock, name = 'controller-test'): ControllerContext {
      const c = harness.client;
      return {
        client: c,
        informers: new InformerFactory(c),
        recorder: (component) => new EventRecorder({ client: c, component, clock }),
        log: logger(name),
        clock,
      };
    },
    async namespace(prefix: string): Promise<string> {
      const name = `${prefix}-${++count}`;
      await harness.client.create({ group: '', version: 'v1', resource: 'namespaces' }, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return name;
    },
    async events(ns: string, name: string): Promise<string[]> {
      const list = await harness.client.list<KubeObject>({ group: '', version: 'v1', resource: 'events', namespace: ns });
      return list.items
        .filter((e) => (e.involvedObject as { name?: string } | undefined)?.name === name)
        .map((e) => `${e.reason as string}: ${e.message as string}`);
    },
  };
  return harness;
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after the deadline. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Writes the status the Job controller writes when a Job of one completion finishes (start, completion,
 * SuccessCriteriaMet and Complete at `at`), for tests that run no Job controller.
 */
export async function markJobComplete(client: RESTClient, job: KubeObject, at: number): Promise<KubeObject> {
  const t = new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  const cond = { status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: t, lastTransitionTime: t };
  const ref = { group: 'batch', version: 'v1', resource: 'jobs', namespace: job.metadata?.namespace ?? '' };
  const fresh = await client.get(ref, job.metadata?.name ?? '');
  return client.updateStatus(ref, {
    ...fresh,
    status: {
      startTime: t,
      completionTime: t,
      succeeded: 1,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [{ type: 'SuccessCriteriaMet', ...cond }, { type: 'Complete', ...cond }],
    },
  });
}
