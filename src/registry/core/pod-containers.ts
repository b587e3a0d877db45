// Validation of a pod's containers (upstream's validateContainers, validateInitContainers,
// validateEphemeralContainers and what they call): names, images, ports, env, mounts, probes, lifecycle
// hooks, pull policy, resources, resize policy and security context, with upstream's paths and messages.
import type {
  Container,
  EnvFromSource,
  EnvVar,
  EphemeralContainer,
  Lifecycle,
  LifecycleHandler,
  Probe,
  SecurityContext,
  Volume,
  VolumeDevice,
  VolumeMount,
} from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import {
  isConfigMapKey,
  isDNS1123Label,
  isHTTPHeaderName,
  isRelaxedEnvVarName,
  isValidGroupID,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  nameIsDNSSubdomain,
  validateNonnegativeField,
} from '../../apimachinery/validation/names.js';
import { validateResourceRequirements } from './container-resources.js';
import {
  envDownwardAPIFieldPaths,
  validateContainerResourceFieldSelector,
  validateLocalDescendingPath,
  validateObjectFieldSelector,
  validatePathNoBacksteps,
} from './pod-volumes.js';
import { validateAppArmorProfile, validateSeccompProfile } from './pod-security.js';

/** What the container checks need from the pod around them. */
export interface ContainerContext {
  /** The pod's volumes that validated, by name. */
  volumes: ReadonlyMap<string, Volume>;
  /** The names of the pod's resourceClaims. */
  podClaimNames: ReadonlySet<string>;
  /** The pod's terminationGracePeriodSeconds, which bounds sleep actions. */
  gracePeriod: number | undefined;
  /** The pod's restartPolicy, which restricts resize policies. */
  restartPolicy: string | undefined;
  /** False when the pod runs in a user namespace. */
  hostUsers: boolean;
}

/** Upstream's supported port protocols, sorted as its messages list them. */
export const supportedPortProtocols: readonly string[] = ['SCTP', 'TCP', 'UDP'];

/** A container's ports: numbers in range, a supported protocol, names valid and unique. */
export function validateContainerPorts(ports: Container['ports'], path: Path): ErrorList {
  const errs: ErrorList = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length > 0) for (const m of msgs) errs.push(field.invalid(p.child('name'), port.name, m));
      else if (names.has(port.name)) errs.push(field.duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(field.required(p.child('containerPort'), ''));
    else for (const m of isValidPortNum(port.containerPort)) errs.push(field.invalid(p.child('containerPort'), port.containerPort, m));
    if (port.hostPort) for (const m of isValidPortNum(port.hostPort)) errs.push(field.invalid(p.child('hostPort'), port.hostPort, m));
    if (!port.protocol) errs.push(field.required(p.child('protocol'), ''));
    else if (!supportedPortProtocols.includes(port.protocol)) {
      errs.push(field.notSupported(p.child('protocol'), port.protocol, supportedPortProtocols));
    }
  });
  return errs;
}

function validateKeySelectorName(name: string | undefined, key: string | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  for (const m of nameIsDNSSubdomain(name ?? '', false)) errs.push(field.invalid(path.child('name'), name ?? '', m));
  if (!key) errs.push(field.required(path.child('key'), ''));
  else for (const m of isConfigMapKey(key)) errs.push(field.invalid(path.child('key'), key, m));
  return errs;
}

