// Pod networking through CNI plugins, as the CNI specification (1.0) has a runtime call them: the network
// configuration list on stdin (one plugin's config plus name, cniVersion and the previous plugin's result),
// CNI_COMMAND / CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME / CNI_ARGS / CNI_PATH in the environment, the result
// (or an error object) on stdout. ADD runs the plugins in order, DEL and CHECK take the cached ADD result; DEL
// runs them in reverse and tolerates what is already gone.
//
// k8ts writes its default list (loopback, bridge with host-local IPAM over the node's IPv4 and IPv6 pod
// ranges, portmap) into the configuration directory unless one is already there, so that users can swap in
// their own; a user's list without loopback gets it called on "lo" separately, as containerd does.
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runProgram } from './spawner.js';

/** The default pod ranges of a node: a /24 of 10.42.0.0/16 and a /64 of fd42::/48. */
export const defaultPodCIDRs = ['10.42.0.0/24', 'fd42::/64'];

/** A CNI network configuration list (the parts we read). */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: (Record<string, unknown> & { type: string; capabilities?: Record<string, boolean> })[];
  disableCheck?: boolean;
}

/** One IP of a CNI result. */
export interface CniIPConfig {
  address: string;
  gateway?: string;
  interface?: number;
}

/** A CNI result (spec 1.0 shape; older versions are converted when read). */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: CniIPConfig[];
  routes?: { dst: string; gw?: string }[];
  dns?: Record<string, unknown>;
}

/** A port mapping as the portmap plugin takes it in runtimeConfig. */
export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: string;
  hostIP?: string;
}

/** What identifies one attachment of a pod to the network. */
export interface CniAttachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs, e.g. K8S_POD_NAMESPACE. */
  args?: Record<string, string>;
  portMappings?: CniPortMapping[];
}

/** Options of the default configuration list. */
export interface DefaultNetworkOptions {
  /** The node's pod CIDRs, IPv4 and/or IPv6. */
  podCIDRs: string[];
  /** The Linux bridge the pods hang on. */
  bridge: string;
  /** Where host-local keeps its leases. */
  ipamDataDir: string;
  mtu?: number;
}

/**
 * The configuration list k8ts writes by default: loopback (the plugin always works on "lo"), a bridge with
 * host-local IPAM over the node's ranges, and portmap for hostPorts. Outbound masquerading is one node-wide
 * nftables rule per range (see masqueradeRules) rather than the bridge plugin's ipMasq, which adds an
 * iptables chain per pod and costs tens of milliseconds on every sandbox's setup and teardown.
 */
