// Network namespaces for tests that program packets (the proxy, DNS): a "node" namespace with a bridge
// for stand-in pods, pod namespaces on it running busybox httpd that answers with the pod's name, and a
// client namespace joined to the node by its own veth (so that replies route back through the node and
// its connection tracking). Everything is made with `ip` under names unique to the test process, and
// removed by remove(). Needs root, iproute2 and busybox.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs a command and fails with its output when it fails. */
export function sh(args: string[], input?: string): string {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Fails with a message naming what is missing when the machine cannot run network namespace tests. */
export function requireNetnsSupport(): void {
  if (process.getuid?.() !== 0) throw new Error('network namespace tests need root');
  for (const bin of ['ip', 'nft', 'busybox']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) throw new Error(`network namespace tests need ${bin} (apt-get install iproute2 nftables busybox-static)`);
  }
}

/** A stand-in pod: a namespace on the node's bridge with an HTTP server answering its name. */
export interface TestPod {
  name: string;
  netns: string;
  ipv4: string;
  ipv6: string;
}

/** The test bed. */
export class Testbed {
  readonly prefix: string;
  readonly node: string;
  readonly client: string;
  readonly pods: TestPod[] = [];
  /** The node's addresses on the bridge (the pods' gateway) and towards the client. */
  readonly nodeBridgeIPv4 = '10.42.0.1';
  readonly nodeClientIPv4 = '10.99.0.1';
  readonly clientIPv4 = '10.99.0.2';
  readonly clientIPv6 = 'fd99::2';
  private readonly dir: string;
  private readonly servers: ChildProcess[] = [];
  private readonly namespaces: string[] = [];

