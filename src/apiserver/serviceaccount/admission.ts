// The ServiceAccount admission plugin on pod create (upstream's plugin/pkg/admission/serviceaccount):
// serviceAccountName defaults to "default", the service account must exist, its imagePullSecrets are copied
// to a pod that has none, and unless automounting is off (on the pod, else on the service account) every
// container and init container mounts the kube-api-access-<random> projected volume (a bound token, the
// cluster CA from the kube-root-ca.crt ConfigMap, the namespace) at the well-known path.
import { randomInt } from 'node:crypto';
import { apiErrors, StatusError } from '../../apimachinery/errors/status-error.js';
import type { KObject } from '../../registry/generic/index.js';
import { warnOnlyBoundTokenExpirationSeconds } from './tokens.js';

/** Where containers find the token, the CA and the namespace (upstream's DefaultAPITokenMountPath). */
export const serviceAccountMountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The prefix of the injected volume's name. */
export const serviceAccountVolumePrefix = 'kube-api-access-';
/** The ConfigMap the root CA publisher keeps in every namespace. */
export const rootCAConfigMapName = 'kube-root-ca.crt';
const mirrorPodAnnotation = 'kubernetes.io/config.mirror';

/** The letters of upstream's SimpleNameGenerator (no vowels, no look-alike digits). */
const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** base + 5 random characters, as generateName makes names. */
export function randomNameSuffix(base: string): string {
  let s = base;
  for (let i = 0; i < 5; i++) s += nameAlphabet[randomInt(nameAlphabet.length)];
  return s;
}

/** The projected volume source of the injected volume (upstream's TokenVolumeSource). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { path: 'token', expirationSeconds: warnOnlyBoundTokenExpirationSeconds } },
      { configMap: { name: rootCAConfigMapName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  };
}

interface ServiceAccountLike {
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
}

interface PodSpecLike {
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  imagePullSecrets?: { name?: string }[];
  volumes?: { name: string }[];
  containers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  initContainers?: { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
}

/** Looks a service account up; undefined when it does not exist. */
export type ServiceAccountLookup = (namespace: string, name: string) => Promise<KObject | undefined>;

/** Options of the plugin. */
export interface ServiceAccountAdmissionOptions {
  /** Finds a service account (the watch cache first, then the store). */
  lookup: ServiceAccountLookup;
  /** Waits between lookups of a missing "default" account, which its controller should make soon. */
  sleep?: (ms: number) => Promise<void>;
}

/** Mounts the token volume in every container that has nothing at the mount path (upstream's mountServiceAccountToken). */
export function mountServiceAccountToken(spec: PodSpecLike): void {
  let volumeName = '';
  for (const v of spec.volumes ?? []) {
    if (v.name.startsWith(serviceAccountVolumePrefix)) {
      volumeName = v.name;
      break;
    }
  }
  const hasVolume = volumeName !== '';
  if (!hasVolume) volumeName = randomNameSuffix(serviceAccountVolumePrefix);
  let needsVolume = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m) => m.mountPath === serviceAccountMountPath)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name: volumeName, readOnly: true, mountPath: serviceAccountMountPath }];
    needsVolume = true;
  }
  if (!hasVolume && needsVolume) spec.volumes = [...(spec.volumes ?? []), { name: volumeName, projected: tokenVolumeSource() } as { name: string }];
}

/** Runs the plugin on a pod being created; throws Forbidden when its service account does not exist. */
export async function admitPodServiceAccount(pod: KObject, namespace: string, o: ServiceAccountAdmissionOptions): Promise<void> {
  // A mirror pod's spec must stay what the kubelet wrote, or the kubelet deletes it as changed.
  if (pod.metadata?.annotations?.[mirrorPodAnnotation] !== undefined) return;
  const spec = (pod.spec ?? {}) as PodSpecLike;
  pod.spec = spec;
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  const name = spec.serviceAccountName;
  // v1 still shows the deprecated serviceAccount field, always equal to serviceAccountName.
  spec.serviceAccount = name;
  // The default account is made by its controller right after the namespace: give it a moment, as upstream does.
  const attempts = name === 'default' ? 10 : 1;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let sa: KObject | undefined;
  for (let i = 0; i < attempts && !sa; i++) {
    if (i > 0) await sleep(100 + randomInt(100));
    sa = await o.lookup(namespace, name);
  }
  if (!sa) {
    throw apiErrors.forbidden(
      { group: '', resource: 'pods' },
      pod.metadata?.name ?? '',
      `error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`,
    );
  }
  const account = sa as KObject & ServiceAccountLike;
  const automount = spec.automountServiceAccountToken ?? account.automountServiceAccountToken ?? true;
  if (automount) mountServiceAccountToken(spec);
  if ((spec.imagePullSecrets ?? []).length === 0 && (account.imagePullSecrets ?? []).length > 0) {
    spec.imagePullSecrets = (account.imagePullSecrets ?? []).map((s) => ({ name: s.name ?? '' }));
  }
}

/** A lookup over a getter that throws NotFound StatusErrors. */
export function lookupIgnoringNotFound(get: (namespace: string, name: string) => Promise<KObject>): ServiceAccountLookup {
  return async (namespace, name) => {
    try {
      return await get(namespace, name);
    } catch (err) {
      if (err instanceof StatusError && err.reason === 'NotFound') return undefined;
      throw err;
    }
  };
}