export function defaultNetworkConfig(options: DefaultNetworkOptions): NetworkConfigList {
  return {
    cniVersion: '1.0.0',
    name: 'k8ts',
    plugins: [
      { type: 'loopback' },
      {
        type: 'bridge',
        bridge: options.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ...(options.mtu === undefined ? {} : { mtu: options.mtu }),
        ipam: {
          type: 'host-local',
          dataDir: options.ipamDataDir,
          ranges: options.podCIDRs.map((subnet) => [{ subnet }]),
          routes: options.podCIDRs.map((cidr) => ({ dst: cidr.includes(':') ? '::/0' : '0.0.0.0/0' })),
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/** The nftables table that masquerades the pods' outbound traffic of one bridge. */
export function masqueradeTable(bridge: string): string {
  return `k8ts_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * An `nft -f` script that (re)creates the masquerade table: traffic from a pod range to anywhere outside
 * it leaves with the node's address.
 */
export function masqueradeRules(bridge: string, podCIDRs: string[]): string {
  const table = masqueradeTable(bridge);
  const rules = podCIDRs.map((cidr) => {
    const family = cidr.includes(':') ? 'ip6' : 'ip';
    return `    ${family} saddr ${cidr} ${family} daddr != ${cidr} masquerade`;
  });
  return [
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** An error a plugin reported (CNI error object), or a plugin that failed otherwise. */
export class CniError extends Error {
  readonly cniCode: number | undefined;
  constructor(message: string, cniCode?: number) {
    super(message);
    this.name = 'CniError';
    this.cniCode = cniCode;
  }
}

/** The file name of k8ts' own configuration list. */
export const defaultConfigFile = '10-k8ts.conflist';

/** Writes the default list into `confDir` as 10-k8ts.conflist unless a configuration is already there. */
export async function ensureNetworkConfig(confDir: string, options: DefaultNetworkOptions): Promise<string> {
  await mkdir(confDir, { recursive: true });
  const existing = (await readdir(confDir)).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  if (existing.length > 0) return path.join(confDir, existing[0]!);
  const file = path.join(confDir, defaultConfigFile);
  await writeFile(file, JSON.stringify(defaultNetworkConfig(options), null, 2) + '\n');
  return file;
}

/** Reads the first configuration (by file name) of `confDir`; a single-plugin .conf becomes a list. */
export async function loadNetworkConfig(confDir: string): Promise<NetworkConfigList> {
  const files = (await readdir(confDir)).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  const first = files[0];
  if (first === undefined) throw new CniError(`no network config found in ${confDir}`);
  const parsed = JSON.parse(await readFile(path.join(confDir, first), 'utf8')) as Record<string, unknown>;
  if (Array.isArray(parsed.plugins)) return parsed as unknown as NetworkConfigList;
  const { name, cniVersion, ...plugin } = parsed;
  return {
    name: String(name),
    cniVersion: String(cniVersion),
    plugins: [plugin as NetworkConfigList['plugins'][number]],
  };
}

/** Converts a 0.3.x/0.4.x result to the 1.0 shape (they differ in "version" fields only). */
function normaliseResult(raw: Record<string, unknown>): CniResult {
  const ips = Array.isArray(raw.ips)
    ? (raw.ips as Record<string, unknown>[]).map((ip) => {
        const { version: _version, ...rest } = ip;
        return rest as unknown as CniIPConfig;
      })
    : undefined;
  return { ...(raw as unknown as CniResult), ...(ips === undefined ? {} : { ips }) };
}

/** Runs CNI plugins found in `binDirs`. */
export class CniInvoker {
  readonly binDirs: string[];

  constructor(binDirs: string[]) {
    this.binDirs = binDirs;
  }

  /** ADD through the whole list; the last plugin's result. */
  async add(list: NetworkConfigList, att: CniAttachment): Promise<CniResult> {
    let prev: CniResult | undefined;
    for (const plugin of list.plugins) {
      prev = await this.#invoke('ADD', list, plugin, att, prev);
    }
    return prev ?? { cniVersion: list.cniVersion };
  }

  /** DEL in reverse order, each given the cached ADD result. */
  async del(list: NetworkConfigList, att: CniAttachment, cached?: CniResult): Promise<void> {
    const errors: string[] = [];
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.#invoke('DEL', list, plugin, att, cached);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (errors.length > 0) throw new CniError(errors.join('; '));
  }

  /** CHECK in order with the cached ADD result (skipped when the list disables it). */
  async check(list: NetworkConfigList, att: CniAttachment, cached: CniResult): Promise<void> {
    if (list.disableCheck === true) return;
    for (const plugin of list.plugins) await this.#invoke('CHECK', list, plugin, att, cached);
  }

  async #invoke(
    command: 'ADD' | 'DEL' | 'CHECK',
    list: NetworkConfigList,
    plugin: NetworkConfigList['plugins'][number],
    att: CniAttachment,
    prevResult: CniResult | undefined,
  ): Promise<CniResult | undefined> {
    // The portmap plugin given no port mappings passes the previous result through (ADD) and does nothing
    // (DEL, CHECK): most pods have no hostPort, and this saves a program run on each of their set-ups and
    // teardowns.
    if (plugin.type === 'portmap' && prevResult !== undefined && (att.portMappings ?? []).length === 0) {
      return command === 'ADD' ? prevResult : undefined;
    }
    const { capabilities, ...conf } = plugin;
    const config: Record<string, unknown> = { ...conf, cniVersion: list.cniVersion, name: list.name };
    if (prevResult !== undefined) config.prevResult = prevResult;
    // Capability arguments reach only the plugins that declare them (libcni's runtimeConfig rule).
    if (
      capabilities?.portMappings === true &&
      att.portMappings !== undefined &&
      att.portMappings.length > 0
    ) {
      config.runtimeConfig = { portMappings: att.portMappings };
    }
    const args = Object.entries({ IgnoreUnknown: '1', ...att.args })
      .map(([k, v]) => `${k}=${v}`)
      .join(';');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: att.containerId,
      CNI_NETNS: att.netns,
      CNI_IFNAME: att.ifName,
      CNI_ARGS: args,
      CNI_PATH: this.binDirs.join(':'),
    };
    const binary = await this.#find(plugin.type);
    const out = await runPlugin(binary, env, JSON.stringify(config));
    if (command !== 'ADD') return undefined;
    return normaliseResult(JSON.parse(out) as Record<string, unknown>);
  }

  async #find(type: string): Promise<string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new CniError(`invalid plugin type ${JSON.stringify(type)}`);
    for (const dir of this.binDirs) {
      const file = path.join(dir, type);
      try {
        await access(file, constants.X_OK);
        return file;
      } catch {
        // next directory
      }
    }
    throw new CniError(`failed to find plugin "${type}" in path [${this.binDirs.join(' ')}]`);
  }
}

async function runPlugin(binary: string, env: NodeJS.ProcessEnv, stdin: string): Promise<string> {
  // Through the spawner's helper (spawner.ts): a pod's network takes two or three plugin runs.
  const exit = await runProgram(binary, [], { env, input: stdin });
  const stdout = exit.stdout.toString('utf8');
  if (exit.code === 0) return stdout;
  let message = exit.stderr.toString('utf8').trim() || `exit status ${exit.code ?? exit.signal}`;
  let cniCode: number | undefined;
  try {
    const e = JSON.parse(stdout) as { code?: number; msg?: string; details?: string };
    cniCode = e.code;
    message = [e.msg, e.details].filter(Boolean).join(': ') || message;
  } catch {
    // not an error object
  }
  throw new CniError(`plugin type="${path.basename(binary)}" failed (${env.CNI_COMMAND}): ${message}`, cniCode);
}
