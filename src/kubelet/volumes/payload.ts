// The files of the kubelet's API-backed volumes (configMap, secret, downwardAPI, projected), computed from
// the objects as upstream's volume plugins do: all keys or only the listed items, defaultMode or each item's
// mode, errors for missing objects and keys unless optional.
import type { ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, ServiceAccountTokenProjection, Volume } from 'kubernetes-types/core/v1.js';
import type { EnvNodeInfo } from '../pod/env.js';
import { podFieldValue, resourceFieldValue } from '../pod/env.js';
import type { FileProjection } from './atomic-writer.js';

/** Where volume contents come from. */
export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined> | ConfigMap | undefined;
  secret(namespace: string, name: string): Promise<Secret | undefined> | Secret | undefined;
  /** A service account token bound to the pod, for a serviceAccountToken projection; absent: such volumes fail. */
  serviceAccountToken?(pod: Pod, projection: ServiceAccountTokenProjection): Promise<string>;
  /** Forgets what was cached for a pod that is gone (its tokens). */
  forgetPod?(uid: string): void;
}

/** A volume that cannot be set up yet (event FailedMount). */
export class VolumeSetupError extends Error {}

const defaultMode = 0o644;

function keyed(
  data: Map<string, Uint8Array>,
  items: readonly KeyToPath[] | undefined,
  mode: number,
  optional: boolean,
  what: string,
  out: Map<string, FileProjection>,
): void {
  if (!items || items.length === 0) {
    for (const [k, v] of data) out.set(k, { data: v, mode });
    return;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(`${what} references non-existent ${what === 'configmap' ? 'config' : 'secret'} key: ${it.key}`);
    }
    out.set(it.path, { data: v, mode: it.mode ?? mode });
  }
}

function configMapData(cm: ConfigMap): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(cm.data ?? {})) m.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) m.set(k, Buffer.from(v, 'base64'));
  return m;
}

function secretData(s: Secret): Map<string, Uint8Array> {
  const m = new Map<string, Uint8Array>();
  for (const [k, v] of Object.entries(s.data ?? {})) m.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(s.stringData ?? {})) m.set(k, Buffer.from(v));
  return m;
}

function downward(pod: Pod, items: readonly DownwardAPIVolumeFile[], mode: number, node: EnvNodeInfo, out: Map<string, FileProjection>): void {
  for (const it of items) {
    let value = '';
    if (it.fieldRef) value = podFieldValue(pod, it.fieldRef.fieldPath, node);
    else if (it.resourceFieldRef) {
      const c = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((x) => x.name === it.resourceFieldRef!.containerName);
      if (c) value = resourceFieldValue(c, { resource: it.resourceFieldRef.resource, divisor: it.resourceFieldRef.divisor }, node.allocatable);
    }
    out.set(it.path, { data: value, mode: it.mode ?? mode });
  }
}

/** The payload of an API-backed volume, or undefined for the other kinds. Throws VolumeSetupError. */
export async function volumePayload(pod: Pod, volume: Volume, sources: VolumeSources, node: EnvNodeInfo): Promise<Map<string, FileProjection> | undefined> {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Map<string, FileProjection>();
  if (volume.configMap) {
    const { name = '', optional = false, items } = volume.configMap;
    const cm = await sources.configMap(ns, name);
    if (!cm) {
      if (optional) return out;
      throw new VolumeSetupError(`configmap "${name}" not found`);
    }
    keyed(configMapData(cm), items, volume.configMap.defaultMode ?? defaultMode, optional, 'configmap', out);
    return out;
  }
  if (volume.secret) {
    const { secretName = '', optional = false, items } = volume.secret;
    const s = await sources.secret(ns, secretName);
    if (!s) {
      if (optional) return out;
      throw new VolumeSetupError(`secret "${secretName}" not found`);
    }
    keyed(secretData(s), items, volume.secret.defaultMode ?? defaultMode, optional, 'secret', out);
    return out;
  }
  if (volume.downwardAPI) {
    downward(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? defaultMode, node, out);
    return out;
  }
  if (volume.projected) {
    const mode = volume.projected.defaultMode ?? defaultMode;
    for (const src of volume.projected.sources ?? []) {
      if (src.configMap) {
        const { name = '', optional = false, items } = src.configMap;
        const cm = await sources.configMap(ns, name);
        if (!cm) {
          if (optional) continue;
          throw new VolumeSetupError(`configmap "${name}" not found`);
        }
        keyed(configMapData(cm), items, mode, optional, 'configmap', out);
      } else if (src.secret) {
        const { name = '', optional = false, items } = src.secret;
        const s = await sources.secret(ns, name);
        if (!s) {
          if (optional) continue;
          throw new VolumeSetupError(`secret "${name}" not found`);
        }
        keyed(secretData(s), items, mode, optional, 'secret', out);
      } else if (src.downwardAPI) {
        downward(pod, src.downwardAPI.items ?? [], mode, node, out);
      } else if (src.serviceAccountToken) {
        if (!sources.serviceAccountToken) throw new VolumeSetupError('failed to fetch token: this kubelet cannot request service account tokens');
        let token: string;
        try {
          token = await sources.serviceAccountToken(pod, src.serviceAccountToken);
        } catch (err) {
          throw new VolumeSetupError(`failed to fetch token: ${err instanceof Error ? err.message : String(err)}`);
        }
        out.set(src.serviceAccountToken.path, { data: token, mode });
      }
      // clusterTrustBundle sources need the ClusterTrustBundle API (not served).
    }
    return out;
  }
  return undefined;
}
