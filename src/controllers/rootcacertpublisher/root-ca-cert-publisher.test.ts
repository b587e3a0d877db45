import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../client/index.js';
import { until, useApiServer } from '../../../test/helpers/controller-harness.js';
import { descriptionAnnotation, rootCACertConfigMapName, rootCADescription, RootCACertPublisher } from './root-ca-cert-publisher.js';

const ca = '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n';

describe('root-ca-cert-publisher', () => {
  const api = useApiServer();

  it('writes kube-root-ca.crt into every namespace and puts it back when changed or deleted', async () => {
    const ctx = { ...api.context(), config: { rootCA: ca } };
    const controller = new RootCACertPublisher(ctx);
    const abort = new AbortController();
    ctx.informers.start(abort.signal);
    const running = controller.run(abort.signal);
    try {
      const ns = await api.namespace('pub');
      const ref = { group: '', version: 'v1', resource: 'configmaps', namespace: ns };
      const get = (): Promise<(KubeObject & { data?: Record<string, string> }) | undefined> =>
        api.client.get<KubeObject & { data?: Record<string, string> }>(ref, rootCACertConfigMapName).catch(() => undefined);
      const made = await until('the ConfigMap', get);
      assert.deepEqual(made.data, { 'ca.crt': ca });
      assert.equal(made.metadata?.annotations?.[descriptionAnnotation], rootCADescription);
      // An edit of the data (and an extra key) is undone; other annotations stay.
      await api.client.update(ref, { ...made, metadata: { ...made.metadata, annotations: { keep: 'me' } }, data: { 'ca.crt': 'forged', extra: 'x' } });
      const restored = await until('the CA restored', async () => ((await get())?.data?.['ca.crt'] === ca ? get() : undefined));
      assert.deepEqual(restored?.data, { 'ca.crt': ca });
      assert.deepEqual(restored?.metadata?.annotations, { keep: 'me', [descriptionAnnotation]: rootCADescription });
      await api.client.delete(ref, rootCACertConfigMapName);
      await until('the ConfigMap made again', async () => (await get())?.data?.['ca.crt'] === ca);
    } finally {
      abort.abort();
      await running;
    }
  });
});
