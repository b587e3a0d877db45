// Validation of security settings shared by pods and containers (upstream's validatePodSpecSecurityContext,
// seccomp and AppArmor profile checks, sysctl names and the user-namespace restrictions).
import type { PodSecurityContext, PodSpec, SeccompProfile } from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import { isValidGroupID, isValidUserID } from '../../apimachinery/validation/names.js';
import { validateLocalDescendingPath } from './pod-volumes.js';

const seccompTypes = ['Localhost', 'RuntimeDefault', 'Unconfined'];

/** A seccompProfile: a known type, and a local profile path exactly when the type is Localhost. */
export function validateSeccompProfile(sp: SeccompProfile | undefined, path: Path): ErrorList {
  if (!sp) return [];
  const errs: ErrorList = [];
  if (!sp.type) errs.push(field.required(path.child('type'), 'type is required when seccompProfile is set'));
  else if (!seccompTypes.includes(sp.type)) errs.push(field.notSupported(path.child('type'), sp.type, seccompTypes));
  if (sp.type === 'Localhost') {
    if (sp.localhostProfile === undefined || sp.localhostProfile === null) {
      errs.push(field.required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost'));
    } else {
      errs.push(...validateLocalDescendingPath(sp.localhostProfile, path.child('localhostProfile')));
    }
  } else if (sp.localhostProfile !== undefined && sp.localhostProfile !== null) {
    errs.push(field.invalid(path.child('localhostProfile'), sp, 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

/** An appArmorProfile: a known type, and a trimmed local profile name exactly when the type is Localhost. */
export function validateAppArmorProfile(profile: { type?: string; localhostProfile?: string } | undefined, path: Path): ErrorList {
  if (!profile) return [];
  const errs: ErrorList = [];
  const local = profile.localhostProfile;
  switch (profile.type) {
    case 'Localhost':
      if (local === undefined || local === null) {
        errs.push(field.required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      } else if (local.trim() !== local) {
        errs.push(field.invalid(path.child('localhostProfile'), local, 'must not be padded with whitespace'));
      } else if (local === '') {
        errs.push(field.required(path.child('localhostProfile'), 'must be set when AppArmor type is Localhost'));
      }
      break;
    case 'RuntimeDefault':
    case 'Unconfined':
      if (local !== undefined && local !== null) {
        errs.push(field.invalid(path.child('localhostProfile'), local, 'can only be set when AppArmor type is Localhost'));
      }
      break;
    case undefined:
    case '':
      errs.push(field.required(path.child('type'), 'type is required when appArmorProfile is set'));
      break;
    default:
      errs.push(field.notSupported(path.child('type'), profile.type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  return errs;
}

const sysctlSegment = '[a-z0-9]([-_a-z0-9]*[a-z0-9])?';
const sysctlPattern = `(${sysctlSegment}[\\./])*${sysctlSegment}`;
const sysctlRegexp = new RegExp(`^${sysctlPattern}$`);
const sysctlMaxLength = 253;

function validateSysctls(sc: PodSecurityContext, path: Path): ErrorList {
  const errs: ErrorList = [];
  const names = new Set<string>();
  (sc.sysctls ?? []).forEach((s, i) => {
    const p = path.index(i).child('name');
    if (!s.name) errs.push(field.required(p, ''));
    else if (s.name.length > sysctlMaxLength || !sysctlRegexp.test(s.name)) {
      errs.push(field.invalid(p, s.name, `must have at most ${sysctlMaxLength} characters and match regex ^${sysctlPattern}$`));
    } else if (names.has(s.name)) errs.push(field.duplicate(p, s.name));
    names.add(s.name ?? '');
  });
  return errs;
}

/** The pod-level securityContext: IDs in range, no shared PID namespace with hostPID, sysctls and profiles valid. */
export function validatePodSecurityContext(sc: PodSecurityContext | undefined, path: Path): ErrorList {
  if (!sc) return [];
  const errs: ErrorList = [];
  if (sc.fsGroup !== undefined && sc.fsGroup !== null) {
    for (const m of isValidGroupID(sc.fsGroup)) errs.push(field.invalid(path.child('fsGroup'), sc.fsGroup, m));
  }
  if (sc.runAsUser !== undefined && sc.runAsUser !== null) {
    for (const m of isValidUserID(sc.runAsUser)) errs.push(field.invalid(path.child('runAsUser'), sc.runAsUser, m));
  }
  if (sc.runAsGroup !== undefined && sc.runAsGroup !== null) {
    for (const m of isValidGroupID(sc.runAsGroup)) errs.push(field.invalid(path.child('runAsGroup'), sc.runAsGroup, m));
  }
  (sc.supplementalGroups ?? []).forEach((gid, i) => {
    for (const m of isValidGroupID(gid)) errs.push(field.invalid(path.child('supplementalGroups').index(i), gid, m));
  });
  if ((sc.sysctls ?? []).length > 0) errs.push(...validateSysctls(sc, path.child('sysctls')));
  if (sc.fsGroupChangePolicy !== undefined && sc.fsGroupChangePolicy !== null) {
    const allowed = ['Always', 'OnRootMismatch'];
    if (!allowed.includes(sc.fsGroupChangePolicy)) errs.push(field.notSupported(path.child('fsGroupChangePolicy'), sc.fsGroupChangePolicy, allowed));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  errs.push(...validateAppArmorProfile((sc as { appArmorProfile?: { type?: string } }).appArmorProfile, path.child('appArmorProfile')));
  const policy = (sc as { supplementalGroupsPolicy?: string }).supplementalGroupsPolicy;
  if (policy !== undefined && policy !== null && policy !== 'Merge' && policy !== 'Strict') {
    errs.push(field.notSupported(path.child('supplementalGroupsPolicy'), policy, ['Merge', 'Strict']));
  }
  return errs;
}

/** A pod in its own user namespace (hostUsers: false) may not share the host's network, PID or IPC namespace. */
export function validateHostUsers(spec: PodSpec, path: Path): ErrorList {
  if (spec.hostUsers !== false) return [];
  const errs: ErrorList = [];
  const msg = 'when `pod.Spec.HostUsers` is false';
  if (spec.hostNetwork) errs.push(field.forbidden(path.child('hostNetwork'), msg));
  if (spec.hostPID) errs.push(field.forbidden(path.child('HostPID'), msg));
  if (spec.hostIPC) errs.push(field.forbidden(path.child('HostIPC'), msg));
  return errs;
}
