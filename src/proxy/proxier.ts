// kube-proxy on nftables: informers on Services and EndpointSlices, and a sync loop that programs one table
// per family (`table ip k8ts-proxy`, `table ip6 k8ts-proxy`) through `nft -f -` transactions. After the
// first full sync, a change rewrites only the chains and map elements that differ from what was applied;
// a periodic full sync rewrites the whole table, which repairs rules or chains someone else removed. The
// proxy never touches any other table.
import { spawn } from 'node:child_process';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { IPFamily } from '../api/ip.js';
import type { Logger } from '../base/log.js';
import { logger } from '../base/log.js';
import type { KubeObject, RESTClient } from '../client/index.js';
import { SharedInformer } from '../client/index.js';
import type { TableState } from './rules.js';
import { baseState, defaultTableName, emptyState, fullSyncScript, incrementalScript, mergeState, servicePorts, serviceState } from './rules.js';

export interface ProxierOptions {
  client: RESTClient;
  /** This node's name: endpoints on it are local for the Local traffic policies. */
  nodeName: string;
  /** Families to program; default both. */
  families?: IPFamily[];
  /** Pod CIDRs (--cluster-cidr); traffic to a cluster IP from outside them is masqueraded. */
  clusterCIDRs?: string[];
  /** The command that runs nft (default ["nft"]); tests prefix `ip netns exec NS`. */
  nftCommand?: string[];
  /** The table name; default k8ts-proxy. */
  tableName?: string;
  /** Least time between two syncs (upstream's --iptables-min-sync-period); default 0: at once. */
  minSyncPeriodMs?: number;
  /** Time between full syncs (upstream's --iptables-sync-period); default 30 s. */
  fullSyncPeriodMs?: number;
  /** Called after each applied sync (for benchmarks and tests). */
  onSynced?: (info: { full: boolean; durationMs: number; families: IPFamily[] }) => void;
  log?: Logger;
}

type ServiceObject = Service & KubeObject;
type SliceObject = EndpointSlice & KubeObject;

/** Runs `cmd args`, feeding `input` on stdin; rejects with stderr when it fails. */
export function runCommand(cmd: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    // nft may stop reading early (a bad script): the exit code tells, not a broken pipe.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd.join(' ')} exited ${code}: ${err.trim().slice(0, 2000)}`))));
    child.stdin.end(input);
  });
}

/** The proxy. */
export class Proxier {
  private readonly options: ProxierOptions;
  private readonly log: Logger;
  readonly services: SharedInformer<ServiceObject>;
  readonly slices: SharedInformer<SliceObject>;
  private readonly families: IPFamily[];
  private readonly table: string;
  private readonly nft: string[];
  /**
   * What the kernel holds, per family, as of the last successful sync: one part per service
   * ("namespace/name"), so that a change recomputes and diffs only the services it touched.
   */
  private readonly applied = new Map<IPFamily, Map<string, TableState>>();
  /** Services changed since the last sync. */
  private readonly changed = new Set<string>();
  private needFull = true;
  private dirty = true;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSyncAt = 0;
  private stopped = false;
  /** Consecutive failed syncs: the pause before the next one doubles with each (1 s up to 30 s). */
  private failures = 0;
  private signal: AbortSignal | undefined;

