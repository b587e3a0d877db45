// Upstream's ValidatePodSpec and ValidatePodTemplateSpec: the checks every PodSpec passes, in a Pod or in
// the template of a workload, with upstream's field paths and messages. The defaulting of pod specs lives in
// pod-defaults.ts and is re-exported here, so that workload strategies find both in one place.
import { isIP } from 'node:net';
import type { PodDNSConfig, PodSpec, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue } from '../../apimachinery/validation/field-errors.js';
import {
  inclusiveRangeError,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  nameIsDNSSubdomain,
  validateAnnotations,
  validateLabels,
} from '../../apimachinery/validation/names.js';
import type { ContainerContext } from './pod-containers.js';
import { validateContainers, validateEphemeralContainers, validateInitContainers } from './pod-containers.js';
import { validateResourceRequirements } from './container-resources.js';
import { validateAffinity, validateSchedulingGates, validateTolerations, validateTopologySpreadConstraints } from './pod-scheduling.js';
import { validateHostUsers, validatePodSecurityContext } from './pod-security.js';
import { validateVolumes } from './pod-volumes.js';

export { defaultPodSpec, defaultPodSpecOfPod, defaultPodTemplateSpec } from './pod-defaults.js';

/** How a PodSpec is validated: in a Pod (stricter host ports) or a template, and selector leniency on update. */
export interface PodValidationOptions {
  /** The spec belongs to a Pod rather than a template. */
  resourceIsPod?: boolean;
  /** Keep accepting label values in selectors that were stored before the value rule existed. */
  allowInvalidLabelValueInSelector?: boolean;
}

const maxInt32 = 2147483647;
const maxDNSNameservers = 3;
const maxDNSSearchPaths = 32;
const maxDNSSearchListChars = 2048;

/** An IP address as upstream's IsValidIP accepts it. */
export function validateIP(path: Path, value: string): ErrorList {
  return isIP(value) === 0 ? [field.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')] : [];
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const mirrorPodAnnotation = 'kubernetes.io/config.mirror';
const podDeletionCostAnnotation = 'controller.kubernetes.io/pod-deletion-cost';
const seccompPodAnnotation = 'seccomp.security.alpha.kubernetes.io/pod';
const seccompContainerAnnotationPrefix = 'container.seccomp.security.alpha.kubernetes.io/';
const appArmorContainerAnnotationPrefix = 'container.apparmor.security.beta.kubernetes.io/';

function validDeletionCost(value: string): boolean {
  const first = value[0];
  const firstOk = first === '-' || value === '0' || (first !== undefined && first >= '1' && first <= '9');
  if (!firstOk || !/^-?[0-9]+$/.test(value)) return false;
  const n = BigInt(value);
  return n >= -2147483648n && n <= 2147483647n;
}

function validateSeccompAnnotationValue(value: string, path: Path): ErrorList {
  if (value === 'runtime/default' || value === 'docker/default' || value === 'unconfined') return [];
  if (value.startsWith('localhost/')) {
    const local = value.slice('localhost/'.length);
    const errs: ErrorList = [];
    if (local.startsWith('/')) errs.push(field.invalid(path, local, 'must be a relative path'));
    if (local.split('/').includes('..')) errs.push(field.invalid(path, local, "must not contain '..'"));
    return errs;
  }
  return [field.invalid(path, value, 'must be a valid seccomp profile')];
}

function specHasContainer(spec: PodSpec, name: string): boolean {
  return [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])].some((c) => c.name === name);
}

/**
 * Annotations with meaning for pods (upstream's ValidatePodSpecificAnnotations): a mirror pod names its node,
 * a deletion cost is an int32, and the legacy seccomp and AppArmor annotations hold valid profiles.
 */
export function validatePodSpecificAnnotations(annotations: Readonly<Record<string, string>> | undefined, spec: PodSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const a = annotations ?? {};
  if (Object.hasOwn(a, mirrorPodAnnotation) && !spec.nodeName) {
    errs.push(field.invalid(path.key(mirrorPodAnnotation), a[mirrorPodAnnotation], 'must set spec.nodeName if mirror pod annotation is set'));
  }
  if (Object.hasOwn(a, podDeletionCostAnnotation) && !validDeletionCost(a[podDeletionCostAnnotation]!)) {
    errs.push(field.invalid(path.key(podDeletionCostAnnotation), a[podDeletionCostAnnotation], 'must be a 32bit integer'));
  }
  for (const k of Object.keys(a).sort(byteOrder)) {
    const v = a[k]!;
    if (k === seccompPodAnnotation || k.startsWith(seccompContainerAnnotationPrefix)) {
      errs.push(...validateSeccompAnnotationValue(v, path.child(k)));
    }
    if (k.startsWith(appArmorContainerAnnotationPrefix)) {
      const container = k.slice(appArmorContainerAnnotationPrefix.length);
      if (!specHasContainer(spec, container)) errs.push(field.invalid(path.key(k), container, 'container not found'));
      if (v !== '' && v !== 'runtime/default' && v !== 'unconfined' && !v.startsWith('localhost/')) {
        errs.push(field.invalid(path.key(k), v, `invalid AppArmor profile name: ${goQuote(v)}`));
      }
    }
  }
  return errs;
}

