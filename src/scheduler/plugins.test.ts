// The default plugins through the real framework and cache, without an API server: nodes and pods go
// straight into the cache, and schedulePod answers with a node or upstream's FitError text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, RESTClient } from '../client/index.js';
import { LabelSelector } from '../api/labels.js';
import { SchedulerCache } from './cache.js';
import { resolveConfiguration, resolvePlugins } from './config.js';
import type { QueuedPodInfo } from './framework.js';
import { fitErrorMessage } from './framework.js';
import { newPodInfo } from './pod-info.js';
import { SchedulingQueue } from './queue.js';
import { podRequests } from './resources.js';
import type { Scheduler as SchedulerT } from './scheduler.js';
import { numFeasibleNodesToFind, Scheduler } from './scheduler.js';
import { makeNode, makePod } from './testing/objects.js';
import type { Node, Pod } from './types.js';
import { newDefaultPreemption, splitByPDBViolation } from './plugins/default-preemption.js';
import { newPodTopologySpread } from './plugins/pod-topology-spread.js';
import { CycleState, Status } from './types.js';

let uid = 0;
const withUid = (p: Pod): void => {
  const meta = p.metadata as { uid?: string };
  meta.uid ??= `uid-${++uid}`;
};
function harness(config = resolveConfiguration()): { s: SchedulerT; node: (n: Node) => void; place: (p: Pod, node: string) => void; schedule: (p: Pod) => string } {
  // No request is ever sent: schedulePod only reads the cache.
  const s = new Scheduler({ client: new RESTClient({ server: 'http://127.0.0.1:1' }), leaderElect: false, config });
  return {
    s,
    node: (n) => void s.cache.addNode(n),
    place: (p, node) => {
      withUid(p);
      s.cache.addPod(newPodInfo(p), node);
    },
    schedule: (p) => {
      withUid(p);
      const fw = s.framework()!;
      const info = newPodInfo(p);
      const r = s.schedulePod(fw, fw.newCycleState(), info);
      if ('node' in r) return r.node;
      return fitErrorMessage(r.numAllNodes, r.diagnosis);
    },
  };
}

const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });

describe('filters and their messages', () => {
  it('a taint without toleration plus node affinity: each node says why', () => {
    const h = harness();
    h.node(makeNode('tainted', { labels: { disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }));
    h.node(makeNode('plain'));
    const pod = makePod('p', { spec: { nodeSelector: { disk: 'ssd' } } });
    assert.equal(h.schedule(pod), "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: db}.");
    pod.spec!.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }];
    assert.equal(h.schedule(pod), 'tainted');
  });

  it('spreading across zones with one zone full leaves the pod pending (skew counts the full zone)', () => {
    const h = harness();
    h.node(makeNode('a', { labels: zone('a') }));
    h.node(makeNode('b', { labels: zone('b') }));
    h.node(makeNode('c', { cpu: '1', labels: zone('c') }));
    const labels = { app: 'web' };
    h.place(makePod('web-1', { labels, cpu: '100m' }), 'a');
    h.place(makePod('web-2', { labels, cpu: '100m' }), 'b');
    h.place(makePod('filler', { cpu: '1' }), 'c');
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } }] };
    assert.equal(h.schedule(makePod('web-3', { labels, cpu: '100m', spec: spread })), "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match pod topology spread constraints.");
    // ScheduleAnyway only scores: the pod lands in a zone with room.
    const soft = { topologySpreadConstraints: [{ ...spread.topologySpreadConstraints[0]!, whenUnsatisfiable: 'ScheduleAnyway' }] };
    assert.match(h.schedule(makePod('web-4', { labels, cpu: '100m', spec: soft })), /^[ab]$/);
  });

  it('required anti-affinity with itself puts replicas on different nodes, and the third waits', () => {
    const h = harness();
    h.node(makeNode('n1'));
    h.node(makeNode('n2'));
    const labels = { app: 'db' };
    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'kubernetes.io/hostname' }] } } };
    const first = makePod('db-0', { labels, spec: anti });
    const n1 = h.schedule(first);
    h.place(first, n1);
    const second = makePod('db-1', { labels, spec: anti });
    const n2 = h.schedule(second);
    assert.notEqual(n1, n2);
    h.place(second, n2);
    assert.equal(h.schedule(makePod('db-2', { labels, spec: anti })), "0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules.");
    // A pod without the term, but selected by the existing pods' anti-affinity, is kept away too.
    assert.equal(h.schedule(makePod('other', { labels })), "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules.");
  });

  it('required pod affinity: the first pod of a group may go anywhere, the rest follow it', () => {
    const h = harness();
    h.node(makeNode('n1', { labels: zone('a') }));
    h.node(makeNode('n2', { labels: zone('b') }));
    const labels = { app: 'cache' };
    const aff = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: labels }, topologyKey: 'topology.kubernetes.io/zone' }] } } };
    const first = makePod('c-0', { labels, spec: aff });
    const where = h.schedule(first);
    h.place(first, where);
    for (let i = 1; i < 5; i++) assert.equal(h.schedule(makePod(`c-${i}`, { labels, spec: aff })), where);
    // A pod that wants the group but is not in it has nowhere to go before the group exists.
    const h2 = harness();
    h2.node(makeNode('n1'));
    assert.equal(h2.schedule(makePod('lonely', { spec: aff })), "0/1 nodes are available: 1 node(s) didn't match pod affinity rules.");
  });

  it('NodePorts, NodeUnschedulable and NodeName', () => {
    const h = harness();
    h.node(makeNode('cordoned', { unschedulable: true }));
    h.node(makeNode('busy'));
    const withPort = (name: string) => makePod(name, { spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }] } });
    h.place(withPort('a'), 'busy');
    assert.equal(h.schedule(withPort('b')), "0/2 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) were unschedulable.");
    assert.equal(h.schedule(makePod('named', { spec: { nodeName: 'elsewhere' } })), "0/2 nodes are available: 1 node(s) didn't match the requested node name, 1 node(s) were unschedulable.");
  });

  it('NodeResourcesFit sums containers, init containers, sidecars and overhead as upstream', () => {
    const pod = makePod('p', {
      spec: {
        containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '1', memory: '1Gi' } } }],
        initContainers: [
          { name: 'sidecar', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } },
          { name: 'init', image: 'x', resources: { requests: { cpu: '2', memory: '100Mi' } } },
        ],
        overhead: { cpu: '100m' },
      },
    });
    const r = podRequests(pod);
    // max(1 + 0.2 sidecar, 2 + 0.2 sidecar during init) + 0.1 overhead
    assert.equal(r.milliCPU, 2300);
    assert.equal(r.memory, 1024 ** 3);
    const h = harness();
    h.node(makeNode('n', { cpu: '2', pods: '1', extra: { 'example.com/gpu': '1' } }));
    h.place(makePod('x'), 'n');
    const gpu = makePod('g', { cpu: '3', spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '3', 'example.com/gpu': '2' } } }] } });
    assert.equal(h.schedule(gpu), '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient example.com/gpu, 1 Too many pods.');
  });

  it('scores: LeastAllocated spreads, MostAllocated packs, preferred node affinity and PreferNoSchedule count', () => {
    const two = (cfg = resolveConfiguration()) => {
      const h = harness(cfg);
      h.node(makeNode('empty'));
      h.node(makeNode('half'));
      h.place(makePod('load', { cpu: '2', memory: '16Gi' }), 'half');
      return h;
    };
    assert.equal(two().schedule(makePod('p', { cpu: '500m', memory: '1Gi' })), 'empty');
    const most = resolveConfiguration({ profiles: [{ pluginConfig: [{ name: 'NodeResourcesFit', args: { scoringStrategy: { type: 'MostAllocated' } } }] }] });
    assert.equal(two(most).schedule(makePod('p', { cpu: '500m', memory: '1Gi' })), 'half');
    const h = harness();
    h.node(makeNode('soft-tainted', { labels: { tier: 'gold' }, taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }));
    h.node(makeNode('gold', { labels: { tier: 'gold' } }));
    h.node(makeNode('silver', { labels: { tier: 'silver' } }));
    const prefer = { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] } }] } } };
    for (let i = 0; i < 5; i++) assert.equal(h.schedule(makePod(`p${i}`, { spec: prefer })), 'gold');
  });

  it('ImageLocality prefers the node that has the image', () => {
    const h = harness();
    h.node(makeNode('without'));
    h.node(makeNode('with', { images: [{ names: ['registry.k8s.io/pause:3.10'], sizeBytes: 500 * 1024 * 1024 }] }));
    for (let i = 0; i < 5; i++) assert.equal(h.schedule(makePod(`p${i}`)), 'with');
  });

  it('preemption picks victims of the lowest priority and keeps the rest', () => {
    const h = harness();
    h.node(makeNode('n1', { cpu: '2' }));
    h.node(makeNode('n2', { cpu: '2' }));
    h.place(makePod('n1-low', { cpu: '2', priority: 10 }), 'n1');
    h.place(makePod('n2-mid', { cpu: '2', priority: 100 }), 'n2');
    const fw = h.s.framework()!;
    const pre = fw.postFilter[0]!;
    const pod = makePod('high', { cpu: '1', priority: 1000, uid: 'high' });
    const info = newPodInfo(pod);
    const state = fw.newCycleState();
    const r = h.s.schedulePod(fw, state, info);
    assert.ok('diagnosis' in r);
    const res = pre.postFilter(state, info, r.diagnosis.nodeStatuses);
    assert.equal(res.status.code, 'Success');
    assert.equal(res.nominatedNodeName, 'n1');
    const never = newPodInfo(makePod('never', { cpu: '1', priority: 1000, uid: 'never', spec: { preemptionPolicy: 'Never' } }));
    assert.equal(pre.postFilter(state, never, r.diagnosis.nodeStatuses).status.message(), 'preemption: not eligible due to preemptionPolicy=Never.');
  });

  it('preemption spends PodDisruptionBudgets as upstream: a matching pod beyond disruptionsAllowed violates', () => {
    const pod = (name: string, labels: Record<string, string>, namespace = 'default') => newPodInfo(makePod(name, { labels, namespace, uid: name }));
    const pdb = (name: string, matchLabels: Record<string, string> | undefined, allowed: number, disrupted: string[] = []) => ({
      metadata: { name, namespace: 'default' },
      spec: matchLabels ? { selector: { matchLabels } } : {},
      status: { disruptionsAllowed: allowed, disruptedPods: Object.fromEntries(disrupted.map((d) => [d, '2026-01-01T00:00:00Z'])), currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    });
    const pods = [pod('a', { app: 'web' }), pod('b', { app: 'web' }), pod('c', { app: 'web' }), pod('other-ns', { app: 'web' }, 'kube-system'), pod('bare', {})];
    const names = (r: { violating: { uid: string }[]; nonViolating: { uid: string }[] }) => [r.violating.map((p) => p.uid), r.nonViolating.map((p) => p.uid)];
    // One disruption allowed: the first matching pod spends it, the next two break the budget.
    assert.deepEqual(names(splitByPDBViolation(pods, [pdb('web', { app: 'web' }, 1)])), [['b', 'c'], ['a', 'other-ns', 'bare']]);
    // A pod the budget already counts as disrupted spends nothing.
    assert.deepEqual(names(splitByPDBViolation(pods, [pdb('web', { app: 'web' }, 1, ['a'])])), [['c'], ['a', 'b', 'other-ns', 'bare']]);
    // A budget with an empty selector protects nothing.
    assert.deepEqual(names(splitByPDBViolation(pods, [pdb('all', undefined, 0)])), [[], ['a', 'b', 'c', 'other-ns', 'bare']]);
  });

  it('preemption prefers the node whose victims break no PodDisruptionBudget, even at a higher priority', () => {
    const h = harness();
    h.node(makeNode('n1', { cpu: '2' }));
    h.node(makeNode('n2', { cpu: '2' }));
    h.place(makePod('guarded', { cpu: '2', priority: 10, labels: { app: 'db' } }), 'n1');
    h.place(makePod('free', { cpu: '2', priority: 100, labels: { app: 'batch' } }), 'n2');
    const fw = h.s.framework()!;
    const info = newPodInfo(makePod('high', { cpu: '1', priority: 1000, uid: 'high' }));
    const state = fw.newCycleState();
    const r = h.s.schedulePod(fw, state, info);
    assert.ok('diagnosis' in r);
    const budgets: object[] = [];
    const pre = newDefaultPreemption(undefined, {
      cache: h.s.cache,
      framework: () => fw,
      nominatedPods: () => [],
      schedulerName: 'default-scheduler',
      podDisruptionBudgets: () => budgets,
    });
    // Without a budget the lowest-priority victim goes.
    assert.equal(pre.postFilter(state, info, r.diagnosis.nodeStatuses).nominatedNodeName, 'n1');
    budgets.push({ metadata: { name: 'db', namespace: 'default' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } });
    assert.equal(pre.postFilter(state, info, r.diagnosis.nodeStatuses).nominatedNodeName, 'n2');
    const victims = pre.selectVictimsOnNode(state, info, h.s.cache.node('n1')!);
    assert.deepEqual([victims.victims?.map((v) => v.pod.metadata?.name), victims.pdbViolations], [['guarded'], 1]);
  });
});

