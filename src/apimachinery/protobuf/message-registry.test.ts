import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpenAPISpecs } from '../../api/openapi/index.js';
import { MessageRegistry } from './message-registry.js';

const registry = MessageRegistry.builtin();

/** The JSON property names of a struct message, with inlined structs expanded. */
function jsonNames(name: string): string[] {
  const d = registry.require(name);
  if (d.form !== 'struct') return [];
  return d.fields.flatMap((f) => (f.json === '' ? jsonNames(f.type) : [f.json]));
}

/** The OpenAPI definition name of a table message ("apps.v1.Deployment" → io.k8s.api.apps.v1.Deployment). */
function definitionName(message: string): string {
  if (message.startsWith('meta.v1.'))
    return `io.k8s.apimachinery.pkg.apis.meta.v1.${message.slice('meta.v1.'.length)}`;
  return `io.k8s.api.${message}`;
}

describe('the protobuf message table', () => {
  it('parses every message, and every field names a scalar or a message that is in the table', () => {
    const names = registry.names();
    assert.ok(names.length > 500, `only ${names.length} messages`);
    for (const name of names) {
      const d = registry.require(name);
      const fields = d.form === 'struct' ? d.fields : d.form === 'list' ? [d.item] : [];
      const numbers = new Set<number>();
      for (const f of fields) {
        assert.ok(f.number > 0, `${name}: field number ${f.number}`);
        assert.ok(!numbers.has(f.number), `${name}: field number ${f.number} twice`);
        numbers.add(f.number);
        if (!f.scalar)
          assert.ok(registry.get(f.type), `${name}.${f.json}: type ${f.type} is not in the table`);
        if (f.json === '')
          assert.equal(registry.get(f.type)?.form, 'struct', `${name}: inlined ${f.type} is not a struct`);
      }
    }
  });

  it('has, for every API struct, the same JSON properties as the OpenAPI definition', () => {
    const definitions = OpenAPISpecs.builtin().v2().definitions as Record<string, { properties?: object }>;
    let compared = 0;
    const mismatches: string[] = [];
    for (const name of registry.names()) {
      const d = registry.require(name);
      const def = definitions[definitionName(name)];
      if (d.form !== 'struct' || def === undefined) continue;
      const fromTable = jsonNames(name);
      // An object's TypeMeta is not in its message: the envelope carries kind and apiVersion.
      const fromSchema = Object.keys(def.properties ?? {}).filter(
        (p) => !((p === 'kind' || p === 'apiVersion') && !fromTable.includes(p)),
      );
      const a = [...fromTable].sort().join(' ');
      const b = fromSchema.sort().join(' ');
      if (a !== b) mismatches.push(`${name}: table [${a}] schema [${b}]`);
      compared++;
    }
    assert.deepEqual(mismatches, []);
    assert.ok(compared > 500, `compared only ${compared} messages with their definitions`);
  });

  it('keeps the facts kubectl relies on: field numbers, pointers and omitempty', () => {
    const spec = registry.require('apps.v1.DeploymentSpec');
    assert.equal(spec.form, 'struct');
    const replicas = spec.byNumber.get(1);
    assert.deepEqual(
      [replicas?.json, replicas?.type, replicas?.pointer, replicas?.omitempty],
      ['replicas', 'int32', true, true],
    );
    const template = spec.byNumber.get(3);
    assert.deepEqual(
      [template?.json, template?.type, template?.pointer],
      ['template', 'core.v1.PodTemplateSpec', false],
    );
    const secret = registry.require('core.v1.Secret');
    assert.equal(secret.form, 'struct');
    assert.deepEqual([secret.byNumber.get(2)?.label, secret.byNumber.get(2)?.type], ['map', 'bytes']);
    const volume = registry.require('core.v1.Volume');
    assert.equal(volume.form, 'struct');
    assert.deepEqual(
      [volume.byNumber.get(2)?.json, volume.byNumber.get(2)?.type],
      ['', 'core.v1.VolumeSource'],
    );
    assert.equal(registry.require('meta.v1.Time').form, 'time');
    assert.equal(registry.require('intstr.IntOrString').form, 'intorstring');
    assert.equal(registry.require('authentication.v1.ExtraValue').form, 'list');
  });

  it('finds the message of a group, version and kind, and the metav1 kinds in every group-version', () => {
    assert.equal(registry.messageFor('', 'v1', 'ConfigMap'), 'core.v1.ConfigMap');
    assert.equal(registry.messageFor('apps', 'v1', 'Deployment'), 'apps.v1.Deployment');
    assert.equal(
      registry.messageFor('rbac.authorization.k8s.io', 'v1', 'ClusterRole'),
      'rbac.v1.ClusterRole',
    );
    assert.equal(
      registry.messageFor('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview'),
      'authorization.v1.SelfSubjectAccessReview',
    );
    assert.equal(registry.messageFor('policy', 'v1', 'Eviction'), 'policy.v1.Eviction');
    assert.equal(
      registry.messageFor('scheduling.k8s.io', 'v1', 'PriorityClass'),
      'scheduling.v1.PriorityClass',
    );
    assert.equal(registry.messageFor('apps', 'v1', 'DeleteOptions'), 'meta.v1.DeleteOptions');
    assert.equal(
      registry.messageFor('meta.k8s.io', 'v1', 'PartialObjectMetadata'),
      'meta.v1.PartialObjectMetadata',
    );
    assert.equal(registry.messageFor('', 'v1', 'Status'), 'meta.v1.Status');
    assert.equal(registry.messageFor('apps', 'v1', 'Pod'), undefined);
    assert.equal(registry.messageFor('', 'v1', 'PodSpec'), undefined, 'a struct that is not a kind');
    assert.equal(registry.messageFor('apps', 'v1', 'DeploymentList'), 'apps.v1.DeploymentList');
    assert.equal(registry.messageFor('', 'v1', 'Nothing'), undefined);
    assert.equal(registry.messageFor('example.com', 'v1', 'Widget'), undefined);
  });
});
