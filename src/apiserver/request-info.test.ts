import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRequestInfo } from './request-info.js';

const info = (method: string, url: string): Record<string, unknown> => {
  const r = parseRequestInfo(method, url);
  if (!r.isResourceRequest) return { nonResource: r.path, verb: r.verb };
  return { verb: r.verb, group: r.apiGroup, version: r.apiVersion, ns: r.namespace, resource: r.resource, name: r.name, sub: r.subresource };
};

describe('request info', () => {
  it('reads core and group resources, namespaced and cluster-wide', () => {
    assert.deepEqual(info('GET', '/api/v1/namespaces/default/pods'), {
      verb: 'list', group: '', version: 'v1', ns: 'default', resource: 'pods', name: '', sub: '',
    });
    assert.deepEqual(info('GET', '/api/v1/pods?labelSelector=a%3Db'), {
      verb: 'list', group: '', version: 'v1', ns: '', resource: 'pods', name: '', sub: '',
    });
    assert.deepEqual(info('GET', '/apis/apps/v1/namespaces/ns1/deployments/web'), {
      verb: 'get', group: 'apps', version: 'v1', ns: 'ns1', resource: 'deployments', name: 'web', sub: '',
    });
    assert.deepEqual(info('PUT', '/apis/apps/v1/namespaces/ns1/deployments/web/scale'), {
      verb: 'update', group: 'apps', version: 'v1', ns: 'ns1', resource: 'deployments', name: 'web', sub: 'scale',
    });
    assert.deepEqual(info('GET', '/api/v1/nodes/n1'), {
      verb: 'get', group: '', version: 'v1', ns: '', resource: 'nodes', name: 'n1', sub: '',
    });
  });

  it('maps methods to verbs, including watch by query or by the old /watch/ path', () => {
    assert.equal(info('POST', '/api/v1/namespaces/d/pods').verb, 'create');
    assert.equal(info('PATCH', '/api/v1/namespaces/d/pods/p').verb, 'patch');
    assert.equal(info('DELETE', '/api/v1/namespaces/d/pods/p').verb, 'delete');
    assert.equal(info('DELETE', '/api/v1/namespaces/d/pods').verb, 'deletecollection');
    assert.equal(info('GET', '/api/v1/namespaces/d/pods?watch=true&resourceVersion=5').verb, 'watch');
    assert.equal(info('GET', '/api/v1/namespaces/d/pods?watch=1').verb, 'watch');
    assert.equal(info('GET', '/api/v1/namespaces/d/pods?watch=false').verb, 'list');
    assert.deepEqual(info('GET', '/api/v1/watch/namespaces/d/pods/p'), {
      verb: 'watch', group: '', version: 'v1', ns: 'd', resource: 'pods', name: 'p', sub: '',
    });
    assert.equal(info('POST', '/api/v1/watch/namespaces/d/pods').verb, 'post');
  });

  it('tells namespaces themselves (and their subresources) from resources inside a namespace', () => {
    assert.deepEqual(info('GET', '/api/v1/namespaces/kube-system'), {
      verb: 'get', group: '', version: 'v1', ns: '', resource: 'namespaces', name: 'kube-system', sub: '',
    });
    assert.deepEqual(info('PUT', '/api/v1/namespaces/x/finalize'), {
      verb: 'update', group: '', version: 'v1', ns: '', resource: 'namespaces', name: 'x', sub: 'finalize',
    });
    assert.deepEqual(info('PUT', '/api/v1/namespaces/x/status'), {
      verb: 'update', group: '', version: 'v1', ns: '', resource: 'namespaces', name: 'x', sub: 'status',
    });
    assert.deepEqual(info('GET', '/api/v1/namespaces'), {
      verb: 'list', group: '', version: 'v1', ns: '', resource: 'namespaces', name: '', sub: '',
    });
  });

  it('decodes names and keeps proxy paths after the subresource', () => {
    const r = parseRequestInfo('GET', '/api/v1/namespaces/d/pods/a%3Ab/proxy/some/path?x=1');
    assert.ok(r.isResourceRequest);
    assert.equal(r.name, 'a:b');
    assert.equal(r.subresource, 'proxy');
    assert.equal(r.rest, 'some/path');
  });

  it('treats discovery and other paths as non-resource requests', () => {
    for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz', '/openapi/v3']) {
      assert.equal(parseRequestInfo('GET', p).isResourceRequest, false, p);
    }
    const d = parseRequestInfo('GET', '/apis/apps/v1');
    assert.ok(!d.isResourceRequest);
    assert.deepEqual([d.apiPrefix, d.apiGroup, d.apiVersion], ['apis', 'apps', 'v1']);
    const core = parseRequestInfo('GET', '/api/v1');
    assert.ok(!core.isResourceRequest);
    assert.deepEqual([core.apiPrefix, core.apiGroup, core.apiVersion], ['api', '', 'v1']);
  });
});