  constructor(options: ProxierOptions) {
    this.options = options;
    this.log = options.log ?? logger('kube-proxy');
    this.families = options.families ?? ['IPv4', 'IPv6'];
    this.table = options.tableName ?? defaultTableName;
    this.nft = options.nftCommand ?? ['nft'];
    this.services = SharedInformer.forResource<ServiceObject>(options.client, { group: '', version: 'v1', resource: 'services' });
    this.slices = SharedInformer.forResource<SliceObject>(options.client, { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' });
    const keyOf = (o: KubeObject, isSlice: boolean): string | undefined => {
      const name = isSlice ? o.metadata?.labels?.['kubernetes.io/service-name'] : o.metadata?.name;
      return name ? `${o.metadata?.namespace ?? ''}/${name}` : undefined;
    };
    for (const [inf, isSlice] of [[this.services, false], [this.slices, true]] as [SharedInformer, boolean][]) {
      const mark = (o: KubeObject): void => {
        const key = keyOf(o, isSlice);
        if (key !== undefined) this.changed.add(key);
        this.requestSync();
      };
      inf.addEventHandler({
        onAdd: mark,
        onUpdate: (a, b) => {
          if (a.metadata?.resourceVersion === b.metadata?.resourceVersion) return;
          mark(a);
          mark(b);
        },
        onDelete: (o) => mark('obj' in o && o.obj ? (o.obj as KubeObject) : (o as KubeObject)),
      });
    }
  }

  /** The table content last applied for a family (merged; for tests and diagnostics). */
  appliedState(family: IPFamily): TableState | undefined {
    const parts = this.applied.get(family);
    if (!parts) return undefined;
    const out = emptyState();
    for (const part of parts.values()) mergeState(out, part);
    return out;
  }

  /** The chain names last applied for a family, without merging (cheap enough to ask after every sync). */
  *appliedChainNames(family: IPFamily): Iterable<string> {
    for (const part of this.applied.get(family)?.values() ?? []) yield* part.chains.keys();
  }

  /** Waits, but not past the end of run(). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Runs until the signal aborts; removes nothing on exit (rules keep serving, as upstream's). */
  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    void this.services.run(signal);
    void this.slices.run(signal);
    await Promise.all([this.services.waitForSync(signal), this.slices.waitForSync(signal)]).catch(() => undefined);
    if (signal.aborted) return;
    const full = setInterval(() => {
      this.needFull = true;
      this.requestSync();
    }, this.options.fullSyncPeriodMs ?? 30_000);
    this.requestSync();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.stopped = true;
    clearInterval(full);
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** Asks for a sync: soon, but not sooner than the minimum period after the last one; coalesces requests. */
  requestSync(): void {
    this.dirty = true;
    if (this.running || this.timer || this.stopped) return;
    const wait = Math.max(0, this.lastSyncAt + (this.options.minSyncPeriodMs ?? 0) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.syncLoop().finally(() => {
        this.running = undefined;
        if (this.dirty && !this.stopped) this.requestSync();
      });
    }, wait);
  }

  private async syncLoop(): Promise<void> {
    if (!this.services.hasSynced() || !this.slices.hasSynced()) return;
    this.dirty = false;
    this.lastSyncAt = Date.now();
    try {
      await this.syncOnce(this.needFull);
      this.failures = 0;
    } catch (err) {
      // Unknown kernel state: the next sync is a full one, after a pause.
      this.failures++;
      this.log.error('sync failed', { error: err instanceof Error ? err.message : String(err), failures: this.failures });
      this.needFull = true;
      this.dirty = true;
      await this.pause(Math.min(30_000, 1000 * 2 ** (this.failures - 1)));
    }
  }

  /** One sync of every family: a full one, or one of the services changed since the last. */
  async syncOnce(full: boolean): Promise<void> {
    const t0 = performance.now();
    const slicesOf = (keys: Iterable<string> | undefined): Map<string, SliceObject[]> => {
      const wanted = keys === undefined ? undefined : new Set(keys);
      const byService = new Map<string, SliceObject[]>();
      for (const s of this.slices.lister.list()) {
        const svc = s.metadata?.labels?.['kubernetes.io/service-name'];
        if (!svc) continue;
        const key = `${s.metadata?.namespace ?? ''}/${svc}`;
        if (wanted && !wanted.has(key)) continue;
        const list = byService.get(key) ?? [];
        list.push(s);
        byService.set(key, list);
      }
      return byService;
    };
    const changed = [...this.changed];
    this.changed.clear();
    if (full) this.needFull = false;
    let services = 0;
    for (const family of this.families) {
      const config = {
        family,
        nodeName: this.options.nodeName,
        clusterCIDRs: (this.options.clusterCIDRs ?? []).filter((c) => c.includes(':') === (family === 'IPv6')),
      };
      const prev = this.applied.get(family);
      const partOf = (svc: ServiceObject, slices: Map<string, SliceObject[]>): TableState =>
        serviceState(servicePorts([svc], slices, config), config);
      let next: Map<string, TableState>;
      let script: string;
      if (full || prev === undefined) {
        const all = this.services.lister.list();
        const slices = slicesOf(undefined);
        next = new Map([['', baseState(config)]]);
        for (const svc of all) next.set(`${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`, partOf(svc, slices));
        services = all.length;
        const merged = emptyState();
        for (const part of next.values()) mergeState(merged, part);
        script = fullSyncScript(family, this.table, merged, await this.listTable(family));
      } else {
        next = new Map(prev);
        const slices = slicesOf(changed);
        const pieces: string[] = [];
        for (const key of changed) {
          const [ns = '', name = ''] = key.split('/');
          const svc = this.services.lister.get(ns, name);
          const part = svc ? partOf(svc, slices) : emptyState();
          pieces.push(incrementalScript(family, this.table, prev.get(key) ?? emptyState(), part));
          if (svc) next.set(key, part);
          else next.delete(key);
        }
        services = changed.length;
        script = pieces.join('');
      }
      if (script !== '') {
        try {
          await runCommand([...this.nft, '-f', '-'], script);
        } catch (err) {
          this.applied.delete(family);
          throw err;
        }
      }
      this.applied.set(family, next);
    }
    const durationMs = performance.now() - t0;
    this.log.info('synced', { full, durationMs: Math.round(durationMs), services }, full ? 1 : 4);
    this.options.onSynced?.({ full, durationMs, families: this.families });
  }

  /**
   * The chains, sets and maps the kernel's table holds now (empty when there is none). Listed by kind, as
   * `list table` would also print every rule (several times slower on a large table).
   */
  private async listTable(family: IPFamily): Promise<{ chains: string[]; sets: string[]; maps: string[] }> {
    const found = { chains: [] as string[], sets: [] as string[], maps: [] as string[] };
    const f = family === 'IPv4' ? 'ip' : 'ip6';
    for (const kind of ['chains', 'sets', 'maps'] as const) {
      let text: string;
      try {
        text = await runCommand([...this.nft, '-j', 'list', kind, f], '');
      } catch {
        continue;
      }
      const doc = JSON.parse(text) as { nftables?: Record<string, { name?: string; table?: string }>[] };
      const key = kind.slice(0, -1);
      for (const item of doc.nftables ?? []) {
        const o = item[key];
        if (o?.name && o.table === this.table) found[kind].push(o.name);
      }
    }
    return found;
  }

  /** Removes the proxy's tables (for `k8ts` cleanup and tests). */
  async cleanup(): Promise<void> {
    for (const family of this.families) {
      await runCommand([...this.nft, '-f', '-'], `destroy table ${family === 'IPv4' ? 'ip' : 'ip6'} ${this.table}\n`).catch(async () => {
        // nft before 1.0.8 has no "destroy": add then delete.
        const f = family === 'IPv4' ? 'ip' : 'ip6';
        await runCommand([...this.nft, '-f', '-'], `add table ${f} ${this.table}\ndelete table ${f} ${this.table}\n`);
      });
      this.applied.delete(family);
    }
  }
}
