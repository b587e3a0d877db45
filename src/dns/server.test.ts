// Cluster DNS against a real API server: records for services (cluster IPs of both families, headless,
// ExternalName), endpoint hostnames, SRV for named ports, pod names, PTR, NXDOMAIN and NODATA with the
// SOA, UDP truncation and TCP, and forwarding of other names to a test upstream on loopback.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { ApiServer } from '../apiserver/api-server.js';
import { logger } from '../base/log.js';
import { RESTClient } from '../client/index.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { KubernetesRecords } from './kubernetes.js';
import { DNSServer, encodeTruncated, tcpExchange, udpExchange } from './server.js';
import type { Message } from './wire.js';
import { classIN, decodeMessage, encodeMessage, makeQuery, RCode, RRType } from './wire.js';

const ns = 'default';
const svcRef = { group: '', version: 'v1', resource: 'services', namespace: ns };
const slicesRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespace: ns };
const podsRef = { group: '', version: 'v1', resource: 'pods', namespace: ns };
const nsRef = { group: '', version: 'v1', resource: 'namespaces' };

let store: SqliteStore;
let server: ApiServer;
let client: RESTClient;
let dns: DNSServer;
let port: number;
const stop = new AbortController();
const upstream = createSocket('udp4');
let upstreamQueries = 0;

before(async () => {
  store = new SqliteStore({ path: ':memory:' });
  server = new ApiServer({ store, gitVersion: 'v1.33.0+k8ts' });
  const apiPort = await server.start();
  client = new RESTClient({ server: `http://127.0.0.1:${apiPort}` });
  // A test upstream: answers every A question with 192.0.2.99.
  upstream.on('message', (msg, rinfo) => {
    upstreamQueries++;
    const q = decodeMessage(msg);
    const answer: Message = { ...q, qr: true, ra: true, answers: [{ name: q.questions[0]!.name, type: RRType.A, class: classIN, ttl: 60, data: { address: '192.0.2.99' } }] };
    upstream.send(encodeMessage(answer), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
  await client.create(svcRef, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { ipFamilyPolicy: 'PreferDualStack', clusterIP: '10.43.7.7', ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] },
  });
  await client.create(svcRef, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] },
  });
  await client.create(slicesRef, {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
    addressType: 'IPv4',
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.42.0.20'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.42.0.21'], conditions: { ready: true } },
      { addresses: ['10.42.0.22'], conditions: { ready: false } },
    ],
  });
  await client.create(svcRef, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ext' },
    spec: { type: 'ExternalName', externalName: 'example.org' },
  });
  await client.create(podsRef, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
  await client.patch(podsRef, 'lone', { status: { podIP: '10.42.0.50', podIPs: [{ ip: '10.42.0.50' }] } }, 'merge', { subresource: 'status' });
  await client.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'empty' } });
  const records = new KubernetesRecords(client, 'cluster.local');
  await records.start(stop.signal);
  dns = new DNSServer({ records, address: '127.0.0.1', port: 0, upstreams: [{ host: '127.0.0.1', port: upstream.address().port }], log: logger('dns-test') });
  port = await dns.start();
});

after(async () => {
  stop.abort();
  await dns.stop();
  upstream.close();
  client.close();
  await server.stop();
  await store.close();
});

let nextId = 1;
async function ask(name: string, type: number, transport: 'udp' | 'tcp' = 'udp'): Promise<Message> {
  const id = nextId++;
  const q = makeQuery(id, name, type);
  const up = { host: '127.0.0.1', port };
  const res = decodeMessage(transport === 'udp' ? await udpExchange(up, q, 3000) : await tcpExchange(up, q, 3000));
  assert.equal(res.id, id);
  return res;
}

const data = (m: Message): unknown[] => m.answers.map((a) => a.data);

