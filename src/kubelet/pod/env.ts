// A container's environment as upstream's kubelet makes it (makeEnvironmentVariables): the service
// variables, then envFrom sources (with prefix; invalid names skipped), then env entries in order with
// $(VAR) expansion against the variables defined so far and the service variables; finally the command and
// args are expanded against the result.
import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { Quantity } from '../../api/quantity.js';
import { expand, mappingFor } from './expansion.js';

/** Where the kubelet reads the objects a container's environment refers to. */
export interface EnvSources {
  /** The ConfigMap, or undefined when it does not exist; other failures throw. */
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> | ConfigMap | undefined;
  secret(namespace: string, name: string): Promise<Secret | undefined> | Secret | undefined;
  /** All services (the kubelet's informer cache); undefined when it keeps none. */
  services(): readonly Service[];
}

/** Node facts that the downward API and resource references need. */
export interface EnvNodeInfo {
  nodeName: string;
  hostIPs: string[];
  /** Allocatable cpu and memory, the default of a resourceFieldRef to an unset limit. */
  allocatable: Record<string, string>;
}

/** A warning event the caller should record (e.g. InvalidEnvironmentVariableNames). */
export interface EnvWarning {
  reason: string;
  message: string;
}

/** The result: the environment (in order), the expanded command and args, and warnings. */
export interface ContainerEnv {
  env: { name: string; value: string }[];
  command: string[];
  args: string[];
  warnings: EnvWarning[];
}

/** An error that keeps the container from being created (Waiting reason CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function envName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

function serviceIPSet(s: Service): boolean {
  const ip = s.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The docker-link style variables of services (envvars.FromServices). */
