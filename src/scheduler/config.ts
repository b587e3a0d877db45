// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): upstream's defaults, profiles with their
// schedulerName, plugins enabled and disabled per extension point (and multiPoint), pluginConfig args,
// percentageOfNodesToScore and the pod backoff bounds. Reading the file is the CLI's job; this takes the
// decoded object.
import type { PluginArgs, ProfilePlugins } from './framework.js';
import { defaultMultiPoint, inTreeRegistry } from './plugins/registry.js';

export const configGroupVersion = 'kubescheduler.config.k8s.io/v1';
export const defaultSchedulerName = 'default-scheduler';

/** One plugin entry of a PluginSet. */
export interface PluginRef {
  name: string;
  weight?: number;
}

/** enabled/disabled lists of one extension point. */
export interface PluginSet {
  enabled?: PluginRef[];
  disabled?: PluginRef[];
}

/** The extension points of a profile's `plugins`. */
export type PluginsConfig = Partial<Record<'multiPoint' | 'preEnqueue' | 'queueSort' | 'preFilter' | 'filter' | 'postFilter' | 'preScore' | 'score' | 'reserve' | 'permit' | 'preBind' | 'bind' | 'postBind', PluginSet>>;

export interface ProfileConfig {
  schedulerName?: string;
  percentageOfNodesToScore?: number;
  plugins?: PluginsConfig;
  pluginConfig?: { name: string; args?: PluginArgs }[];
}

/** The parts of KubeSchedulerConfiguration k8ts reads. */
export interface KubeSchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  percentageOfNodesToScore?: number;
  podInitialBackoffSeconds?: number;
  podMaxBackoffSeconds?: number;
  parallelism?: number;
  leaderElection?: { leaderElect?: boolean; leaseDuration?: string; renewDeadline?: string; retryPeriod?: string; resourceName?: string; resourceNamespace?: string };
  clientConnection?: { kubeconfig?: string; qps?: number; burst?: number };
  profiles?: ProfileConfig[];
}

/** A profile ready to build a Framework from. */
export interface ResolvedProfile {
  schedulerName: string;
  percentageOfNodesToScore: number | undefined;
  plugins: ProfilePlugins;
  args: Map<string, PluginArgs>;
}

export interface ResolvedConfiguration {
  percentageOfNodesToScore: number;
  podInitialBackoffMs: number;
  podMaxBackoffMs: number;
  profiles: ResolvedProfile[];
  leaderElection: NonNullable<KubeSchedulerConfiguration['leaderElection']>;
  clientConnection: NonNullable<KubeSchedulerConfiguration['clientConnection']>;
}

/** Which extension points each in-tree plugin implements, found by asking a throwaway instance. */
const pointMethods: Record<keyof ProfilePlugins, string> = {
  preEnqueue: 'preEnqueue',
  queueSort: 'less',
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  permit: 'permit',
  preBind: 'preBind',
  bind: 'bind',
  postBind: 'postBind',
};

function implementsPoint(name: string, point: keyof ProfilePlugins): boolean {
  const factory = inTreeRegistry().get(name);
  if (!factory) return false;
  const fakeHandle = { cache: undefined, framework: () => undefined, nominatedPods: () => [], schedulerName: '' } as never;
  const p = factory(undefined, fakeHandle) as unknown as Record<string, unknown>;
  return typeof p[pointMethods[point]] === 'function';
}

