// The Pod strategy (upstream's pkg/registry/core/pod strategy and ValidatePodCreate/ValidatePodUpdate):
// defaulting, status on create (Pending with the QoS class), validation, the rule that a running pod's spec
// is immutable but for images, deadlines, tolerations and grace periods, and the grace period of a delete.
import type { Affinity, Pod, PodAffinityTerm, PodSpec, Toleration } from 'kubernetes-types/core/v1.js';
import { findResource } from '../../api/resources.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { inclusiveRangeError, nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';
import { validateImageWhitespace } from './pod-containers.js';
import { computePodQOS } from './pod-qos.js';
import { defaultPodSpecOfPod, validatePodSpec, validatePodSpecificAnnotations } from './pod-spec.js';
import { validateTolerations } from './pod-scheduling.js';
import { semanticallyEqual, specDiff } from './spec-diff.js';
import { validateCoreObjectMeta, validateCoreObjectMetaUpdate } from './workload-meta.js';

const maxInt32 = 2147483647;

/** The first line of upstream's message for a forbidden pod spec change (1.33, resize moved to /resize). */
export const podUpdateForbiddenMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,' +
  '`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),' +
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

const notReadyTaint = 'node.kubernetes.io/not-ready';
const unreachableTaint = 'node.kubernetes.io/unreachable';

/**
 * Upstream's DefaultTolerationSeconds admission: unless the pod already tolerates them, adds NoExecute
 * tolerations of the not-ready and unreachable taints for the given number of seconds (300 by default).
 * Admission runs on create only, so the API server calls this before the store's create, not on updates.
 */
export function addDefaultTolerations(pod: KObject, notReadySeconds = 300, unreachableSeconds = 300): void {
  const spec = (pod.spec ??= {}) as PodSpec;
  const tolerations = spec.tolerations ?? [];
  const tolerates = (key: string) =>
    tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added: Toleration[] = [];
  if (!tolerates(notReadyTaint)) {
    added.push({ key: notReadyTaint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds });
  }
  if (!tolerates(unreachableTaint)) {
    added.push({ key: unreachableTaint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds });
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added];
}

function applyMatchLabelKeys(term: PodAffinityTerm, labels: Readonly<Record<string, string>>): void {
  const raw = term as PodAffinityTerm & { matchLabelKeys?: string[]; mismatchLabelKeys?: string[] };
  if (!term.labelSelector || ((raw.matchLabelKeys ?? []).length === 0 && (raw.mismatchLabelKeys ?? []).length === 0)) return;
  const exprs = (term.labelSelector.matchExpressions ??= []);
  for (const key of raw.matchLabelKeys ?? []) {
    if (Object.hasOwn(labels, key)) exprs.push({ key, operator: 'In', values: [labels[key]!] });
  }
  for (const key of raw.mismatchLabelKeys ?? []) {
    if (Object.hasOwn(labels, key)) exprs.push({ key, operator: 'NotIn', values: [labels[key]!] });
  }
}

/** matchLabelKeys and mismatchLabelKeys turn into selector expressions on the pod's own label values. */
function mutatePodAffinity(affinity: Affinity | undefined, labels: Readonly<Record<string, string>>): void {
  for (const pa of [affinity?.podAffinity, affinity?.podAntiAffinity]) {
    for (const t of pa?.requiredDuringSchedulingIgnoredDuringExecution ?? []) applyMatchLabelKeys(t, labels);
    for (const t of pa?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (t.podAffinityTerm) applyMatchLabelKeys(t.podAffinityTerm, labels);
    }
  }
}

