// The node IPAM controller (upstream's pkg/controller/nodeipam with the RangeAllocator): every node gets
// spec.podCIDRs, one subnet of each cluster CIDR (so an IPv4 and an IPv6 range for dual-stack), which its
// kubelet and network plugin hand out to pods. Subnets come back when the node is deleted; at start the
// taken ones are read back from the existing nodes before anything new is handed out.
import type { Logger } from '../../base/log.js';
import type { EventRecorder, KubeObject, RESTClient, SharedInformer } from '../../client/index.js';
import { DeletedFinalStateUnknown, isStatus } from '../../client/index.js';
import type { Controller, ControllerContext } from '../common/controller.js';
import { newQueue, runWorkers } from '../common/controller.js';
import { CidrSet } from './cidr-set.js';

const nodesRef = { group: '', version: 'v1', resource: 'nodes' };

/** k3s's default cluster CIDRs, with upstream's node mask sizes. */
export const nodeIpamDefaults = { clusterCIDRs: ['10.42.0.0/16', 'fd42::/48'], nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 };

interface NodeObject extends KubeObject {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
}

/** Gives every node its pod CIDRs. */
export class NodeIpamController implements Controller {
  readonly name = 'nodeipam';
  private readonly client: RESTClient;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly nodes: SharedInformer<NodeObject>;
  private readonly queue = newQueue('nodeipam');
  /** One set per cluster CIDR, in the order given. */
  readonly sets: CidrSet[];
  /** What each node was given or found with, to release on delete. */
  private readonly assigned = new Map<string, string[]>();

  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.log = ctx.log.with({ controller: 'nodeipam' });
    this.recorder = ctx.recorder('cidrAllocator');
    const c = ctx.config ?? {};
    const cidrs = c.clusterCIDRs ?? nodeIpamDefaults.clusterCIDRs;
    this.sets = cidrs.map((cidr) => {
      const v6 = cidr.includes(':');
      const mask = v6 ? (c.nodeCIDRMaskSizeIPv6 ?? nodeIpamDefaults.nodeCIDRMaskSizeIPv6) : (c.nodeCIDRMaskSizeIPv4 ?? nodeIpamDefaults.nodeCIDRMaskSizeIPv4);
      return new CidrSet(cidr, mask);
    });
    if (this.sets.length > 2 || (this.sets.length === 2 && this.sets[0]!.family === this.sets[1]!.family)) {
      throw new Error(`--cluster-cidr takes at most one IPv4 and one IPv6 range, got ${cidrs.join(',')}`);
    }
    this.nodes = ctx.informers.informerFor<NodeObject>(nodesRef);
    this.nodes.addEventHandler({
      onAdd: (n) => this.queue.add(n.metadata?.name ?? ''),
      // Updates are synced too: a node may come back with ranges another manager instance gave it.
      onUpdate: (o, n) => {
        if ((n.spec?.podCIDRs ?? []).length === 0 || JSON.stringify(o.spec?.podCIDRs) !== JSON.stringify(n.spec?.podCIDRs)) this.queue.add(n.metadata?.name ?? '');
      },
      onDelete: (obj) => {
        const n = obj instanceof DeletedFinalStateUnknown ? obj.obj : obj;
        this.release(n.metadata?.name ?? '', n.spec?.podCIDRs ?? []);
        // Nodes still waiting for a range may get the one just freed.
        for (const other of this.nodes.lister.list()) if ((other.spec?.podCIDRs ?? []).length === 0) this.queue.add(other.metadata?.name ?? '');
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.nodes.waitForSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    // Everything already handed out is taken before the first allocation.
    for (const n of this.nodes.lister.list()) this.occupy(n);
    await runWorkers(this.queue, 1, (name) => this.sync(name), signal, this.log);
  }

  private occupy(node: NodeObject): void {
    const cidrs = node.spec?.podCIDRs ?? [];
    if (cidrs.length === 0) return;
    for (const cidr of cidrs) for (const s of this.sets) s.occupy(cidr);
    this.assigned.set(node.metadata?.name ?? '', cidrs);
  }

  private release(name: string, cidrs: string[]): void {
    const mine = this.assigned.get(name) ?? cidrs;
    this.assigned.delete(name);
    for (const cidr of mine) for (const s of this.sets) s.release(cidr);
  }

  private async sync(name: string): Promise<void> {
    const node = this.nodes.lister.get('', name);
    if (!node) return;
    if ((node.spec?.podCIDRs ?? []).length > 0) {
      this.occupy(node);
      return;
    }
    if (this.assigned.has(name)) {
      // Handed out already; the cache has not seen the write yet, or it failed: write the same again.
      await this.write(node, this.assigned.get(name)!);
      return;
    }
    const cidrs: string[] = [];
    for (const s of this.sets) {
      const c = s.allocateNext();
      if (c === undefined) {
        for (const got of cidrs) for (const x of this.sets) x.release(got);
        this.recorder.event({ apiVersion: 'v1', kind: 'Node', name, uid: name }, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
        throw new Error(`failed to allocate cidr from cluster cidr at idx:${this.sets.indexOf(s)}: CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range`);
      }
      cidrs.push(c);
    }
    this.assigned.set(name, cidrs);
    await this.write(node, cidrs);
  }

  private async write(node: NodeObject, cidrs: string[]): Promise<void> {
    const name = node.metadata?.name ?? '';
    try {
      await this.client.patch(nodesRef, name, { spec: { podCIDR: cidrs[0], podCIDRs: cidrs } }, 'merge');
      this.log.info('Set node PodCIDR', { node: name, podCIDRs: cidrs });
    } catch (err) {
      if (isStatus(err, 404)) {
        this.release(name, cidrs);
        return;
      }
      throw err;
    }
  }
}