export function serviceEnvVars(services: readonly Service[]): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const s of services) {
    const ports = s.spec?.ports ?? [];
    if (!serviceIPSet(s) || ports.length === 0) continue;
    const ip = s.spec!.clusterIP!;
    const prefix = envName(s.metadata?.name ?? '');
    out.push({ name: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ name: `${prefix}_SERVICE_PORT`, value: String(ports[0]!.port) });
    for (const p of ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      const url = `${proto}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
    });
  }
  return out;
}

/** The services whose variables a pod gets: the default/kubernetes service always, its namespace's when linked. */
export function podServices(pod: Pod, services: readonly Service[]): Service[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks !== false;
  const byName = new Map<string, Service>();
  for (const s of services) {
    if (!serviceIPSet(s)) continue;
    const name = s.metadata?.name ?? '';
    if (s.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, s);
    } else if (s.metadata?.namespace === ns && links) {
      byName.set(name, s);
    }
  }
  return [...byName.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** The value of a downward API fieldPath for a pod (env and downwardAPI volumes). */
export function podFieldValue(pod: Pod, fieldPath: string, node: Pick<EnvNodeInfo, 'nodeName' | 'hostIPs'>): string {
  const meta = pod.metadata ?? {};
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? meta.labels : meta.annotations)?.[m[2]!] ?? '';
  const formatMap = (map: Record<string, string> | undefined): string =>
    Object.keys(map ?? {})
      .sort()
      .map((k) => `${k}="${(map ?? {})[k]!.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"')}"`)
      .join('\n');
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? node.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return node.hostIPs[0] ?? '';
    case 'status.hostIPs':
      return node.hostIPs.join(',');
    case 'status.podIP':
      return pod.status?.podIP ?? '';
    case 'status.podIPs':
      return (pod.status?.podIPs ?? []).map((p) => p.ip).join(',');
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** The value of a resourceFieldRef: the container's request or limit (the node's allocatable for an unset limit) over the divisor, rounded up. */
export function resourceFieldValue(
  container: Container,
  ref: { resource: string; divisor?: string | number },
  allocatable: Record<string, string>,
): string {
  const [kind, resource] = ref.resource.split('.', 2) as [string, string];
  const divisor = Quantity.parse(String(ref.divisor ?? '1'));
  const raw = (kind === 'limits' ? container.resources?.limits : container.resources?.requests)?.[resource];
  let value = raw === undefined ? undefined : Quantity.parse(String(raw));
  if ((value === undefined || value.isZero()) && kind === 'limits') value = Quantity.parse(allocatable[resource] ?? '0');
  value ??= Quantity.parse('0');
  if (divisor.isZero()) throw new ContainerConfigError(`invalid divisor for ${ref.resource}`);
  if (resource === 'cpu') {
    return String(Math.ceil(Number(value.milliValue()) / Number(divisor.milliValue())));
  }
  return String(Math.ceil(value.asApproximateFloat64() / divisor.asApproximateFloat64()));
}

function decode(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

/** Builds the environment of `container` in `pod`; throws ContainerConfigError for a missing reference. */
export async function makeContainerEnv(pod: Pod, container: Container, sources: EnvSources, node: EnvNodeInfo): Promise<ContainerEnv> {
  const ns = pod.metadata?.namespace ?? 'default';
  const warnings: EnvWarning[] = [];
  const serviceEnv = new Map<string, string>();
  for (const v of serviceEnvVars(podServices(pod, sources.services()))) serviceEnv.set(v.name, v.value);
  const tmp = new Map<string, string>();
  const getConfigMap = async (name: string, optional: boolean): Promise<ConfigMap | undefined> => {
    const cm = await sources.configMap(ns, name);
    if (cm === undefined && !optional) throw new ContainerConfigError(`configmap "${name}" not found`);
    return cm;
  };
  const getSecret = async (name: string, optional: boolean): Promise<Secret | undefined> => {
    const s = await sources.secret(ns, name);
    if (s === undefined && !optional) throw new ContainerConfigError(`secret "${name}" not found`);
    return s;
  };
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let entries: [string, string][] = [];
    let what = '';
    let name = '';
    if (from.configMapRef) {
      name = from.configMapRef.name ?? '';
      what = 'configMap';
      const cm = await getConfigMap(name, from.configMapRef.optional === true);
      if (!cm) continue;
      entries = Object.entries(cm.data ?? {});
    } else if (from.secretRef) {
      name = from.secretRef.name ?? '';
      what = 'secret';
      const s = await getSecret(name, from.secretRef.optional === true);
      if (!s) continue;
      entries = Object.keys({ ...s.stringData, ...s.data }).map((k) => [k, decode(s, k) ?? '']);
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [k0, v] of entries) {
      const k = prefix + k0;
      if (!envVarName.test(k)) {
        invalid.push(k);
        continue;
      }
      tmp.set(k, v);
    }
    if (invalid.length > 0) {
      invalid.sort();
      warnings.push({
        reason: 'InvalidEnvironmentVariableNames',
        message: `Keys [${invalid.join(', ')}] from the EnvFrom ${what} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      });
    }
  }
  const mapping = mappingFor(tmp, serviceEnv);
  for (const e of container.env ?? []) {
    const value = await envValue(pod, container, e, mapping, getConfigMap, getSecret, node, ns);
    if (value !== undefined) tmp.set(e.name, value);
  }
  const env = [...tmp].map(([name, value]) => ({ name, value }));
  for (const [name, value] of serviceEnv) if (!tmp.has(name)) env.push({ name, value });
  const final = new Map(env.map((e) => [e.name, e.value]));
  const cmdMapping = mappingFor(final);
  return {
    env,
    command: (container.command ?? []).map((s) => expand(s, cmdMapping)),
    args: (container.args ?? []).map((s) => expand(s, cmdMapping)),
    warnings,
  };
}

async function envValue(
  pod: Pod,
  container: Container,
  e: EnvVar,
  mapping: (name: string) => string,
  getConfigMap: (name: string, optional: boolean) => Promise<ConfigMap | undefined>,
  getSecret: (name: string, optional: boolean) => Promise<Secret | undefined>,
  node: EnvNodeInfo,
  ns: string,
): Promise<string | undefined> {
  if (e.value !== undefined && e.value !== '') return expand(e.value, mapping);
  const from = e.valueFrom;
  if (!from) return '';
  if (from.fieldRef) return podFieldValue(pod, from.fieldRef.fieldPath, node);
  if (from.resourceFieldRef) {
    const target = from.resourceFieldRef.containerName
      ? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === from.resourceFieldRef!.containerName) ?? container
      : container;
    return resourceFieldValue(target, { resource: from.resourceFieldRef.resource, divisor: from.resourceFieldRef.divisor }, node.allocatable);
  }
  if (from.configMapKeyRef) {
    const { name = '', key, optional = false } = from.configMapKeyRef;
    const cm = await getConfigMap(name, optional);
    if (!cm) return undefined;
    const v = cm.data?.[key];
    if (v === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${ns}/${name}`);
    }
    return v;
  }
  if (from.secretKeyRef) {
    const { name = '', key, optional = false } = from.secretKeyRef;
    const s = await getSecret(name, optional);
    if (!s) return undefined;
    const v = decode(s, key);
    if (v === undefined) {
      if (optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${key} in Secret ${ns}/${name}`);
    }
    return v;
  }
  return '';
}