/** The pod-only checks of validatePodMetadataAndSpec, shared by create and update. */
function validatePodMetadataAndSpec(pod: Pod): ErrorList {
  const meta = newPath('metadata');
  const spec = newPath('spec');
  const podSpec: PodSpec = pod.spec ?? { containers: [] };
  const errs = validateCoreObjectMeta(pod.metadata, true, nameIsDNSSubdomain, meta);
  errs.push(...validatePodSpecificAnnotations(pod.metadata?.annotations, podSpec, meta.child('annotations')));
  errs.push(...validatePodSpec(podSpec, pod.metadata?.name, spec, { resourceIsPod: true }));
  if (!podSpec.serviceAccountName) {
    (podSpec.volumes ?? []).forEach((v, vi) => {
      (v.projected?.sources ?? []).forEach((s, si) => {
        if (s.serviceAccountToken) {
          const p = spec.child('volumes').index(vi).child('projected', 'sources').index(si).child('serviceAccountToken');
          errs.push(field.forbidden(p, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  (podSpec.containers ?? []).forEach((c, i) => errs.push(...validateImageWhitespace(c, spec.child('containers').index(i))));
  (podSpec.initContainers ?? []).forEach((c, i) => errs.push(...validateImageWhitespace(c, spec.child('initContainers').index(i))));
  return errs;
}

/** Upstream's ValidatePodCreate. */
export function validatePodCreate(obj: KObject): ErrorList {
  const pod = obj as Pod;
  const errs = validatePodMetadataAndSpec(pod);
  const spec = newPath('spec');
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) errs.push(field.forbidden(spec.child('ephemeralContainers'), 'cannot be set on create'));
  if (pod.spec?.nodeName && (pod.spec.schedulingGates ?? []).length > 0) {
    errs.push(field.forbidden(spec.child('nodeName'), 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

const appArmorPrefix = 'container.apparmor.security.beta.kubernetes.io/';
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

function validateAnnotationUpdates(pod: Pod, old: Pod, path: Path): ErrorList {
  const errs: ErrorList = [];
  const next = pod.metadata?.annotations ?? {};
  const prev = old.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(prev)) {
    if (Object.hasOwn(next, k) && next[k] === v) continue;
    if (k.startsWith(appArmorPrefix)) errs.push(field.forbidden(path.key(k), 'may not remove or update AppArmor annotations'));
    if (k === mirrorPodAnnotation) errs.push(field.forbidden(path.key(k), 'may not remove or update mirror pod annotation'));
  }
  for (const k of Object.keys(next)) {
    if (Object.hasOwn(prev, k)) continue;
    if (k.startsWith(appArmorPrefix)) errs.push(field.forbidden(path.key(k), 'may not add AppArmor annotations'));
    if (k === mirrorPodAnnotation) errs.push(field.forbidden(path.key(k), 'may not add mirror pod annotation'));
  }
  return errs;
}

function validateContainerUpdates(next: PodSpec['containers'] | undefined, prev: PodSpec['containers'] | undefined, path: Path) {
  if ((next ?? []).length !== (prev ?? []).length) {
    return { errs: [field.forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  }
  const errs: ErrorList = [];
  (next ?? []).forEach((c, i) => {
    if (!c.image) errs.push(field.required(path.index(i).child('image'), ''));
    errs.push(...validateImageWhitespace(c, path.index(i)));
  });
  return { errs, stop: false };
}

function withoutSeconds(t: Toleration): Toleration {
  const { tolerationSeconds: _s, ...rest } = t;
  return rest;
}

function validateOnlyAddedTolerations(next: readonly Toleration[] | undefined, prev: readonly Toleration[] | undefined, path: Path): ErrorList {
  for (const old of prev ?? []) {
    if (!(next ?? []).some((t) => semanticallyEqual(withoutSeconds(old), withoutSeconds(t)))) {
      return [field.forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
    }
  }
  return validateTolerations(next, path);
}

/** Upstream's ValidatePodUpdate: what a client may change in a pod's spec, besides the checks of a create. */
export function validatePodUpdate(obj: KObject, oldObj: KObject): ErrorList {
  const pod = obj as Pod;
  const old = oldObj as Pod;
  const meta = newPath('metadata');
  const specPath = newPath('spec');
  const errs = validateCoreObjectMetaUpdate(obj, oldObj, meta);
  errs.push(...validatePodMetadataAndSpec(pod));
  errs.push(...validateAnnotationUpdates(pod, old, meta.child('annotations')));
  const spec: PodSpec = pod.spec ?? { containers: [] };
  const oldSpec: PodSpec = old.spec ?? { containers: [] };
  for (const list of ['containers', 'initContainers'] as const) {
    const r = validateContainerUpdates(spec[list], oldSpec[list], specPath.child(list));
    errs.push(...r.errs);
    if (r.stop) return errs;
  }
  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null) {
    if (ads < 0 || ads > maxInt32) {
      errs.push(field.invalid(specPath.child('activeDeadlineSeconds'), ads, inclusiveRangeError(0, maxInt32)));
      return errs;
    }
    const oldAds = oldSpec.activeDeadlineSeconds;
    if (oldAds !== undefined && oldAds !== null && oldAds < ads) {
      errs.push(field.invalid(specPath.child('activeDeadlineSeconds'), ads, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (oldSpec.activeDeadlineSeconds !== undefined && oldSpec.activeDeadlineSeconds !== null) {
    errs.push(field.invalid(specPath.child('activeDeadlineSeconds'), null, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, specPath.child('tolerations')));
  const newGates = spec.schedulingGates ?? [];
  const oldGateNames = new Set((oldSpec.schedulingGates ?? []).map((g) => g.name));
  newGates.forEach((g, i) => {
    if (!oldGateNames.has(g.name)) {
      errs.push(field.forbidden(specPath.child('schedulingGates').index(i).child('name'), `only deletion is allowed, but found new scheduling gate '${g.name}'`));
    }
  });
  if (semanticallyEqual(spec, oldSpec)) return errs;
  const oldQOS = (old.status?.qosClass) || computePodQOS(oldSpec);
  if (oldQOS !== computePodQOS(spec)) errs.push(field.invalid(meta, pod.status?.qosClass ?? '', 'Pod QoS is immutable'));
  // What may change is set back to the old values; any difference left is forbidden.
  const munged = structuredClone(spec);
  (munged.containers ?? []).forEach((c, i) => (c.image = oldSpec.containers[i]!.image));
  (munged.initContainers ?? []).forEach((c, i) => (c.image = oldSpec.initContainers![i]!.image));
  setOrDelete(munged, 'activeDeadlineSeconds', oldSpec.activeDeadlineSeconds);
  setOrDelete(munged, 'schedulingGates', oldSpec.schedulingGates);
  setOrDelete(munged, 'tolerations', oldSpec.tolerations);
  const oldGrace = oldSpec.terminationGracePeriodSeconds;
  if (oldGrace !== undefined && oldGrace !== null && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldGrace;
  }
  if ((oldSpec.schedulingGates ?? []).length > 0 && !semanticallyEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
    const next = munged.nodeSelector ?? {};
    const kept = Object.entries(oldSpec.nodeSelector ?? {}).every(([k, v]) => next[k] === v);
    if (!kept) {
      errs.push(field.invalid(specPath.child('nodeSelector'), next, 'only additions to spec.nodeSelector are allowed (no mutations or deletions)'));
    }
    setOrDelete(munged, 'nodeSelector', oldSpec.nodeSelector);
  }
  if (!semanticallyEqual(munged, oldSpec)) {
    errs.push(field.forbidden(specPath, `${podUpdateForbiddenMessage}\n${specDiff('core.PodSpec', oldSpec, munged)}`));
  }
  return errs;
}

function setOrDelete<K extends keyof PodSpec>(spec: PodSpec, key: K, value: PodSpec[K] | undefined): void {
  if (value === undefined) delete spec[key];
  else spec[key] = structuredClone(value);
}

/**
 * The grace period of a delete without one (upstream's CheckGracefulDelete): the pod's
 * terminationGracePeriodSeconds once it is on a node and still running; at once when unscheduled or finished.
 */
export function podGracePeriodSeconds(obj: KObject): number {
  const pod = obj as Pod;
  if (!pod.spec?.nodeName) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const period = pod.spec.terminationGracePeriodSeconds ?? 0;
  return period < 0 ? 1 : period;
}

const base = defaultStrategy(findResource('', 'v1', 'pods')!);

/** The strategy of core/v1 pods. */
export const podStrategy: ResourceStrategy = {
  ...base,
  defaults(obj) {
    defaultPodSpecOfPod((obj.spec ??= {}) as PodSpec);
  },
  prepareForCreate(obj) {
    const pod = obj as Pod;
    const spec = (pod.spec ??= { containers: [] });
    const status: NonNullable<Pod['status']> = { phase: 'Pending', qosClass: computePodQOS(spec) };
    if ((spec.schedulingGates ?? []).length > 0) {
      status.conditions = [
        { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' },
      ];
    }
    obj.status = status;
    mutatePodAffinity(spec.affinity, pod.metadata?.labels ?? {});
  },
  validate: validatePodCreate,
  validateUpdate: validatePodUpdate,
  defaultGracePeriodSeconds: podGracePeriodSeconds,
};