describe('scoring by spreading and pod affinity', () => {
  it('spreads pods without constraints by the cluster defaults over their owners’ selector', () => {
    const cache = new SchedulerCache();
    for (const n of ['n1', 'n2']) cache.addNode(makeNode(n, { labels: zone('a') }));
    const labels = { app: 'web' };
    for (let i = 0; i < 3; i++) cache.addPod(newPodInfo(makePod(`w${i}`, { labels, uid: `w${i}` })), 'n1');
    const handle = { cache, framework: () => undefined as never, nominatedPods: () => [], schedulerName: 'default-scheduler', defaultSelector: () => LabelSelector.fromSet(labels) };
    const spread = newPodTopologySpread(undefined, handle);
    const pod = newPodInfo(makePod('w-new', { labels }));
    const state = new CycleState();
    const nodes = cache.nodeList();
    assert.equal(spread.preScore(state, pod, nodes), null);
    const scores = nodes.map((n) => ({ name: n.name, score: spread.score(state, pod, n) }));
    spread.normalizeScore!(state, pod, scores);
    assert.ok(scores[1]!.score > scores[0]!.score, JSON.stringify(scores));
    // Without any owner or Service selecting it, a pod is not spread by default.
    const lone = newPodInfo(makePod('lone'));
    const noOwners = newPodTopologySpread(undefined, { ...handle, defaultSelector: () => LabelSelector.everything() });
    assert.equal(noOwners.preScore(new CycleState(), lone, nodes)?.code, 'Skip');
  });

  it('preferred pod affinity and anti-affinity pull toward and push away from matching pods', () => {
    const h = harness();
    h.node(makeNode('with-cache', { labels: zone('a') }));
    h.node(makeNode('with-noisy', { labels: zone('b') }));
    h.node(makeNode('empty', { labels: zone('c') }));
    h.place(makePod('cache', { labels: { app: 'cache' } }), 'with-cache');
    h.place(makePod('noisy', { labels: { app: 'noisy' } }), 'with-noisy');
    const term = (app: string, weight: number) => ({ weight, podAffinityTerm: { labelSelector: { matchLabels: { app } }, topologyKey: 'topology.kubernetes.io/zone' } });
    const spec = { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term('cache', 100)] }, podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term('noisy', 100)] } } };
    for (let i = 0; i < 5; i++) assert.equal(h.schedule(makePod(`p${i}`, { spec })), 'with-cache');
  });
});

