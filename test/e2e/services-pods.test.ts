// Services with real pods (issue 9's list): `k8ts runtime` and `k8ts server` (kubelet, kube-proxy, cluster
// DNS, cloud controller) run inside a node network namespace the test makes, with a client namespace beside
// it as an outside machine. A Deployment of three busybox httpd pods, each answering with its host name,
// stands behind Services; a client pod runs busybox wget and nslookup through CRI ExecSync. The node itself
// ("the host") and the client namespace reach the services by ClusterIP, NodePort and LoadBalancer address.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { runtimeSkipReason } from '../../src/runtime/testing/runtime-fixture.js';
import { eventually as waitFor } from '../helpers/eventually.js';
import { requireNetnsSupport, sh, Testbed } from '../helpers/netns.js';
import { RuntimeNode } from '../helpers/runtime-node.js';

const eventually = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> =>
  waitFor(what, async () => (await fn().catch(() => undefined)) || undefined, timeoutMs);

const nodeName = 'svc-node';
/** The node's address towards the client namespace: its InternalIP, so NodePort and LoadBalancer answer there. */
const nodeIPv4 = '10.99.0.1';
const nodeIPv6 = 'fd99::1';

const webManifest = (image: string): string => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: ${image}
        imagePullPolicy: Never
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && touch /www/ready && exec httpd -f -p 8080 -h /www']
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: ${image}, imagePullPolicy: Never, command: [sleep, '3600']}
`;

describe('services with real pods on the built-in runtime (in a test network namespace)', { skip: runtimeSkipReason() }, () => {
  let bed: Testbed;
  let node: RuntimeNode;
  let clientContainer = '';
  let webPods: { name: string; ips: string[]; container: string }[] = [];
  let web: Service;

  const k = (args: string[], stdin?: string, minor = 33): ReturnType<RuntimeNode['kubectl']> => node.kubectl(minor, args, stdin);
  const kOk = async (args: string[], stdin?: string, minor = 33): Promise<string> => {
    const r = await k(args, stdin, minor);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getJSON = async <T>(args: string[]): Promise<T> => JSON.parse(await kOk(['get', ...args, '-o', 'json'])) as T;
  /** Runs a shell command in a pod's container; stdout and stderr together. */
  const inPod = async (container: string, script: string): Promise<string> => {
    const r = await node.exec(container, ['sh', '-c', script], 120);
    return r.stdout + r.stderr;
  };
  const inClient = (script: string): Promise<string> => inPod(clientContainer, script);
  /**
   * `count` wgets from a pod (the client by default) to `url`, each its own connection: the bodies, or the
   * errors. (Debian's static busybox 1.35 wget crashes with -T, hence the timeout applet.)
   */
  const podGets = async (url: string, count: number, container = clientContainer): Promise<string[]> => {
    const out = await inPod(container, `for i in $(seq ${count}); do timeout 5 wget -q -O - '${url}' 2>&1 || echo FAILED; done`);
    return out.split('\n').filter((l) => l !== '');
  };
  const names = (): Set<string> => new Set(webPods.map((p) => p.name));
  const readyWebPods = async (): Promise<{ name: string; ips: string[]; container: string }[]> => {
    const list = await getJSON<{ items: Pod[] }>(['pods', '-l', 'app=web']);
    return list.items
      .filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
      .map((p) => ({ name: p.metadata!.name!, ips: (p.status?.podIPs ?? []).map((x) => x.ip ?? ''), container: p.status?.containerStatuses?.[0]?.containerID ?? '' }));
  };
  const slicesOf = async (service: string): Promise<EndpointSlice[]> =>
    (await getJSON<{ items: EndpointSlice[] }>(['endpointslices', '-l', `kubernetes.io/service-name=${service}`])).items;

  before(async () => {
    requireNetnsSupport();
    bed = new Testbed('svcpods', { podBridge: false });
    node = await RuntimeNode.start({
      tag: 'svcpods',
      nodeName,
      netns: bed.node,
      bridge: 'k8ts0',
      podCIDRs: ['10.42.0.0/24', 'fd42::/64'],
      serverArgs: ['--node-ip', `${nodeIPv4},${nodeIPv6}`, '--cluster-cidr', '10.42.0.0/16,fd42::/56'],
    });
    await node.server!.waitForLog(/"msg":"cluster DNS listening"/, 60_000);
    await kOk(['apply', '-f', '-'], webManifest(RuntimeNode.image));
    webPods = await eventually('three ready web pods', async () => {
      const pods = await readyWebPods();
      return pods.length === 3 && pods.every((p) => p.ips.length === 2) && pods;
    });
    const client = await eventually('the client pod running', async () => {
      const p = await getJSON<Pod>(['pod', 'client']);
      return p.status?.phase === 'Running' && p;
    });
    clientContainer = client.status!.containerStatuses![0]!.containerID!;
    web = await getJSON<Service>(['service', 'web']);
  });

  after(async () => {
    try {
      if (node) {
        const problems = (node.server?.output ?? '').split('\n').filter((l) => /"level":"(error|warn)"/.test(l));
        if (problems.length > 0) console.log(`server warnings and errors:\n${problems.slice(-20).join('\n')}`);
        assert.equal(await node.stop(), 0);
      }
    } finally {
      bed?.remove();
    }
  });

  it('answers from every pod over 60 requests from another pod, by each DNS name, over IPv4 and IPv6', async () => {
    assert.equal(web.spec?.clusterIPs?.length, 2, JSON.stringify(web.spec));
    const [v4, v6] = web.spec.clusterIPs;
    // The names resolve to both cluster IPs (busybox wget prefers the A record; the AAAA one is asked by address).
    const lookup = await inClient('nslookup web.default.svc.cluster.local');
    assert.ok(lookup.includes(`Address: ${v4}\n`) && lookup.includes(`Address: ${v6}\n`), lookup);
    // An IPv6-only service: its name has only an AAAA record, so wget by name goes over IPv6.
    await kOk(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: {name: web6}
spec:
  ipFamilies: [IPv6]
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`);
    const v6only = (await getJSON<Service>(['service', 'web6'])).spec!.clusterIPs!;
    assert.ok(v6only.length === 1 && v6only[0]!.includes(':'), v6only.join(','));
    await eventually('web6 to answer', async () => (await podGets('http://web6/', 1))[0]!.startsWith('web-'));
    for (const url of ['http://web/', 'http://web.default/', 'http://web.default.svc.cluster.local/', `http://[${v6}]/`, 'http://web6/']) {
      const bodies = await podGets(url, 60);
      assert.deepEqual(new Set(bodies), names(), `${url}: ${bodies.join(',')}`);
    }
  });

  it('lets a pod reach itself through its own service (hairpin), over IPv4 and IPv6', async () => {
    const [, v6] = web.spec!.clusterIPs!;
    const self = webPods[1]!;
    for (const url of ['http://web/', `http://[${v6}]/`]) {
      const bodies = await podGets(url, 60, self.container);
      assert.deepEqual(new Set(bodies), names(), `from ${self.name} to ${url}: ${bodies.join(',')}`);
    }
  });

  it('answers from every pod to the host at both cluster IPs and at the NodePort on the node addresses, and to an outside client', async () => {
    const [v4, v6] = web.spec!.clusterIPs!;
    const nodePort = web.spec!.ports![0]!.nodePort!;
    const fromNode = [`http://${v4}/`, `http://[${v6}]/`, `http://${nodeIPv4}:${nodePort}/`, `http://[${nodeIPv6}]:${nodePort}/`];
    for (const url of fromNode) {
      const bodies = await bed.httpGets(bed.node, url, 60);
      assert.deepEqual(new Set(bodies), names(), `from the node to ${url}: ${bodies.join(',')}`);
    }
    for (const url of fromNode.slice(2)) {
      const bodies = await bed.httpGets(bed.client, url, 60);
      assert.deepEqual(new Set(bodies), names(), `from outside to ${url}: ${bodies.join(',')}`);
    }
  });

  it('shows the EndpointSlices as upstream kubectl does (1.33 and 1.29)', async () => {
    const ips = { IPv4: webPods.map((p) => p.ips[0]!).sort(), IPv6: webPods.map((p) => p.ips[1]!).sort() };
    for (const minor of [33, 29]) {
      const out = await kOk(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web'], undefined, minor);
      const lines = out.trimEnd().split('\n');
      assert.match(lines[0]!, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/, out);
      assert.equal(lines.length, 3, out);
      for (const line of lines.slice(1)) {
        const m = /^web-[a-z0-9]{5}\s+(IPv4|IPv6)\s+8080\s+(\S+)\s+\d\S*$/.exec(line);
        assert.ok(m, `kubectl 1.${minor}: ${line}`);
        assert.deepEqual(m[2]!.split(',').sort(), ips[m[1] as 'IPv4' | 'IPv6'], line);
      }
    }
  });

  it('resolves a headless service to the pod IPs, and SRV records to the named ports', async () => {
    await kOk(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`);
    const podIPs = webPods.flatMap((p) => p.ips).sort();
    const addressesIn = (out: string): string[] => [...out.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1]!).sort();
    const lookup = await eventually('the headless service to resolve to the pods', async () => {
      const out = await inClient('nslookup web-headless.default.svc.cluster.local');
      return addressesIn(out).length === 6 && out;
    });
    assert.deepEqual(addressesIn(lookup), podIPs, lookup);
    // A named port of the headless service: one record per pod address, at the pod's port, each target the pod's dashed address.
    const srv = await inClient('nslookup -type=SRV _http._tcp.web-headless.default.svc.cluster.local');
    const records = [...srv.matchAll(/service = 0 \d+ (\d+) (\S+)\.web-headless\.default\.svc\.cluster\.local/g)].map((m) => `${m[1]} ${m[2]}`).sort();
    assert.deepEqual(records, podIPs.map((ip) => `8080 ${ip.replace(/[.:]/g, '-')}`).sort(), srv);
    // A named port of the ClusterIP service: the service's port and name.
    const srv2 = await inClient('nslookup -type=SRV _http._tcp.web.default.svc.cluster.local');
    assert.match(srv2, /_http\._tcp\.web\.default\.svc\.cluster\.local\s+service = 0 100 80 web\.default\.svc\.cluster\.local/, srv2);
    const none = await inClient('nslookup -type=SRV _nope._tcp.web.default.svc.cluster.local');
    assert.match(none, /NXDOMAIN/, none);
  });

  it('keeps a client on one pod with ClientIP session affinity', async () => {
    await kOk(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: {name: web-sticky}
spec:
  sessionAffinity: ClientIP
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`);
    const ip = (await getJSON<Service>(['service', 'web-sticky'])).spec!.clusterIP!;
    await eventually('web-sticky to answer', async () => (await bed.httpGets(bed.node, `http://${ip}/`, 1))[0]!.startsWith('web-'));
    const fromPod = await podGets('http://web-sticky/', 30);
    assert.equal(new Set(fromPod).size, 1, fromPod.join(','));
    assert.ok(names().has(fromPod[0]!), fromPod[0]);
    const fromNode = await bed.httpGets(bed.node, `http://${ip}/`, 30);
    assert.equal(new Set(fromNode).size, 1, fromNode.join(','));
    // The service without affinity still spreads the same client.
    assert.equal(new Set(await podGets('http://web/', 30)).size, 3);
  });

  it('takes a pod whose readiness probe fails out of the endpoints, and puts it back when it passes', async () => {
    const victim = webPods[0]!;
    const pod = await getJSON<Pod>(['pod', victim.name]);
    const container = pod.status!.containerStatuses![0]!.containerID!;
    const sliceCondition = async (): Promise<boolean | undefined> => {
      const eps = (await slicesOf('web')).flatMap((s) => s.endpoints ?? []);
      return eps.find((e) => e.addresses.includes(victim.ips[0]!))?.conditions?.ready ?? undefined;
    };
    assert.equal((await node.exec(container, ['rm', '/www/ready'])).code, 0);
    await eventually('the endpoint to turn not ready', async () => (await sliceCondition()) === false);
    // The proxy follows the slice: 30 requests in a row reach only the two others.
    const others = new Set([...names()].filter((n) => n !== victim.name));
    const without = await eventually('traffic to leave the pod', async () => {
      const b = await podGets('http://web/', 30);
      return b.every((x) => others.has(x)) && b;
    });
    assert.deepEqual(new Set(without), others, without.join(','));
    assert.equal((await node.exec(container, ['touch', '/www/ready'])).code, 0);
    await eventually('the endpoint to turn ready', async () => (await sliceCondition()) === true);
    await eventually('traffic to reach the pod again', async () => (await podGets('http://web/', 60)).includes(victim.name));
  });

  it('answers a LoadBalancer service on the node addresses', async () => {
    await kOk(['apply', '-f', '-'], `
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  ipFamilyPolicy: PreferDualStack
  selector: {app: web}
  ports: [{name: http, port: 8081, targetPort: http}]
`);
    const lb = await eventually('the load balancer ingress', async () => {
      const svc = await getJSON<Service>(['service', 'web-lb']);
      return (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 && svc;
    });
    assert.deepEqual(lb.status!.loadBalancer!.ingress!.map((i) => i.ip), [nodeIPv4, nodeIPv6]);
    const get = await kOk(['get', 'service', 'web-lb']);
    assert.match(get, new RegExp(`^web-lb\\s+LoadBalancer\\s+10\\.43\\.\\d+\\.\\d+\\s+${nodeIPv4},${nodeIPv6}\\s+8081:3\\d{4}/TCP\\s+`, 'm'), get);
    await eventually('web-lb to answer', async () => (await bed.httpGets(bed.client, `http://${nodeIPv4}:8081/`, 1))[0]!.startsWith('web-'));
    for (const url of [`http://${nodeIPv4}:8081/`, `http://[${nodeIPv6}]:8081/`]) {
      const outside = await bed.httpGets(bed.client, url, 60);
      assert.deepEqual(new Set(outside), names(), `from outside to ${url}: ${outside.join(',')}`);
    }
    const fromNode = await bed.httpGets(bed.node, `http://${nodeIPv4}:8081/`, 60);
    assert.deepEqual(new Set(fromNode), names(), fromNode.join(','));
  });

  it('exposes the deployment with kubectl expose (1.33 and 1.29) as upstream prints it', async () => {
    for (const minor of [33, 29]) {
      const name = `web-x${minor}`;
      const out = await kOk(['expose', 'deployment', 'web', '--name', name, '--port', `80${minor}`, '--target-port', '8080'], undefined, minor);
      assert.equal(out, `service/${name} exposed\n`);
      const get = await kOk(['get', 'service', name], undefined, minor);
      assert.match(get, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
      assert.match(get, new RegExp(`^${name}\\s+ClusterIP\\s+10\\.43\\.\\d+\\.\\d+\\s+<none>\\s+80${minor}/TCP\\s+\\d\\S*$`, 'm'), get);
      const slices = await eventually(`${name}'s slice`, async () => {
        const r = await kOk(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${name}`], undefined, minor);
        return /10\.42\.0\.\d+,10\.42\.0\.\d+,10\.42\.0\.\d+/.test(r) && r;
      });
      assert.match(slices, new RegExp(`^${name}-[a-z0-9]{5}\\s+IPv4\\s+8080\\s+`, 'm'), slices);
      await eventually(`${name} to answer`, async () => (await podGets(`http://${name}:80${minor}/`, 1))[0]!.startsWith('web-'));
      const bodies = await podGets(`http://${name}:80${minor}/`, 30);
      assert.deepEqual(new Set(bodies), names(), bodies.join(','));
    }
  });

  /** The proxy's two tables in the node namespace, as nft lists them. */
  const proxyTables = (): string => ['ip', 'ip6'].map((f) => sh(['ip', 'netns', 'exec', bed.node, 'nft', 'list', 'table', f, 'k8ts-proxy'])).join('');

  it('removes a deleted service\'s rules at once and frees its cluster IPs and node port', async () => {
    const lb = await getJSON<Service>(['service', 'web-lb']);
    const [v4, v6] = lb.spec!.clusterIPs!;
    const nodePort = lb.spec!.ports![0]!.nodePort!;
    const traces = [v4!, v6!, `. ${nodePort} :`, 'default/web-lb/'];
    const mentions = (): string[] => traces.filter((x) => proxyTables().includes(x));
    assert.deepEqual(mentions(), traces);
    await kOk(['delete', 'service', 'web-lb']);
    // Well before the periodic full sync (30 s) would repair the table.
    await eventually('the rules to go', () => Promise.resolve(mentions().length === 0), 20_000);
    // The addresses and the port are free again: a new service may ask for them.
    const out = await kOk(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-lb2' },
      spec: { type: 'LoadBalancer', ipFamilyPolicy: 'PreferDualStack', clusterIP: v4, clusterIPs: [v4, v6], selector: { app: 'web' }, ports: [{ port: 8081, targetPort: 8080, nodePort }] },
    })); // prettier-ignore
    assert.match(out, /^service\/web-lb2 created$/m);
    await eventually('web-lb2 to answer', async () => (await bed.httpGets(bed.client, `http://${nodeIPv4}:8081/`, 1))[0]!.startsWith('web-'));
    assert.doesNotMatch(node.server!.output, /"msg":"sync failed"/);
  });

  it('rejects connections at once when the deployment is scaled to zero, and drops a deleted service\'s reject rules', async () => {
    assert.match(await kOk(['scale', 'deployment', 'web', '--replicas=0']), /^deployment\.apps\/web scaled$/m);
    await eventually('no endpoints left', async () => (await slicesOf('web')).every((s) => (s.endpoints ?? []).length === 0), 60_000);
    const [v4, v6] = web.spec!.clusterIPs!;
    const nodePort = web.spec!.ports![0]!.nodePort!;
    await eventually('the proxy to follow', async () => (await bed.httpGets(bed.node, `http://${v4}/`, 1, 10_000))[0] === 'ECONNREFUSED');
    // Rejected, not dropped: the client hears "refused" at once rather than waiting for its timeout.
    const fromPod = await inClient(`for u in http://web/ 'http://[${v6}]/'; do timeout 5 wget -q -O - "$u"; echo "exit $?"; done`);
    assert.equal(fromPod.match(/Connection refused/g)?.length, 2, fromPod);
    assert.equal(fromPod.match(/exit 1\b/g)?.length, 2, fromPod);
    for (const url of [`http://${v4}/`, `http://[${v6}]/`, `http://${nodeIPv4}:${nodePort}/`]) {
      assert.deepEqual(await bed.httpGets(bed.node, url, 2, 10_000), ['ECONNREFUSED', 'ECONNREFUSED'], url);
    }
    assert.deepEqual(await bed.httpGets(bed.client, `http://${nodeIPv4}:8081/`, 2, 10_000), ['ECONNREFUSED', 'ECONNREFUSED']);
    // Without endpoints the service is only elements of the reject maps; deleting it removes them too.
    const traces = [v4!, v6!, `. ${nodePort} :`];
    const mentions = (): string[] => traces.filter((x) => proxyTables().includes(x));
    assert.deepEqual(mentions(), traces);
    await kOk(['delete', 'service', 'web']);
    await eventually('the reject rules to go', () => Promise.resolve(mentions().length === 0), 20_000);
  });
});