  /**
   * Makes the node and client namespaces. With `podBridge` (the default) the node gets br0 for stand-in pods
   * and routes to the service ranges through it; without, a real runtime makes the pods' bridge, and the
   * node's default routes point at the client, as a node's at its gateway (the way to the service ranges
   * before kube-proxy's DNAT).
   */
  constructor(tag: string, options: { podBridge?: boolean } = {}) {
    this.prefix = `k8ts-${tag}-${process.pid % 100000}`;
    this.node = `${this.prefix}-node`;
    this.client = `${this.prefix}-cli`;
    this.dir = mkdtempSync(path.join(tmpdir(), 'k8ts-netns-'));
    this.addNetns(this.node);
    const n = ['ip', '-n', this.node];
    if (options.podBridge !== false) {
      // Stand-in pods: the node routes for them. (A real runtime's CNI bridge turns forwarding on itself.)
      sh(['ip', 'netns', 'exec', this.node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']);
      sh([...n, 'link', 'add', 'br0', 'type', 'bridge']);
      sh([...n, 'addr', 'add', '10.42.0.1/24', 'dev', 'br0']);
      sh([...n, 'addr', 'add', 'fd42::1/64', 'dev', 'br0', 'nodad']);
      sh([...n, 'link', 'set', 'br0', 'up']);
      // The node reaches service addresses through the bridge, as a node's route to the service CIDR does.
      sh([...n, 'route', 'add', '10.43.0.0/16', 'dev', 'br0']);
      sh([...n, '-6', 'route', 'add', 'fd43::/112', 'dev', 'br0']);
    }
    this.addNetns(this.client);
    this.link(this.client, 'eth0', 'cli0', ['10.99.0.2/24', 'fd99::2/64'], ['10.99.0.1/24', 'fd99::1/64']);
    sh(['ip', '-n', this.client, 'route', 'add', 'default', 'via', '10.99.0.1']);
    sh(['ip', '-n', this.client, '-6', 'route', 'add', 'default', 'via', 'fd99::1']);
    if (options.podBridge === false) {
      sh([...n, 'route', 'add', 'default', 'via', '10.99.0.2']);
      sh([...n, '-6', 'route', 'add', 'default', 'via', 'fd99::2']);
    }
  }

  private addNetns(name: string): void {
    spawnSync('ip', ['netns', 'del', name]);
    sh(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A veth pair between `ns` (inside name) and the node (node side name), with addresses on each end. */
  private link(ns: string, inside: string, nodeSide: string, insideAddrs: string[], nodeAddrs: string[]): void {
    sh(['ip', '-n', this.node, 'link', 'add', nodeSide, 'type', 'veth', 'peer', 'name', inside, 'netns', ns]);
    for (const a of insideAddrs) sh(['ip', '-n', ns, 'addr', 'add', a, 'dev', inside, ...(a.includes(':') ? ['nodad'] : [])]);
    for (const a of nodeAddrs) sh(['ip', '-n', this.node, 'addr', 'add', a, 'dev', nodeSide, ...(a.includes(':') ? ['nodad'] : [])]);
    sh(['ip', '-n', ns, 'link', 'set', inside, 'up']);
    sh(['ip', '-n', this.node, 'link', 'set', nodeSide, 'up']);
  }

  /** Adds a pod on the bridge with addresses 10.42.0.N and fd42::N, serving its name on `port`. */
  addPod(name: string, n: number, port = 8080): TestPod {
    const netns = `${this.prefix}-p${n}`;
    this.addNetns(netns);
    const ipv4 = `10.42.0.${n}`;
    const ipv6 = `fd42::${n.toString(16)}`;
    sh(['ip', '-n', this.node, 'link', 'add', `vp${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    sh(['ip', '-n', this.node, 'link', 'set', `vp${n}`, 'master', 'br0', 'up']);
    // A pod reaching itself through a service comes back on its own port (the CNI bridge's hairpinMode).
    sh(['ip', '-n', this.node, 'link', 'set', `vp${n}`, 'type', 'bridge_slave', 'hairpin', 'on']);
    sh(['ip', '-n', netns, 'addr', 'add', `${ipv4}/24`, 'dev', 'eth0']);
    sh(['ip', '-n', netns, 'addr', 'add', `${ipv6}/64`, 'dev', 'eth0', 'nodad']);
    sh(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
    sh(['ip', '-n', netns, 'route', 'add', 'default', 'via', '10.42.0.1']);
    sh(['ip', '-n', netns, '-6', 'route', 'add', 'default', 'via', 'fd42::1']);
    const root = path.join(this.dir, name);
    rmSync(root, { recursive: true, force: true });
    spawnSync('mkdir', ['-p', root]);
    writeFileSync(path.join(root, 'index.html'), `${name}\n`);
    const server = spawn('ip', ['netns', 'exec', netns, 'busybox', 'httpd', '-f', '-p', String(port), '-h', root], { stdio: 'ignore' });
    this.servers.push(server);
    const pod = { name, netns, ipv4, ipv6 };
    this.pods.push(pod);
    return pod;
  }

  /** Runs nft inside the node namespace: the command prefix the proxy takes. */
  get nftCommand(): string[] {
    return ['ip', 'netns', 'exec', this.node, 'nft'];
  }

  /** Makes `count` HTTP GETs from a namespace to `url`, each on a new connection; returns bodies or error codes. */
  async httpGets(netns: string, url: string, count: number, timeoutMs = 2000): Promise<string[]> {
    const script = `
      const http = require('node:http');
      const [url, count, timeout] = process.argv.slice(1);
      const one = () => new Promise((resolve) => {
        const req = http.get(url, { agent: false, timeout: Number(timeout) }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(body.trim()));
        });
        req.on('timeout', () => { req.destroy(); resolve('TIMEOUT'); });
        req.on('error', (e) => resolve(e.code || String(e)));
      });
      (async () => { const out = []; for (let i = 0; i < Number(count); i++) out.push(await one()); console.log(JSON.stringify(out)); })();
    `;
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script, url, String(count), String(timeoutMs)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => {
        if (code !== 0) reject(new Error(`http client failed (${code}): ${err}`));
        else resolve(JSON.parse(out) as string[]);
      });
    });
  }

  /** Stops the servers and removes every namespace. */
  remove(): void {
    for (const s of this.servers) if (s.pid !== undefined && s.exitCode === null) s.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