describe('percentageOfNodesToScore and the message form', () => {
  it('follows upstream’s adaptive rule', () => {
    assert.equal(numFeasibleNodesToFind(0, 50), 50);
    assert.equal(numFeasibleNodesToFind(0, 100), 100);
    assert.equal(numFeasibleNodesToFind(0, 1000), 420);
    assert.equal(numFeasibleNodesToFind(0, 5000), 500);
    assert.equal(numFeasibleNodesToFind(0, 20_000), 1000);
    assert.equal(numFeasibleNodesToFind(30, 1000), 300);
    assert.equal(numFeasibleNodesToFind(1, 1000), 100);
  });

  it('sorts reason counts as strings', () => {
    const statuses = new Map<string, Status>();
    for (let i = 0; i < 10; i++) statuses.set(`a${i}`, new Status('Unschedulable', ['Insufficient memory']));
    for (let i = 0; i < 2; i++) statuses.set(`b${i}`, new Status('Unschedulable', ['Insufficient cpu']));
    assert.equal(fitErrorMessage(12, { nodeStatuses: statuses, unschedulablePlugins: new Set(), preFilterMsg: '', postFilterMsg: '' }), '0/12 nodes are available: 10 Insufficient memory, 2 Insufficient cpu.');
  });
});

describe('configuration', () => {
  it('expands upstream’s default profile with its weights', () => {
    const p = resolvePlugins(undefined);
    assert.deepEqual(p.queueSort, ['PrioritySort']);
    assert.deepEqual(p.filter, ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeRestrictions', 'NodeVolumeLimits', 'VolumeBinding', 'VolumeZone', 'PodTopologySpread', 'InterPodAffinity']);
    assert.deepEqual(p.score, [
      { name: 'TaintToleration', weight: 3 },
      { name: 'NodeAffinity', weight: 2 },
      { name: 'NodeResourcesFit', weight: 1 },
      { name: 'PodTopologySpread', weight: 2 },
      { name: 'InterPodAffinity', weight: 2 },
      { name: 'NodeResourcesBalancedAllocation', weight: 1 },
      { name: 'ImageLocality', weight: 1 },
    ]);
    assert.deepEqual(p.postFilter, ['DefaultPreemption']);
    assert.deepEqual(p.bind, ['DefaultBinder']);
  });

  it('disables and re-weights per extension point, and checks profiles', () => {
    const cfg = resolveConfiguration({
      apiVersion: 'kubescheduler.config.k8s.io/v1',
      kind: 'KubeSchedulerConfiguration',
      percentageOfNodesToScore: 30,
      profiles: [
        { schedulerName: 'default-scheduler' },
        { schedulerName: 'packer', plugins: { score: { disabled: [{ name: 'ImageLocality' }], enabled: [{ name: 'NodeResourcesFit', weight: 5 }] }, postFilter: { disabled: [{ name: '*' }] } } },
      ],
    });
    assert.equal(cfg.percentageOfNodesToScore, 30);
    const packer = cfg.profiles[1]!;
    assert.equal(packer.schedulerName, 'packer');
    assert.deepEqual(packer.plugins.postFilter, []);
    assert.equal(packer.plugins.score[0]!.name, 'NodeResourcesFit');
    assert.equal(packer.plugins.score[0]!.weight, 5);
    assert.ok(!packer.plugins.score.some((s) => s.name === 'ImageLocality'));
    assert.throws(() => resolveConfiguration({ profiles: [{ schedulerName: 'a' }, { schedulerName: 'a' }] }), /Duplicate value: "a"/);
    assert.throws(() => resolveConfiguration({ apiVersion: 'kubescheduler.config.k8s.io/v1beta3' }), /no kind/);
    assert.throws(() => resolveConfiguration({ percentageOfNodesToScore: 101 }), /not in valid range/);
  });
});

describe('scheduling queue', () => {
  const q = (name: string, priority: number): ReturnType<typeof newPodInfo> => newPodInfo(makePod(name, { priority, uid: name }));

  it('pops by priority, then by arrival; backs off 1 s doubling to 10 s', async () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ less: (a, b) => a.info.priority > b.info.priority || (a.info.priority === b.info.priority && a.timestamp < b.timestamp), clock });
    queue.add(q('low', 1));
    await clock.step(1);
    queue.add(q('high', 100));
    queue.add(q('low2', 1));
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(((await queue.pop()) as QueuedPodInfo).info.key);
    assert.deepEqual(order, ['default/high', 'default/low', 'default/low2']);
    const fake = { info: q('x', 0), timestamp: 0, initialAttemptTimestamp: 0, attempts: 0, unschedulablePlugins: new Set<string>(), cycle: 0 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((attempts) => queue.backoffDuration({ ...fake, attempts })), [1000, 2000, 4000, 8000, 10_000, 10_000]);
    queue.close();
  });

  it('moves an unschedulable pod back on a cluster event its plugin cares about', async () => {
    const clock = new FakeClock();
    const queue = new SchedulingQueue({ less: (a, b) => a.timestamp < b.timestamp, clock, interested: (plugin, event) => plugin === 'NodeResourcesFit' && event === 'NodeAdd' });
    queue.add(q('p', 0));
    const popped = (await queue.pop()) as QueuedPodInfo;
    popped.unschedulablePlugins = new Set(['NodeResourcesFit']);
    queue.addUnschedulableIfNotPresent(popped, true);
    assert.equal(queue.pending.unschedulable, 1);
    queue.moveAllToActiveOrBackoffQueue('AssignedPodAdd');
    assert.equal(queue.pending.unschedulable, 1);
    await clock.step(5000);
    queue.moveAllToActiveOrBackoffQueue('NodeAdd');
    assert.equal(queue.pending.active, 1);
    queue.close();
  });
});
