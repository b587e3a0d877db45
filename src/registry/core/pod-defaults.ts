// Upstream's defaulting of pods and pod templates (pkg/apis/core/v1 defaults.go and the generated
// SetObjectDefaults_*): what the API server fills in before it validates and stores a PodSpec, whether the
// spec sits in a Pod or in the template of a workload. Pod-only rules (requests from limits,
// enableServiceLinks, host ports under hostNetwork) apply to Pods alone, as upstream applies them.
import type {
  Container,
  HTTPGetAction,
  Lifecycle,
  ObjectFieldSelector,
  PersistentVolumeClaimSpec,
  PodSpec,
  PodTemplateSpec,
  Probe,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { Milli, QuantityParseError, Quantity } from '../../api/quantity.js';
import { imageTag } from './image-tag.js';

/** Mode bits of files projected from Secrets, ConfigMaps, the downward API and projected volumes (0644). */
export const defaultVolumeFileMode = 0o644;
/** Upstream's default grace period before a pod's containers are killed. */
export const defaultTerminationGracePeriodSeconds = 30;
/** Upstream's default scheduler. */
export const defaultSchedulerName = 'default-scheduler';
/** Where a container writes its termination message by default. */
export const terminationMessagePathDefault = '/dev/termination-log';
/** Lifetime of a projected service account token when the pod names none (one hour). */
const defaultTokenExpirationSeconds = 3600;

type ResourceList = Record<string, string>;

/**
 * Rounds every quantity up to milli precision and writes it in canonical form, as decoding and
 * SetDefaults_ResourceList do ("0.5" becomes "500m", "1.0001m" becomes "2m"). A value that does not parse is
 * left for validation to report.
 */
export function defaultResourceList(list: ResourceList | undefined): void {
  if (!list) return;
  for (const [name, value] of Object.entries(list)) {
    try {
      list[name] = Quantity.fromJSON(value).roundUp(Milli).quantity.toString();
    } catch (err) {
      if (!(err instanceof QuantityParseError)) throw err;
    }
  }
}

function defaultFieldRef(ref: ObjectFieldSelector | undefined): void {
  if (ref && !ref.apiVersion) ref.apiVersion = 'v1';
}

function defaultHTTPGet(action: HTTPGetAction | undefined): void {
  if (!action) return;
  action.path ||= '/';
  action.scheme ||= 'HTTP';
}

function defaultProbe(probe: Probe | undefined): void {
  if (!probe) return;
  probe.timeoutSeconds ||= 1;
  probe.periodSeconds ||= 10;
  probe.successThreshold ||= 1;
  probe.failureThreshold ||= 3;
  defaultHTTPGet(probe.httpGet);
  // The gRPC service name defaults to "" (the server's overall health), and is written out as such.
  if (probe.grpc) probe.grpc.service ??= '';
}

function defaultLifecycle(lifecycle: Lifecycle | undefined): void {
  defaultHTTPGet(lifecycle?.postStart?.httpGet);
  defaultHTTPGet(lifecycle?.preStop?.httpGet);
}

/** SetDefaults_Container and the defaults of everything a container holds. */
export function defaultContainer(c: Container): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  c.terminationMessagePath ||= terminationMessagePathDefault;
  c.terminationMessagePolicy ||= 'File';
  for (const port of c.ports ?? []) port.protocol ||= 'TCP';
  for (const env of c.env ?? []) defaultFieldRef(env.valueFrom?.fieldRef);
  defaultResourceList(c.resources?.limits);
  defaultResourceList(c.resources?.requests);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycle(c.lifecycle);
}

/** The defaults of a PersistentVolumeClaimSpec (inline ephemeral volumes and StatefulSet claim templates). */
export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec): void {
  spec.volumeMode ??= 'Filesystem';
  defaultResourceList(spec.resources?.limits);
  defaultResourceList(spec.resources?.requests);
}

/** Volume sources with fields of their own; a volume naming none of them is an emptyDir. */
const volumeSourceFields = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
] as const;

