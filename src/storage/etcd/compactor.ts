// The automatic compactor, coordinated between every API server that shares one etcd as kube-apiserver's
// is (k8s.io/apiserver/pkg/storage/etcd3/compact.go). The key "compact_rev_key" (at the root of etcd,
// outside any store prefix: compaction is global to the cluster) holds the last compaction target; its
// version counts the compactions. Each round a compactor swaps the key only if its version is still the
// one that compactor saw last round. The one that wins compacts to the revision it saw one interval earlier;
// the others learn the new version and try again an interval later. So one server compacts per interval,
// and at least one interval of history stays watchable.
import type { EtcdClient } from './etcd-client.js';
import { isServiceError } from './etcd-client.js';

/** The shared key the compactors coordinate on, named as kube-apiserver names it. */
export const compactRevKey = 'compact_rev_key';

const keyBytes = Buffer.from(compactRevKey);

/** Compacts etcd every interval, unless another compactor did within it. */
export class Compactor {
  private readonly client: EtcdClient;
  private readonly intervalMs: number;
  private readonly onCompacted: (revision: number) => void;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The version of compact_rev_key this compactor saw last. */
  private version = 0;
  /** The store's revision at this compactor's last round: the next compaction target. */
  private revision = 0;

  constructor(client: EtcdClient, intervalMs: number, onCompacted: (revision: number) => void) {
    this.client = client;
    this.intervalMs = intervalMs;
    this.onCompacted = onCompacted;
  }

  start(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.round()
        .catch(() => undefined) // etcd unreachable: try again next interval, as upstream does
        .finally(() => {
          if (!this.stopped) this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round; exported behaviour is only through onCompacted. */
  async round(): Promise<void> {
    const resp = await this.client.txn({
      compare: [{ result: 'EQUAL', target: 'VERSION', key: keyBytes, version: this.version }],
      success: [{ request_put: { key: keyBytes, value: Buffer.from(String(this.revision)) } }],
      failure: [{ request_range: { key: keyBytes } }],
    });
    if (this.stopped) return;
    const seen = Number(resp.header.revision);
    if (!resp.succeeded) {
      const kv = resp.responses[0]?.response_range?.kvs[0];
      this.version = Number(kv?.version ?? 0);
      this.revision = seen;
      const target = Number(kv?.value.toString() ?? '');
      if (Number.isSafeInteger(target) && target > 0) this.onCompacted(target);
      return;
    }
    this.version += 1;
    const target = this.revision;
    this.revision = seen;
    if (target === 0) return; // the first round only records where history starts
    try {
      await this.client.compact({ revision: target });
    } catch (err) {
      // Someone compacted further already: that is as good.
      if (!(isServiceError(err) && /compacted/.test(err.details))) throw err;
    }
    this.onCompacted(target);
  }
}