/** Expands multiPoint and the per-point sets into ordered plugin lists, as upstream orders them. */
export function resolvePlugins(plugins: PluginsConfig | undefined, extraImplements?: (name: string, point: keyof ProfilePlugins) => boolean): ProfilePlugins {
  const implementsP = (n: string, p: keyof ProfilePlugins): boolean => implementsPoint(n, p) || (extraImplements?.(n, p) ?? false);
  const mp = plugins?.multiPoint;
  const mpDisabled = new Set((mp?.disabled ?? []).map((d) => d.name));
  const multi: PluginRef[] = [];
  const seen = new Set<string>();
  // Default multiPoint plugins, then the user's multiPoint additions (a user entry overrides a default's weight).
  const userMulti = mp?.enabled ?? [];
  for (const d of defaultMultiPoint) {
    if (mpDisabled.has('*') || mpDisabled.has(d.name)) continue;
    const override = userMulti.find((u) => u.name === d.name);
    multi.push(override ?? d);
    seen.add(d.name);
  }
  for (const u of userMulti) if (!seen.has(u.name)) multi.push(u);
  const out = {} as ProfilePlugins;
  for (const point of Object.keys(pointMethods) as (keyof ProfilePlugins)[]) {
    const set = plugins?.[point];
    const disabled = new Set((set?.disabled ?? []).map((d) => d.name));
    const enabled = set?.enabled ?? [];
    const enabledNames = new Set(enabled.map((e) => e.name));
    const overrides = enabled.filter((e) => multi.some((m) => m.name === e.name));
    const fromMulti = multi.filter((m) => !enabledNames.has(m.name) && !disabled.has('*') && !disabled.has(m.name) && implementsP(m.name, point));
    const others = enabled.filter((e) => !multi.some((m) => m.name === e.name));
    const list = [...overrides, ...fromMulti, ...others];
    if (point === 'score') out.score = list.map((r) => ({ name: r.name, weight: r.weight && r.weight > 0 ? r.weight : 1 }));
    else (out[point]) = list.map((r) => r.name);
  }
  return out;
}

/** Applies upstream's defaults and checks what upstream's validation would refuse. */
export function resolveConfiguration(cfg: KubeSchedulerConfiguration = {}): ResolvedConfiguration {
  if (cfg.apiVersion !== undefined && cfg.apiVersion !== configGroupVersion) {
    throw new Error(`no kind "${cfg.kind ?? 'KubeSchedulerConfiguration'}" is registered for version "${cfg.apiVersion}"`);
  }
  if (cfg.kind !== undefined && cfg.kind !== 'KubeSchedulerConfiguration') throw new Error(`no kind "${cfg.kind}" is registered for version "${configGroupVersion}"`);
  const pct = cfg.percentageOfNodesToScore ?? 0;
  if (pct < 0 || pct > 100) throw new Error(`percentageOfNodesToScore: Invalid value: ${pct}: not in valid range [0-100]`);
  const initial = cfg.podInitialBackoffSeconds ?? 1;
  const max = cfg.podMaxBackoffSeconds ?? 10;
  if (initial <= 0) throw new Error(`podInitialBackoffSeconds: Invalid value: ${initial}: must be greater than 0`);
  if (max < initial) throw new Error(`podMaxBackoffSeconds: Invalid value: ${max}: must be greater than or equal to PodInitialBackoffSeconds`);
  const profiles = (cfg.profiles && cfg.profiles.length > 0 ? cfg.profiles : [{}]).map((p): ResolvedProfile => {
    const args = new Map<string, PluginArgs>();
    for (const pc of p.pluginConfig ?? []) {
      if (args.has(pc.name)) throw new Error(`profiles.pluginConfig: Duplicate value: "${pc.name}"`);
      args.set(pc.name, pc.args ?? {});
    }
    const ppct = p.percentageOfNodesToScore;
    if (ppct !== undefined && (ppct < 0 || ppct > 100)) throw new Error(`profiles.percentageOfNodesToScore: Invalid value: ${ppct}: not in valid range [0-100]`);
    return { schedulerName: p.schedulerName || defaultSchedulerName, percentageOfNodesToScore: ppct, plugins: resolvePlugins(p.plugins), args };
  });
  const names = new Set<string>();
  for (const p of profiles) {
    if (names.has(p.schedulerName)) throw new Error(`profiles[].schedulerName: Duplicate value: "${p.schedulerName}"`);
    names.add(p.schedulerName);
  }
  const first = JSON.stringify(profiles[0]!.plugins.queueSort);
  if (profiles.some((p) => JSON.stringify(p.plugins.queueSort) !== first)) throw new Error('profiles[].plugins.queueSort: Invalid value: queueSort must be the same for all profiles');
  return {
    percentageOfNodesToScore: pct,
    podInitialBackoffMs: initial * 1000,
    podMaxBackoffMs: max * 1000,
    profiles,
    leaderElection: cfg.leaderElection ?? {},
    clientConnection: cfg.clientConnection ?? {},
  };
}