/** SetDefaults_Volume and the defaults of each volume source. */
export function defaultVolume(v: Volume): void {
  const raw = v as unknown as Record<string, unknown>;
  if (!volumeSourceFields.some((f) => raw[f] !== undefined && raw[f] !== null)) v.emptyDir = {};
  if (v.hostPath) v.hostPath.type ??= '';
  if (v.secret) v.secret.defaultMode ??= defaultVolumeFileMode;
  if (v.configMap) v.configMap.defaultMode ??= defaultVolumeFileMode;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= defaultVolumeFileMode;
    for (const item of v.downwardAPI.items ?? []) defaultFieldRef(item.fieldRef);
  }
  if (v.projected) {
    v.projected.defaultMode ??= defaultVolumeFileMode;
    for (const src of v.projected.sources ?? []) {
      for (const item of src.downwardAPI?.items ?? []) defaultFieldRef(item.fieldRef);
      if (src.serviceAccountToken) src.serviceAccountToken.expirationSeconds ??= defaultTokenExpirationSeconds;
    }
  }
  if (v.iscsi) v.iscsi.iscsiInterface ||= 'default';
  if (v.rbd) {
    v.rbd.pool ||= 'rbd';
    v.rbd.user ||= 'admin';
    v.rbd.keyring ||= '/etc/ceph/keyring';
  }
  if (v.azureDisk) {
    v.azureDisk.cachingMode ??= 'ReadWrite';
    v.azureDisk.fsType ??= 'ext4';
    v.azureDisk.readOnly ??= false;
    v.azureDisk.kind ??= 'Shared';
  }
  if (v.scaleIO) {
    v.scaleIO.storageMode ||= 'ThinProvisioned';
    v.scaleIO.fsType ||= 'xfs';
  }
  const claim = v.ephemeral?.volumeClaimTemplate;
  if (claim) defaultPersistentVolumeClaimSpec((claim.spec ??= {}));
}

/** SetDefaults_PodSpec and the defaults of volumes and containers: what every PodSpec gets, in a Pod or not. */
export function defaultPodSpec(spec: PodSpec): void {
  spec.dnsPolicy ||= 'ClusterFirst';
  spec.restartPolicy ||= 'Always';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= defaultTerminationGracePeriodSeconds;
  spec.schedulerName ||= defaultSchedulerName;
  for (const v of spec.volumes ?? []) defaultVolume(v);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
  defaultResourceList(spec.overhead);
  const podResources = (spec as { resources?: { limits?: ResourceList; requests?: ResourceList } }).resources;
  defaultResourceList(podResources?.limits);
  defaultResourceList(podResources?.requests);
}

/** The defaults of a pod template (PodTemplate, ReplicationController, Deployment, Job, ...). */
export function defaultPodTemplateSpec(template: PodTemplateSpec | undefined): void {
  if (template) defaultPodSpec((template.spec ??= { containers: [] }));
}

function requestsFromLimits(containers: Container[] | undefined): void {
  for (const c of containers ?? []) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    const requests = (c.resources!.requests ??= {});
    for (const [name, value] of Object.entries(limits)) {
      if (!Object.hasOwn(requests, name)) requests[name] = value;
    }
  }
}

function hostPortsFromContainerPorts(containers: Container[] | undefined): void {
  for (const c of containers ?? []) {
    for (const port of c.ports ?? []) {
      if (!port.hostPort) port.hostPort = port.containerPort;
    }
  }
}

/**
 * SetDefaults_Pod then the PodSpec defaults: a container that sets limits only gets equal requests,
 * enableServiceLinks is true, and under hostNetwork each container port is also its host port.
 */
export function defaultPodSpecOfPod(spec: PodSpec): void {
  requestsFromLimits(spec.containers);
  requestsFromLimits(spec.initContainers);
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    hostPortsFromContainerPorts(spec.containers);
    hostPortsFromContainerPorts(spec.initContainers);
  }
  defaultPodSpec(spec);
}
