import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaIndex } from './schema-index.js';
import { typedDecode } from './typed-decode.js';

const schemas = SchemaIndex.builtin();
const node = (group: string, version: string, kind: string) => schemas.forKind({ group, version, kind })!;

describe('typed decoding against the schema', () => {
  it("reports a value of the wrong type with encoding/json's message", () => {
    const cm = { metadata: 5 };
    assert.equal(
      typedDecode(cm, node('', 'v1', 'ConfigMap'), 'ConfigMap').typeError,
      'json: cannot unmarshal number into Go struct field ConfigMap.metadata of type v1.ObjectMeta',
    );
    const dep = { spec: { replicas: 'three' } };
    assert.equal(
      typedDecode(dep, node('apps', 'v1', 'Deployment'), 'Deployment').typeError,
      'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    const pod = { spec: { containers: { name: 'x' } } };
    assert.equal(
      typedDecode(pod, node('', 'v1', 'Pod'), 'Pod').typeError,
      'json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container',
    );
  });

  it('accepts what Go accepts: quantities as numbers, int-or-string either way, nulls', () => {
    const pod = {
      spec: {
        containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: 1, memory: '1Gi' } }, ports: [{ containerPort: 80 }] }],
        nodeName: null,
      },
    };
    const r = typedDecode(pod, node('', 'v1', 'Pod'), 'Pod');
    assert.equal(r.typeError, undefined);
    assert.deepEqual(r.unknownFields, []);
    assert.ok(!('nodeName' in pod.spec), 'an explicit null is dropped');
    const dep = { spec: { strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } } } };
    assert.equal(typedDecode(dep, node('apps', 'v1', 'Deployment'), 'Deployment').typeError, undefined);
  });

  it('collects and drops unknown fields with their paths', () => {
    const pod: any = { spec: { containers: [{ name: 'c', image: 'i', imagePullPolcy: 'Always' }], bogus: 1 }, extra: true };
    const r = typedDecode(pod, node('', 'v1', 'Pod'), 'Pod');
    assert.deepEqual(r.unknownFields.sort(), ['extra', 'spec.bogus', 'spec.containers[0].imagePullPolcy']);
    assert.ok(!('bogus' in pod.spec));
    assert.ok(!('imagePullPolcy' in pod.spec.containers[0]));
    assert.ok(!('extra' in pod));
  });

  it('keeps what preserve-unknown-fields allows', () => {
    const crd: any = {
      spec: { versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', anything: { goes: 1 } } } }] },
    };
    const r = typedDecode(crd, node('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition'), 'CustomResourceDefinition');
    assert.equal(r.typeError, undefined);
  });
});