function validateEnvVarValueFrom(ev: EnvVar, path: Path): ErrorList {
  const from = ev.valueFrom;
  if (!from) return [];
  const errs: ErrorList = [];
  let numSources = 0;
  if (from.fieldRef) {
    numSources++;
    errs.push(...validateObjectFieldSelector(from.fieldRef, envDownwardAPIFieldPaths, path.child('fieldRef')));
  }
  if (from.resourceFieldRef) {
    numSources++;
    errs.push(...validateContainerResourceFieldSelector(from.resourceFieldRef, path.child('resourceFieldRef'), false));
  }
  if (from.configMapKeyRef) {
    numSources++;
    errs.push(...validateKeySelectorName(from.configMapKeyRef.name, from.configMapKeyRef.key, path.child('configMapKeyRef')));
  }
  if (from.secretKeyRef) {
    numSources++;
    errs.push(...validateKeySelectorName(from.secretKeyRef.name, from.secretKeyRef.key, path.child('secretKeyRef')));
  }
  if (numSources === 0) {
    errs.push(field.invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (ev.value) {
    errs.push(field.invalid(path, '', 'may not be specified when `value` is not empty'));
  } else if (numSources > 1) {
    errs.push(field.invalid(path, '', 'may not have more than one field specified at a time'));
  }
  return errs;
}

/** A container's env: names given and (1.33's relaxed rule) printable ASCII without '='; valid valueFrom. */
export function validateEnv(vars: readonly EnvVar[] | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  (vars ?? []).forEach((ev, i) => {
    const p = path.index(i);
    if (!ev.name) errs.push(field.required(p.child('name'), ''));
    else for (const m of isRelaxedEnvVarName(ev.name)) errs.push(field.invalid(p.child('name'), ev.name, m));
    errs.push(...validateEnvVarValueFrom(ev, p.child('valueFrom')));
  });
  return errs;
}

function validateEnvFromName(name: string | undefined, path: Path): ErrorList {
  if (!name) return [field.required(path.child('name'), '')];
  return nameIsDNSSubdomain(name, true).map((m) => field.invalid(path.child('name'), name, m));
}

/** A container's envFrom: a valid prefix and exactly one of configMapRef and secretRef. */
export function validateEnvFrom(sources: readonly EnvFromSource[] | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  (sources ?? []).forEach((ev, i) => {
    const p = path.index(i);
    if (ev.prefix) for (const m of isRelaxedEnvVarName(ev.prefix)) errs.push(field.invalid(p.child('prefix'), ev.prefix, m));
    let numSources = 0;
    if (ev.configMapRef) {
      numSources++;
      errs.push(...validateEnvFromName(ev.configMapRef.name, p.child('configMapRef')));
    }
    if (ev.secretRef) {
      numSources++;
      errs.push(...validateEnvFromName(ev.secretRef.name, p.child('secretRef')));
    }
    if (numSources === 0) errs.push(field.invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (numSources > 1) errs.push(field.invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

const mountPropagations = ['Bidirectional', 'HostToContainer', 'None'];
const recursiveReadOnlyModes = ['Disabled', 'Enabled', 'IfPossible'];

/** A container's volumeMounts: each names a pod volume, paths unique, subPath local, propagation allowed. */
export function validateVolumeMounts(
  mounts: readonly VolumeMount[] | undefined,
  devices: readonly VolumeDevice[] | undefined,
  volumes: ReadonlyMap<string, Volume>,
  container: Container | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const mountPoints = new Set<string>();
  const deviceNames = new Set((devices ?? []).map((d) => d.name));
  const devicePaths = new Set((devices ?? []).map((d) => d.devicePath));
  (mounts ?? []).forEach((m, i) => {
    const p = path.index(i);
    if (!m.name) errs.push(field.required(p.child('name'), ''));
    if (!volumes.has(m.name ?? '')) errs.push(field.notFound(p.child('name'), m.name ?? ''));
    if (!m.mountPath) errs.push(field.required(p.child('mountPath'), ''));
    if (mountPoints.has(m.mountPath ?? '')) errs.push(field.invalid(p.child('mountPath'), m.mountPath, 'must be unique'));
    mountPoints.add(m.mountPath ?? '');
    if (deviceNames.has(m.name)) errs.push(field.invalid(p.child('name'), m.name, 'must not already exist in volumeDevices'));
    if (devicePaths.has(m.mountPath)) {
      errs.push(field.invalid(p.child('mountPath'), m.mountPath, 'must not already exist as a path in volumeDevices'));
    }
    // Upstream reports subPath problems at the list's path, not the entry's.
    if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, path.child('subPath')));
    if (m.subPathExpr) {
      if (m.subPath) errs.push(field.invalid(p.child('subPathExpr'), m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(m.subPathExpr, path.child('subPathExpr')));
    }
    if (m.mountPropagation !== undefined && m.mountPropagation !== null) {
      const pp = path.child('mountPropagation');
      if (!mountPropagations.includes(m.mountPropagation)) errs.push(field.notSupported(pp, m.mountPropagation, mountPropagations));
      if (container && m.mountPropagation === 'Bidirectional' && container.securityContext?.privileged !== true) {
        errs.push(field.forbidden(pp, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    const rro = (m as { recursiveReadOnly?: string }).recursiveReadOnly;
    if (rro !== undefined && rro !== null) {
      const rp = path.child('recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (!m.readOnly) errs.push(field.forbidden(rp, 'may only be specified when readOnly is true'));
        if (m.mountPropagation && m.mountPropagation !== 'None') {
          errs.push(field.forbidden(rp, 'may only be specified when mountPropagation is None or not specified'));
        }
      } else if (rro !== 'Disabled') {
        errs.push(field.notSupported(rp, rro, recursiveReadOnlyModes));
      }
    }
  });
  return errs;
}

/** A container's volumeDevices: each names a claim-backed volume, names and paths unique, no overlap with mounts. */
export function validateVolumeDevices(
  devices: readonly VolumeDevice[] | undefined,
  mounts: readonly VolumeMount[] | undefined,
  volumes: ReadonlyMap<string, Volume>,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const paths = new Set<string>();
  const names = new Set<string>();
  const mountNames = new Set((mounts ?? []).map((m) => m.name));
  const mountPaths = new Set((mounts ?? []).map((m) => m.mountPath));
  (devices ?? []).forEach((d, i) => {
    const p = path.index(i);
    const v = volumes.get(d.name ?? '');
    if (!d.name) errs.push(field.required(p.child('name'), ''));
    if (names.has(d.name)) errs.push(field.invalid(p.child('name'), d.name, 'must be unique'));
    if (v && !v.persistentVolumeClaim && !v.ephemeral) {
      errs.push(field.invalid(p.child('name'), d.name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (!v) errs.push(field.notFound(p.child('name'), d.name ?? ''));
    if (!d.devicePath) errs.push(field.required(p.child('devicePath'), ''));
    if (paths.has(d.devicePath)) errs.push(field.invalid(p.child('devicePath'), d.devicePath, 'must be unique'));
    if (d.devicePath && validatePathNoBacksteps(d.devicePath, p).length > 0) {
      errs.push(field.invalid(p.child('devicePath'), d.devicePath, "can not contain backsteps ('..')"));
    } else {
      paths.add(d.devicePath);
    }
    if (mountNames.has(d.name)) errs.push(field.invalid(p.child('name'), d.name, 'must not already exist in volumeMounts'));
    if (mountPaths.has(d.devicePath)) {
      errs.push(field.invalid(p.child('devicePath'), d.devicePath, 'must not already exist as a path in volumeMounts'));
    }
    if (d.name) names.add(d.name);
  });
  return errs;
}

/** A port given as a number in range or an IANA service name. */
export function validatePortNumOrName(port: number | string | undefined, path: Path): ErrorList {
  if (typeof port === 'string') return isValidPortName(port).map((m) => field.invalid(path, port, m));
  const n = port ?? 0;
  return isValidPortNum(n).map((m) => field.invalid(path, n, m));
}

interface Handler {
  exec?: { command?: string[] };
  httpGet?: { path?: string; port: number | string; scheme?: string; httpHeaders?: { name: string }[] };
  tcpSocket?: { port: number | string };
  grpc?: { port: number };
  sleep?: { seconds: number };
}

const httpSchemes = ['HTTP', 'HTTPS'];

function validateHandler(h: Handler, gracePeriod: number | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  let numHandlers = 0;
  const one = (name: keyof Handler, check: () => ErrorList) => {
    if (h[name] === undefined || h[name] === null) return;
    if (numHandlers > 0) {
      errs.push(field.forbidden(path.child(name), 'may not specify more than 1 handler type'));
      return;
    }
    numHandlers++;
    errs.push(...check());
  };
  one('exec', () => ((h.exec!.command ?? []).length === 0 ? [field.required(path.child('exec', 'command'), '')] : []));
  one('httpGet', () => {
    const g = h.httpGet!;
    const p = path.child('httpGet');
    const out: ErrorList = [];
    if (!g.path) out.push(field.required(p.child('path'), ''));
    out.push(...validatePortNumOrName(g.port, p.child('port')));
    if (!httpSchemes.includes(g.scheme ?? '')) out.push(field.notSupported(p.child('scheme'), g.scheme ?? '', httpSchemes));
    for (const header of g.httpHeaders ?? []) {
      for (const m of isHTTPHeaderName(header.name ?? '')) out.push(field.invalid(p.child('httpHeaders'), header.name ?? '', m));
    }
    return out;
  });
  one('tcpSocket', () => validatePortNumOrName(h.tcpSocket!.port, path.child('tcpSocket', 'port')));
  one('grpc', () => validatePortNumOrName(h.grpc!.port ?? 0, path.child('grpc', 'port')));
  one('sleep', () => {
    const seconds = h.sleep!.seconds ?? 0;
    if (gracePeriod !== undefined && (seconds < 0 || seconds > gracePeriod)) {
      return [
        field.invalid(path.child('sleep'), seconds, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`),
      ];
    }
    return [];
  });
  if (numHandlers === 0) errs.push(field.required(path, 'must specify a handler type'));
  return errs;
}

function validateProbe(probe: Probe, gracePeriod: number | undefined, path: Path): ErrorList {
  const handler: Handler = {};
  if (probe.exec) handler.exec = probe.exec;
  if (probe.httpGet) handler.httpGet = probe.httpGet;
  if (probe.tcpSocket) handler.tcpSocket = probe.tcpSocket;
  if (probe.grpc) handler.grpc = probe.grpc;
  const errs = validateHandler(handler, gracePeriod, path);
  errs.push(...validateNonnegativeField(probe.initialDelaySeconds ?? 0, path.child('initialDelaySeconds')));
  errs.push(...validateNonnegativeField(probe.timeoutSeconds ?? 0, path.child('timeoutSeconds')));
  errs.push(...validateNonnegativeField(probe.periodSeconds ?? 0, path.child('periodSeconds')));
  errs.push(...validateNonnegativeField(probe.successThreshold ?? 0, path.child('successThreshold')));
  errs.push(...validateNonnegativeField(probe.failureThreshold ?? 0, path.child('failureThreshold')));
  const tgps = probe.terminationGracePeriodSeconds;
  if (tgps !== undefined && tgps !== null && tgps <= 0) {
    errs.push(field.invalid(path.child('terminationGracePeriodSeconds'), tgps, 'must be greater than 0'));
  }
  return errs;
}

function validateProbes(c: Container, gracePeriod: number | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (c.livenessProbe) {
    const p = path.child('livenessProbe');
    errs.push(...validateProbe(c.livenessProbe, gracePeriod, p));
    if ((c.livenessProbe.successThreshold ?? 0) !== 1) {
      errs.push(field.invalid(p.child('successThreshold'), c.livenessProbe.successThreshold ?? 0, 'must be 1'));
    }
  }
  if (c.readinessProbe) {
    const p = path.child('readinessProbe');
    errs.push(...validateProbe(c.readinessProbe, gracePeriod, p));
    const tgps = c.readinessProbe.terminationGracePeriodSeconds;
    if (tgps !== undefined && tgps !== null) {
      errs.push(field.invalid(p.child('terminationGracePeriodSeconds'), tgps, 'must not be set for readinessProbes'));
    }
  }
  if (c.startupProbe) {
    const p = path.child('startupProbe');
    errs.push(...validateProbe(c.startupProbe, gracePeriod, p));
    if ((c.startupProbe.successThreshold ?? 0) !== 1) {
      errs.push(field.invalid(p.child('successThreshold'), c.startupProbe.successThreshold ?? 0, 'must be 1'));
    }
  }
  return errs;
}

function validateLifecycle(lifecycle: Lifecycle, gracePeriod: number | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const asHandler = (h: LifecycleHandler): Handler => h;
  if (lifecycle.postStart) errs.push(...validateHandler(asHandler(lifecycle.postStart), gracePeriod, path.child('postStart')));
  if (lifecycle.preStop) errs.push(...validateHandler(asHandler(lifecycle.preStop), gracePeriod, path.child('preStop')));
  return errs;
}

const pullPolicies = ['Always', 'IfNotPresent', 'Never'];

function validatePullPolicy(policy: string | undefined, path: Path): ErrorList {
  if (!policy) return [field.required(path, '')];
  return pullPolicies.includes(policy) ? [] : [field.notSupported(path, policy, pullPolicies)];
}

function validateResizePolicy(c: Container, restartPolicy: string | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  const list = (c as { resizePolicy?: { resourceName?: string; restartPolicy?: string }[] }).resizePolicy ?? [];
  list.forEach((p, i) => {
    const name = p.resourceName ?? '';
    if (seen.has(name)) errs.push(field.duplicate(path.index(i), name));
    seen.add(name);
    if (name === '') errs.push(field.required(path, ''));
    else if (name !== 'cpu' && name !== 'memory') errs.push(field.notSupported(path, name, ['cpu', 'memory']));
    const policy = p.restartPolicy ?? '';
    if (policy === '') errs.push(field.required(path, ''));
    else if (policy !== 'NotRequired' && policy !== 'RestartContainer') {
      errs.push(field.notSupported(path, policy, ['NotRequired', 'RestartContainer']));
    }
    if (restartPolicy === 'Never' && policy !== 'NotRequired') {
      errs.push(field.invalid(path, policy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
    }
  });
  return errs;
}

/** A container's securityContext (upstream's ValidateSecurityContext; privileged containers are allowed). */
export function validateSecurityContext(sc: SecurityContext | undefined, path: Path, hostUsers: boolean): ErrorList {
  if (!sc) return [];
  const errs: ErrorList = [];
  if (sc.runAsUser !== undefined && sc.runAsUser !== null) {
    for (const m of isValidUserID(sc.runAsUser)) errs.push(field.invalid(path.child('runAsUser'), sc.runAsUser, m));
  }
  if (sc.runAsGroup !== undefined && sc.runAsGroup !== null) {
    for (const m of isValidGroupID(sc.runAsGroup)) errs.push(field.invalid(path.child('runAsGroup'), sc.runAsGroup, m));
  }
  if (sc.procMount !== undefined && sc.procMount !== null) {
    if (sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') {
      errs.push(field.notSupported(path.child('procMount'), sc.procMount, ['Default', 'Unmasked']));
    }
    if (hostUsers && sc.procMount === 'Unmasked') {
      errs.push(field.invalid(path.child('procMount'), sc.procMount, '`hostUsers` must be false to use `Unmasked`'));
    }
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) {
      errs.push(field.invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
    for (const cap of sc.capabilities?.add ?? []) {
      if (cap === 'CAP_SYS_ADMIN') {
        errs.push(field.invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
      }
    }
  }
  errs.push(...validateAppArmorProfile((sc as { appArmorProfile?: { type?: string; localhostProfile?: string } }).appArmorProfile, path.child('appArmorProfile')));
  return errs;
}

function validateContainerCommon(c: Container, ctx: ContainerContext, path: Path): ErrorList {
  const errs: ErrorList = [];
  const namePath = path.child('name');
  if (!c.name) errs.push(field.required(namePath, ''));
  else for (const m of isDNS1123Label(c.name)) errs.push(field.invalid(namePath, c.name, m));
  if (!c.image) errs.push(field.required(path.child('image'), ''));
  const tmp = c.terminationMessagePolicy;
  if (!tmp) errs.push(field.required(path.child('terminationMessagePolicy'), ''));
  else if (tmp !== 'File' && tmp !== 'FallbackToLogsOnError') {
    errs.push(field.notSupported(path.child('terminationMessagePolicy'), tmp, ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validateContainerPorts(c.ports, path.child('ports')));
  errs.push(...validateEnv(c.env, path.child('env')));
  errs.push(...validateEnvFrom(c.envFrom, path.child('envFrom')));
  errs.push(...validateVolumeMounts(c.volumeMounts, c.volumeDevices, ctx.volumes, c, path.child('volumeMounts')));
  errs.push(...validateVolumeDevices(c.volumeDevices, c.volumeMounts, ctx.volumes, path.child('volumeDevices')));
  errs.push(...validatePullPolicy(c.imagePullPolicy, path.child('imagePullPolicy')));
  errs.push(...validateResourceRequirements(c.resources, ctx.podClaimNames, path.child('resources')));
  errs.push(...validateResizePolicy(c, ctx.restartPolicy, path.child('resizePolicy')));
  errs.push(...validateSecurityContext(c.securityContext, path.child('securityContext'), ctx.hostUsers));
  return errs;
}

/** Host ports (protocol, host IP and port) may not repeat across the containers given. */
export function checkHostPortConflicts(containers: readonly Container[], path: Path): ErrorList {
  const errs: ErrorList = [];
  const seen = new Set<string>();
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((port, pi) => {
      if (!port.hostPort) return;
      const key = `${port.protocol ?? ''}/${port.hostIP ?? ''}/${port.hostPort}`;
      if (seen.has(key)) errs.push(field.duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), key));
      else seen.add(key);
    });
  });
  return errs;
}

/** The regular containers: at least one, names unique, probes and hooks valid, no restartPolicy. */
export function validateContainers(containers: readonly Container[] | undefined, ctx: ContainerContext, path: Path): ErrorList {
  const list = containers ?? [];
  if (list.length === 0) return [field.required(path, '')];
  const errs: ErrorList = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (names.has(c.name)) errs.push(field.duplicate(p.child('name'), c.name));
    else names.add(c.name);
    if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle, ctx.gracePeriod, p.child('lifecycle')));
    errs.push(...validateProbes(c, ctx.gracePeriod, p));
    if ((c as { restartPolicy?: string }).restartPolicy !== undefined) {
      errs.push(field.forbidden(p.child('restartPolicy'), 'may not be set for non-init containers'));
    }
  });
  errs.push(...checkHostPortConflicts(list, path));
  return errs;
}

/** The init containers: names unique among all containers; probes and hooks only for sidecars (Always). */
export function validateInitContainers(
  containers: readonly Container[] | undefined,
  regular: readonly Container[] | undefined,
  ctx: ContainerContext,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const names = new Set((regular ?? []).map((c) => c.name));
  (containers ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    const restartPolicy = (c as { restartPolicy?: string }).restartPolicy;
    if (restartPolicy !== undefined && restartPolicy !== null && restartPolicy !== 'Always') {
      errs.push(field.notSupported(p.child('restartPolicy'), restartPolicy, ['Always']));
    }
    if (names.has(c.name)) errs.push(field.duplicate(p.child('name'), c.name));
    else if (c.name) names.add(c.name);
    errs.push(...checkHostPortConflicts([c], path));
    if (restartPolicy === 'Always') {
      if (c.lifecycle) errs.push(...validateLifecycle(c.lifecycle, ctx.gracePeriod, p.child('lifecycle')));
      errs.push(...validateProbes(c, ctx.gracePeriod, p));
    } else {
      const msg = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(field.forbidden(p.child('lifecycle'), msg));
      if (c.livenessProbe) errs.push(field.forbidden(p.child('livenessProbe'), msg));
      if (c.readinessProbe) errs.push(field.forbidden(p.child('readinessProbe'), msg));
      if (c.startupProbe) errs.push(field.forbidden(p.child('startupProbe'), msg));
    }
    const resize = (c as { resizePolicy?: unknown[] }).resizePolicy;
    if (resize && resize.length > 0) errs.push(field.invalid(p.child('resizePolicy'), resize, 'must not be set for init containers'));
  });
  return errs;
}

/** Fields an ephemeral container may not set (upstream's allowedEphemeralContainerFields, inverted). */
const ephemeralForbidden = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'resizePolicy', 'restartPolicy'];

/** An image without leading or trailing white space (checked on Pods, not on templates). */
export function validateImageWhitespace(c: Container, path: Path): ErrorList {
  const image = c.image ?? '';
  return image.length !== image.trim().length
    ? [field.invalid(path.child('image'), image, 'must not have leading or trailing whitespace')]
    : [];
}

/** The ephemeral containers: names unique among all containers, target exists, workload fields unset. */
export function validateEphemeralContainers(
  ephemeral: readonly EphemeralContainer[] | undefined,
  containers: readonly Container[] | undefined,
  initContainers: readonly Container[] | undefined,
  ctx: ContainerContext,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const others = new Set([...(containers ?? []), ...(initContainers ?? [])].map((c) => c.name));
  const all = new Set(others);
  (ephemeral ?? []).forEach((ec, i) => {
    const p = path.index(i);
    const c = ec as Container;
    errs.push(...validateContainerCommon(c, ctx, p));
    errs.push(...validateImageWhitespace(c, p));
    if (all.has(ec.name)) errs.push(field.duplicate(p.child('name'), ec.name));
    else all.add(ec.name);
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) {
      errs.push(field.notFound(p.child('targetContainerName'), ec.targetContainerName));
    }
    const raw = ec as unknown as Record<string, unknown>;
    for (const f of ephemeralForbidden) {
      const v = raw[f];
      const empty = v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v).length === 0);
      if (!empty) errs.push(field.forbidden(p.child(f), 'cannot be set for an Ephemeral Container'));
    }
    (ec.volumeMounts ?? []).forEach((vm, j) => {
      if (vm.subPath) errs.push(field.forbidden(p.child('volumeMounts').index(j).child('subPath'), 'cannot be set for an Ephemeral Container'));
      if (vm.subPathExpr) {
        errs.push(field.forbidden(p.child('volumeMounts').index(j).child('subPathExpr'), 'cannot be set for an Ephemeral Container'));
      }
    });
  });
  return errs;
}