describe('cluster DNS', () => {
  it('answers A and AAAA of a service with its cluster IPs, over UDP and TCP', async () => {
    const web = await client.get(svcRef, 'web');
    const ips = (web.spec as { clusterIPs: string[] }).clusterIPs;
    const a = await ask('web.default.svc.cluster.local.', RRType.A);
    assert.equal(a.rcode, RCode.NOERROR);
    assert.equal(a.aa, true);
    assert.deepEqual(data(a), [{ address: '10.43.7.7' }]);
    assert.equal(a.answers[0]!.ttl, 5);
    const aaaa = await ask('web.default.svc.cluster.local.', RRType.AAAA, 'tcp');
    assert.deepEqual(data(aaaa), [{ address: ips[1] }]);
    const upper = await ask('WEB.Default.svc.cluster.local.', RRType.A);
    assert.deepEqual(data(upper), [{ address: '10.43.7.7' }]);
  });

  it('answers a headless service with its ready endpoints, and endpoints by hostname or dashed address', async () => {
    const a = await ask('db.default.svc.cluster.local.', RRType.A);
    assert.deepEqual(data(a).sort(), [{ address: '10.42.0.20' }, { address: '10.42.0.21' }]);
    assert.deepEqual(data(await ask('db-0.db.default.svc.cluster.local.', RRType.A)), [{ address: '10.42.0.20' }]);
    assert.deepEqual(data(await ask('10-42-0-21.db.default.svc.cluster.local.', RRType.A)), [{ address: '10.42.0.21' }]);
  });

  it('answers SRV for named ports, with the targets\' addresses', async () => {
    const srv = await ask('_http._tcp.web.default.svc.cluster.local.', RRType.SRV);
    assert.deepEqual(data(srv), [{ priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local.' }]);
    assert.ok(srv.additionals.some((r) => r.type === RRType.A && (r.data as { address: string }).address === '10.43.7.7'));
    const udp = await ask('_dns._udp.web.default.svc.cluster.local.', RRType.SRV);
    assert.equal((udp.answers[0]!.data as { port: number }).port, 53);
    const headless = await ask('_pg._tcp.db.default.svc.cluster.local.', RRType.SRV);
    const targets = headless.answers.map((r) => (r.data as { target: string }).target).sort();
    assert.deepEqual(targets, ['10-42-0-21.db.default.svc.cluster.local.', 'db-0.db.default.svc.cluster.local.']);
    assert.equal((await ask('_nope._tcp.web.default.svc.cluster.local.', RRType.SRV)).rcode, RCode.NXDOMAIN);
  });

  it('answers ExternalName with a CNAME and pod names with their address', async () => {
    const c = await ask('ext.default.svc.cluster.local.', RRType.A);
    assert.deepEqual(c.answers.map((r) => [r.type, r.data]), [[RRType.CNAME, { target: 'example.org.' }]]);
    assert.deepEqual(data(await ask('10-42-0-9.default.pod.cluster.local.', RRType.A)), [{ address: '10.42.0.9' }]);
    // "pods insecure" checks that the namespace exists, not the pod.
    assert.deepEqual(data(await ask('10-42-0-9.empty.pod.cluster.local.', RRType.A)), [{ address: '10.42.0.9' }]);
    assert.equal((await ask('10-42-0-9.nonamespace.pod.cluster.local.', RRType.A)).rcode, RCode.NXDOMAIN);
  });

  it('answers PTR for service and endpoint addresses, and forwards a pod address as CoreDNS does', async () => {
    assert.deepEqual(data(await ask('7.7.43.10.in-addr.arpa.', RRType.PTR)), [{ target: 'web.default.svc.cluster.local.' }]);
    assert.deepEqual(data(await ask('20.0.42.10.in-addr.arpa.', RRType.PTR)), [{ target: 'db-0.db.default.svc.cluster.local.' }]);
    // The pod "lone" has 10.42.0.50, but the kubernetes plugin's reverse zone holds services and endpoints only.
    const before = upstreamQueries;
    await ask('50.0.42.10.in-addr.arpa.', RRType.PTR);
    assert.equal(upstreamQueries, before + 1);
  });

  it('tells NXDOMAIN from NODATA as CoreDNS does, with the SOA', async () => {
    const nx = await ask('nope.default.svc.cluster.local.', RRType.A);
    assert.equal(nx.rcode, RCode.NXDOMAIN);
    assert.equal(nx.authorities[0]?.type, RRType.SOA);
    const nodata = await ask('web.default.svc.cluster.local.', RRType.TXT);
    assert.equal(nodata.rcode, RCode.NOERROR);
    assert.equal(nodata.answers.length, 0);
    assert.equal(nodata.authorities[0]?.type, RRType.SOA);
    assert.equal((await ask('default.svc.cluster.local.', RRType.A)).rcode, RCode.NOERROR);
    // A namespace without services or pods exists all the same (CoreDNS asks its namespace cache).
    assert.equal((await ask('empty.svc.cluster.local.', RRType.A)).rcode, RCode.NOERROR);
    assert.equal((await ask('empty.pod.cluster.local.', RRType.A)).rcode, RCode.NOERROR);
    assert.equal((await ask('nonamespace.svc.cluster.local.', RRType.A)).rcode, RCode.NXDOMAIN);
    assert.equal((await ask('cluster.local.', RRType.SOA)).answers[0]?.type, RRType.SOA);
  });

  it('forwards other names to the upstream', async () => {
    const before = upstreamQueries;
    const res = await ask('www.example.test.', RRType.A);
    assert.deepEqual(data(res), [{ address: '192.0.2.99' }]);
    assert.equal(upstreamQueries, before + 1);
  });

  it('follows changes: a new service resolves, a deleted one is NXDOMAIN', async () => {
    await client.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'late' }, spec: { clusterIP: '10.43.7.8', ports: [{ port: 80 }] } });
    for (let i = 0; ; i++) {
      const r = await ask('late.default.svc.cluster.local.', RRType.A);
      if (r.answers.length === 1) break;
      assert.ok(i < 200, 'the new service never resolved');
      await new Promise((res) => setTimeout(res, 20));
    }
    await client.delete(svcRef, 'late');
    for (let i = 0; ; i++) {
      if ((await ask('late.default.svc.cluster.local.', RRType.A)).rcode === RCode.NXDOMAIN) break;
      assert.ok(i < 200, 'the deleted service still resolves');
      await new Promise((res) => setTimeout(res, 20));
    }
  });

  it('truncates a UDP answer larger than 512 bytes to the records that fit, and answers it whole over TCP', async () => {
    await client.create(svcRef, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'many' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } });
    await client.create(slicesRef, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'many-1', labels: { 'kubernetes.io/service-name': 'many' } },
      addressType: 'IPv4',
      ports: [{ port: 80, protocol: 'TCP' }],
      endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`] })),
    });
    let udp: Message;
    for (let i = 0; ; i++) {
      udp = await ask('many.default.svc.cluster.local.', RRType.A);
      if (udp.tc) break;
      assert.ok(i < 200, 'never truncated');
      await new Promise((res) => setTimeout(res, 20));
    }
    // As many records as fit in 512 bytes, as CoreDNS sends them; the client retries over TCP for the rest.
    assert.ok(udp.answers.length > 20 && udp.answers.length < 60, `${udp.answers.length} answers`);
    assert.ok(encodeMessage(udp).length <= 512);
    const tcp = await ask('many.default.svc.cluster.local.', RRType.A, 'tcp');
    assert.equal(tcp.tc, false);
    assert.equal(tcp.answers.length, 60);
  });

  it('keeps every SRV answer of a large headless service over UDP, leaving out additionals that do not fit', () => {
    const base = `web-headless.default.svc.cluster.local.`;
    const question = `_http._tcp.${base}`;
    const answers = Array.from({ length: 6 }, (_, i) => ({
      name: question, type: RRType.SRV, class: classIN, ttl: 5, data: { priority: 0, weight: 16, port: 8080, target: `10-42-0-${i + 2}.${base}` },
    })); // prettier-ignore
    const additionals = answers.map((a, i) => ({ name: a.data.target, type: RRType.A, class: classIN, ttl: 5, data: { address: `10.42.0.${i + 2}` } }));
    const m: Message = { id: 1, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, rcode: 0, questions: [{ name: question, type: RRType.SRV, class: classIN }], answers, authorities: [], additionals };
    const whole = encodeMessage(m);
    assert.ok(whole.length > 512, `${whole.length} bytes`);
    const out = decodeMessage(encodeTruncated(m, 512));
    assert.equal(out.tc, true);
    assert.equal(out.answers.length, 6);
    assert.ok(out.additionals.length < 6);
    assert.ok(encodeTruncated(m, 512).length <= 512);
    // What fits whole is sent whole, without TC.
    assert.equal(decodeMessage(encodeTruncated(m, 4096)).tc, false);
  });

  it('answers a malformed query with FORMERR', async () => {
    const res = decodeMessage(await dns.handle(new Uint8Array([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 97]), 'udp'));
    assert.equal(res.id, 7);
    assert.equal(res.rcode, RCode.FORMERR);
  });
});