function validateDNSConfig(config: PodDNSConfig | undefined, dnsPolicy: string | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (dnsPolicy === 'None') {
    if (!config) return [field.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((config.nameservers ?? []).length === 0) {
      return [field.required(path.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (!config) return errs;
  const nameservers = config.nameservers ?? [];
  if (nameservers.length > maxDNSNameservers) {
    errs.push(field.invalid(path.child('nameservers'), nameservers, `must not have more than ${maxDNSNameservers} nameservers`));
  }
  nameservers.forEach((ns, i) => errs.push(...validateIP(path.child('nameservers').index(i), ns)));
  const searches = config.searches ?? [];
  if (searches.length > maxDNSSearchPaths) {
    errs.push(field.invalid(path.child('searches'), searches, `must not have more than ${maxDNSSearchPaths} search paths`));
  }
  if (searches.join(' ').length > maxDNSSearchListChars) {
    errs.push(
      field.invalid(path.child('searches'), searches, `must not have more than ${maxDNSSearchListChars} characters (including spaces) in the search list`),
    );
  }
  searches.forEach((s, i) => {
    const trimmed = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const m of isDNS1123Subdomain(trimmed)) errs.push(field.invalid(path.child('searches').index(i), trimmed, m));
  });
  (config.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(field.required(path.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

const goStringPointer = (s: string | undefined) => (s === undefined ? '(*string)(nil)' : '(*string)(0xc000010000)');

function validateResourceClaims(spec: PodSpec, path: Path): ErrorList {
  const errs: ErrorList = [];
  const names = new Set<string>();
  (spec.resourceClaims ?? []).forEach((claim, i) => {
    const p = path.index(i);
    const raw = claim as { name: string; resourceClaimName?: string; resourceClaimTemplateName?: string };
    if (!raw.name) errs.push(field.required(p.child('name'), ''));
    else if (names.has(raw.name)) errs.push(field.duplicate(p.child('name'), raw.name));
    else {
      for (const m of isDNS1123Label(raw.name)) errs.push(field.invalid(p.child('name'), raw.name, m));
      names.add(raw.name);
    }
    const shown = new GoValue(
      `core.PodResourceClaim{Name:${goQuote(raw.name ?? '')}, ResourceClaimName:${goStringPointer(raw.resourceClaimName)}, ` +
        `ResourceClaimTemplateName:${goStringPointer(raw.resourceClaimTemplateName)}}`,
    );
    if (raw.resourceClaimName !== undefined && raw.resourceClaimTemplateName !== undefined) {
      errs.push(field.invalid(p, shown, 'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified'));
    }
    if (raw.resourceClaimName === undefined && raw.resourceClaimTemplateName === undefined) {
      errs.push(field.invalid(p, shown, 'must specify one of: `resourceClaimName`, `resourceClaimTemplateName`'));
    }
    for (const [key, value] of [
      ['resourceClaimName', raw.resourceClaimName],
      ['resourceClaimTemplateName', raw.resourceClaimTemplateName],
    ] as const) {
      if (value !== undefined) for (const m of nameIsDNSSubdomain(value, false)) errs.push(field.invalid(p.child(key), value, m));
    }
  });
  return errs;
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const dnsPolicies = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

function validateOS(spec: PodSpec, specPath: Path): ErrorList {
  const os = spec.os;
  if (!os) return [];
  const path = specPath.child('os');
  if (!os.name) return [field.required(path.child('name'), 'cannot be empty')];
  if (os.name !== 'linux' && os.name !== 'windows') return [field.notSupported(path, os.name, ['linux', 'windows'])];
  const errs: ErrorList = [];
  const containers: [string, PodSpec['containers']][] = [
    ['initContainers', spec.initContainers ?? []],
    ['containers', spec.containers ?? []],
  ];
  if (os.name === 'linux') {
    if (spec.securityContext?.windowsOptions) {
      errs.push(field.forbidden(specPath.child('securityContext', 'windowsOptions'), 'windows options cannot be set for a linux pod'));
    }
    for (const [list, cs] of containers) {
      cs.forEach((c, i) => {
        if (c.securityContext?.windowsOptions) {
          errs.push(field.forbidden(specPath.child(list).index(i).child('securityContext', 'windowsOptions'), 'windows options cannot be set for a linux pod'));
        }
      });
    }
    return errs;
  }
  const msg = 'cannot be set for a windows pod';
  const sc = (spec.securityContext ?? {}) as Record<string, unknown>;
  for (const f of ['appArmorProfile', 'seLinuxOptions', 'seccompProfile', 'fsGroup', 'fsGroupChangePolicy', 'runAsUser', 'runAsGroup', 'supplementalGroups']) {
    if (sc[f] !== undefined && sc[f] !== null) errs.push(field.forbidden(specPath.child('securityContext', f), msg));
  }
  if ((spec.securityContext?.sysctls ?? []).length > 0) errs.push(field.forbidden(specPath.child('securityContext', 'sysctls'), msg));
  if (spec.hostUsers !== undefined) errs.push(field.forbidden(specPath.child('hostUsers'), msg));
  if (spec.hostPID) errs.push(field.forbidden(specPath.child('hostPID'), msg));
  if (spec.hostIPC) errs.push(field.forbidden(specPath.child('hostIPC'), msg));
  if (spec.shareProcessNamespace !== undefined) errs.push(field.forbidden(specPath.child('shareProcessNamespace'), msg));
  for (const [list, cs] of containers) {
    cs.forEach((c, i) => {
      const csc = (c.securityContext ?? {}) as Record<string, unknown>;
      for (const f of ['appArmorProfile', 'seLinuxOptions', 'seccompProfile', 'capabilities', 'readOnlyRootFilesystem', 'privileged', 'allowPrivilegeEscalation', 'procMount', 'runAsUser', 'runAsGroup']) {
        if (csc[f] !== undefined && csc[f] !== null) errs.push(field.forbidden(specPath.child(list).index(i).child('securityContext', f), msg));
      }
    });
  }
  return errs;
}

/**
 * Upstream's ValidatePodSpec. `podName` is given for Pods (it checks the names of claims generated for
 * ephemeral volumes); templates pass undefined.
 */
export function validatePodSpec(spec: PodSpec, podName: string | undefined, path: Path, opts: PodValidationOptions = {}): ErrorList {
  const errs: ErrorList = [];
  if (spec.terminationGracePeriodSeconds === undefined || spec.terminationGracePeriodSeconds === null) {
    errs.push(field.required(path.child('terminationGracePeriodSeconds'), ''));
  }
  const hostUsers = spec.hostUsers !== false;
  const { volumes, errs: volErrs } = validateVolumes(spec.volumes, podName, path.child('volumes'));
  errs.push(...volErrs);
  const podClaimNames = new Set((spec.resourceClaims ?? []).map((c) => c.name).filter((n) => n));
  errs.push(...validateResourceClaims(spec, path.child('resourceClaims')));
  const ctx: ContainerContext = {
    volumes,
    podClaimNames,
    gracePeriod: spec.terminationGracePeriodSeconds ?? undefined,
    restartPolicy: spec.restartPolicy,
    hostUsers,
  };
  errs.push(...validateContainers(spec.containers, ctx, path.child('containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, ctx, path.child('initContainers')));
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, spec.containers, spec.initContainers, ctx, path.child('ephemeralContainers')));
  if (spec.hostNetwork) {
    (spec.containers ?? []).forEach((c, i) => {
      (c.ports ?? []).forEach((port, j) => {
        const hp = port.hostPort ?? 0;
        if ((opts.resourceIsPod || hp !== 0) && hp !== port.containerPort) {
          errs.push(
            field.invalid(
              path.child('containers').index(i).child('ports').index(j).child('hostPort'),
              hp,
              'must match `containerPort` when `hostNetwork` is true',
            ),
          );
        }
      });
    });
  }
  const restartPolicy = spec.restartPolicy ?? '';
  if (!restartPolicy) errs.push(field.required(path.child('restartPolicy'), ''));
  else if (!restartPolicies.includes(restartPolicy)) errs.push(field.notSupported(path.child('restartPolicy'), restartPolicy, restartPolicies));
  const dnsPolicy = spec.dnsPolicy ?? '';
  if (!dnsPolicy) errs.push(field.required(path.child('dnsPolicy'), ''));
  else if (!dnsPolicies.includes(dnsPolicy)) errs.push(field.notSupported(path.child('dnsPolicy'), dnsPolicy, dnsPolicies));
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  errs.push(...validatePodSecurityContext(spec.securityContext, path.child('securityContext')));
  if (spec.shareProcessNamespace && spec.hostPID) {
    errs.push(field.invalid(path.child('securityContext', 'shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  errs.push(...validateAffinity(spec.affinity, opts.allowInvalidLabelValueInSelector ?? false, path.child('affinity')));
  errs.push(...validateDNSConfig(spec.dnsConfig, spec.dnsPolicy, path.child('dnsConfig')));
  (spec.readinessGates ?? []).forEach((g, i) => {
    const p = path.child('readinessGates').index(i).child('conditionType');
    for (const m of isQualifiedName(g.conditionType ?? '')) errs.push(field.invalid(p, g.conditionType ?? '', m));
  });
  errs.push(...validateSchedulingGates(spec.schedulingGates, path.child('schedulingGates')));
  errs.push(
    ...validateTopologySpreadConstraints(spec.topologySpreadConstraints, opts.allowInvalidLabelValueInSelector ?? false, path.child('topologySpreadConstraints')),
  );
  errs.push(...validateHostUsers(spec, path));
  if (spec.serviceAccountName) {
    for (const m of nameIsDNSSubdomain(spec.serviceAccountName, false)) {
      errs.push(field.invalid(path.child('serviceAccountName'), spec.serviceAccountName, m));
    }
  }
  if (spec.nodeName) {
    for (const m of nameIsDNSSubdomain(spec.nodeName, false)) errs.push(field.invalid(path.child('nodeName'), spec.nodeName, m));
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && (ads < 1 || ads > maxInt32)) {
    errs.push(field.invalid(path.child('activeDeadlineSeconds'), ads, inclusiveRangeError(1, maxInt32)));
  }
  if (spec.hostname) for (const m of isDNS1123Label(spec.hostname)) errs.push(field.invalid(path.child('hostname'), spec.hostname, m));
  if (spec.subdomain) for (const m of isDNS1123Label(spec.subdomain)) errs.push(field.invalid(path.child('subdomain'), spec.subdomain, m));
  if ((spec.tolerations ?? []).length > 0) errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  (spec.hostAliases ?? []).forEach((alias, i) => {
    const p = path.child('hostAliases').index(i);
    errs.push(...validateIP(p.child('ip'), alias.ip ?? ''));
    (alias.hostnames ?? []).forEach((h, j) => {
      for (const m of isDNS1123Subdomain(h)) errs.push(field.invalid(p.child('hostnames').index(j), h, m));
    });
  });
  if (spec.priorityClassName) {
    for (const m of nameIsDNSSubdomain(spec.priorityClassName, false)) {
      errs.push(field.invalid(path.child('priorityClassName'), spec.priorityClassName, m));
    }
  }
  if (spec.runtimeClassName !== undefined && spec.runtimeClassName !== null) {
    for (const m of nameIsDNSSubdomain(spec.runtimeClassName, false)) {
      errs.push(field.invalid(path.child('runtimeClassName'), spec.runtimeClassName, m));
    }
  }
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== null) {
    if (!spec.preemptionPolicy) errs.push(field.required(path.child('preemptionPolicy'), ''));
    else if (spec.preemptionPolicy !== 'PreemptLowerPriority' && spec.preemptionPolicy !== 'Never') {
      errs.push(field.notSupported(path.child('preemptionPolicy'), spec.preemptionPolicy, ['PreemptLowerPriority', 'Never']));
    }
  }
  if (spec.overhead) errs.push(...validateResourceRequirements({ limits: spec.overhead }, new Set(), path.child('overhead')));
  errs.push(...validateOS(spec, path));
  return errs;
}

/**
 * Upstream's ValidatePodTemplateSpec: the template's labels and annotations, then its spec as a template
 * (no ephemeral containers). Errors of the labels are reported at `<path>.labels`, as upstream does.
 */
export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: Path, opts: PodValidationOptions = {}): ErrorList {
  const t = template ?? {};
  const meta = t.metadata ?? {};
  const spec: PodSpec = t.spec ?? { containers: [] };
  const errs: ErrorList = [];
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validatePodSpecificAnnotations(meta.annotations, spec, path.child('annotations')));
  errs.push(...validatePodSpec(spec, undefined, path.child('spec'), opts));
  if ((spec.ephemeralContainers ?? []).length > 0) {
    errs.push(field.forbidden(path.child('spec', 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}
