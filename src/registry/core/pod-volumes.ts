// Validation of a pod's volumes (upstream's ValidateVolumes and the per-source checks of
// pkg/apis/core/validation), and of the downward API selectors that volumes and env vars share. The common
// sources are checked in full; the legacy in-tree cloud sources only for their required fields.
import type {
  DownwardAPIVolumeFile,
  KeyToPath,
  ObjectFieldSelector,
  ProjectedVolumeSource,
  ResourceFieldSelector,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { goQuote } from '../../api/go-quote.js';
import { Quantity, QuantityParseError } from '../../api/quantity.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field } from '../../apimachinery/validation/field-errors.js';
import {
  inclusiveRangeError,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
} from '../../apimachinery/validation/names.js';

const fileModeErrorMsg = 'must be a number between 0 and 0777 (octal), both inclusive';
const maxFileMode = 0o777;

/** Checks that a path is relative and has no '..' element. */
export function validateLocalDescendingPath(target: string, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (target.startsWith('/')) errs.push(field.invalid(path, target, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(target, path));
  return errs;
}

/** Checks that a path has no '..' element (one error however many there are). */
export function validatePathNoBacksteps(target: string, path: Path): ErrorList {
  return target.split('/').includes('..') ? [field.invalid(path, target, "must not contain '..'")] : [];
}

/** A relative path without '..' elements that does not start with '..'. */
export function validateLocalNonReservedPath(target: string, path: Path): ErrorList {
  const errs = validateLocalDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(field.invalid(path, target, "must not start with '..'"));
  return errs;
}

function validateFileMode(mode: number | undefined, path: Path): ErrorList {
  return mode !== undefined && mode !== null && (mode > maxFileMode || mode < 0) ? [field.invalid(path, mode, fileModeErrorMsg)] : [];
}

function validateKeyToPath(kp: KeyToPath, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (!kp.key) errs.push(field.required(path.child('key'), ''));
  if (!kp.path) errs.push(field.required(path.child('path'), ''));
  errs.push(...validateLocalNonReservedPath(kp.path ?? '', path.child('path')));
  errs.push(...validateFileMode(kp.mode, path.child('mode')));
  return errs;
}

/** The downward API field paths a pod's env vars can read. */
export const envDownwardAPIFieldPaths: readonly string[] = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

const volumeDownwardAPIFieldPaths: readonly string[] = [
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
];

const convertibleFieldLabels = new Set([
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.restartPolicy',
  'spec.serviceAccountName',
  'spec.schedulerName',
  'status.phase',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);

/** "metadata.labels['app']" split into its path and subscript. */
function splitSubscriptedPath(fieldPath: string): { path: string; subscript: string } | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return undefined;
  return { path: s.slice(0, at), subscript: s.slice(at + 2) };
}

/** Upstream's ConvertDownwardAPIFieldLabel: the internal field path, or the conversion error. */
function convertFieldLabel(version: string, label: string): { path: string } | { error: string } {
  if (version !== 'v1') return { error: `unsupported pod version: ${version}` };
  const sub = splitSubscriptedPath(label);
  if (sub) {
    if (sub.path === 'metadata.annotations' || sub.path === 'metadata.labels') return { path: label };
    return { error: `field label does not support subscript: ${label}` };
  }
  if (convertibleFieldLabels.has(label)) return { path: label };
  if (label === 'spec.host') return { path: 'spec.nodeName' };
  return { error: `field label not supported: ${label}` };
}

/** A downward API fieldRef: apiVersion and fieldPath given, and the path one of `allowed`. */
export function validateObjectFieldSelector(fs: ObjectFieldSelector, allowed: readonly string[], path: Path): ErrorList {
  if (!fs.apiVersion) return [field.required(path.child('apiVersion'), '')];
  if (!fs.fieldPath) return [field.required(path.child('fieldPath'), '')];
  const converted = convertFieldLabel(fs.apiVersion, fs.fieldPath);
  if ('error' in converted) {
    return [field.invalid(path.child('fieldPath'), fs.fieldPath, `error converting fieldPath: ${converted.error}`)];
  }
  const sub = splitSubscriptedPath(converted.path);
  if (sub) {
    if (sub.path === 'metadata.annotations') {
      return isQualifiedName(sub.subscript.toLowerCase()).map((m) => field.invalid(path, sub.subscript.toLowerCase(), m));
    }
    if (sub.path === 'metadata.labels') return isQualifiedName(sub.subscript).map((m) => field.invalid(path, sub.subscript, m));
    return [field.invalid(path, sub.path, 'does not support subscript')];
  }
  if (!allowed.includes(converted.path)) return [field.notSupported(path.child('fieldPath'), converted.path, allowed)];
  return [];
}

const containerResourceFieldPaths: readonly string[] = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
];
const hugePagesFieldPrefixes = ['limits.hugepages-', 'requests.hugepages-'];
const byteDivisors = new Set(['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei']);
const byteDivisorList = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';

function validateContainerResourceDivisor(resource: string, divisor: unknown, path: Path): ErrorList {
  if (divisor === undefined || divisor === null) return [];
  let text: string;
  try {
    const q = Quantity.fromJSON(divisor);
    if (q.isZero()) return [];
    text = q.toString();
  } catch (err) {
    if (err instanceof QuantityParseError) return [field.invalid(path.child('divisor'), typeof divisor === 'string' ? divisor : JSON.stringify(divisor), err.message)];
    throw err;
  }
  const bad = (msg: string) => [field.invalid(path.child('divisor'), resource, msg)];
  switch (resource) {
    case 'limits.cpu':
    case 'requests.cpu':
      if (text !== '1m' && text !== '1') return bad("only divisor's values 1m and 1 are supported with the cpu resource");
      break;
    case 'limits.memory':
    case 'requests.memory':
      if (!byteDivisors.has(text)) return bad(`only divisor's values ${byteDivisorList} are supported with the memory resource`);
      break;
    case 'limits.ephemeral-storage':
    case 'requests.ephemeral-storage':
      if (!byteDivisors.has(text)) {
        return bad(`only divisor's values ${byteDivisorList} are supported with the local ephemeral storage resource`);
      }
      break;
  }
  if (hugePagesFieldPrefixes.some((p) => resource.startsWith(p)) && !byteDivisors.has(text)) {
    return bad(`only divisor's values ${byteDivisorList} are supported with the hugepages resource`);
  }
  return [];
}

/** A downward API resourceFieldRef; in a volume the container name is required. */
export function validateContainerResourceFieldSelector(fs: ResourceFieldSelector, path: Path, inVolume: boolean): ErrorList {
  const errs: ErrorList = [];
  if (inVolume && !fs.containerName) errs.push(field.required(path.child('containerName'), ''));
  else if (!fs.resource) errs.push(field.required(path.child('resource'), ''));
  else if (!containerResourceFieldPaths.includes(fs.resource) && !hugePagesFieldPrefixes.some((p) => fs.resource.startsWith(p))) {
    errs.push(field.notSupported(path.child('resource'), fs.resource, containerResourceFieldPaths));
  }
  errs.push(...validateContainerResourceDivisor(fs.resource ?? '', fs.divisor, path));
  return errs;
}

function validateDownwardAPIVolumeFile(file: DownwardAPIVolumeFile, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (!file.path) errs.push(field.required(path.child('path'), ''));
  errs.push(...validateLocalNonReservedPath(file.path ?? '', path.child('path')));
  if (file.fieldRef) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, volumeDownwardAPIFieldPaths, path.child('fieldRef')));
    if (file.resourceFieldRef) {
      errs.push(field.invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
    }
  } else if (file.resourceFieldRef) {
    errs.push(...validateContainerResourceFieldSelector(file.resourceFieldRef, path.child('resourceFieldRef'), true));
  } else {
    errs.push(field.required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateFileMode(file.mode, path.child('mode')));
  return errs;
}

function validateProjectedSources(projection: ProjectedVolumeSource, path: Path): ErrorList {
  const errs: ErrorList = [];
  const allPaths = new Set<string>();
  const claimPath = (p: string, name: unknown) => {
    if (allPaths.has(p)) errs.push(field.invalid(path, name, 'conflicting duplicate paths'));
    else allPaths.add(p);
  };
  (projection.sources ?? []).forEach((source, i) => {
    let numSources = 0;
    const srcPath = path.child('sources').index(i);
    if (source.secret) {
      numSources++;
      const p = srcPath.child('secret');
      if (!source.secret.name) errs.push(field.required(p.child('name'), ''));
      (source.secret.items ?? []).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, p.child('items').index(j)));
        if (kp.path) claimPath(kp.path, source.secret!.name ?? '');
      });
    }
    if (source.configMap) {
      numSources++;
      const p = srcPath.child('configMap');
      if (!source.configMap.name) errs.push(field.required(p.child('name'), ''));
      (source.configMap.items ?? []).forEach((kp, j) => {
        errs.push(...validateKeyToPath(kp, p.child('items').index(j)));
        if (kp.path) claimPath(kp.path, source.configMap!.name ?? '');
      });
    }
    if (source.downwardAPI) {
      numSources++;
      const p = srcPath.child('downwardAPI');
      for (const file of source.downwardAPI.items ?? []) {
        errs.push(...validateDownwardAPIVolumeFile(file, p));
        if (file.path) claimPath(file.path, file.path);
      }
    }
    if (source.serviceAccountToken) {
      numSources++;
      const token = source.serviceAccountToken;
      const p = srcPath.child('serviceAccountToken');
      const expiration = token.expirationSeconds ?? 0;
      if (expiration < 600) {
        errs.push(field.invalid(p.child('expirationSeconds'), expiration, 'may not specify a duration less than 10 minutes'));
      }
      if (expiration > 2 ** 32) {
        errs.push(field.invalid(p.child('expirationSeconds'), expiration, 'may not specify a duration larger than 2^32 seconds'));
      }
      if (!token.path) errs.push(field.required(path.child('path'), ''));
      else errs.push(...validateLocalNonReservedPath(token.path, path.child('path')));
    }
    const bundle = (source as { clusterTrustBundle?: { name?: string; signerName?: string; path?: string } }).clusterTrustBundle;
    if (bundle) {
      numSources++;
      const p = srcPath.child('clusterTrustBundlePEM');
      if (bundle.name === undefined && bundle.signerName === undefined) {
        errs.push(field.required(p, 'either name or signerName must be specified'));
      }
      if (!bundle.path) errs.push(field.required(p.child('path'), ''));
      errs.push(...validateLocalNonReservedPath(bundle.path ?? '', p.child('path')));
      claimPath(bundle.path ?? '', bundle.path ?? '');
    }
    if (numSources > 1) errs.push(field.forbidden(srcPath, 'may not specify more than 1 volume type'));
  });
  return errs;
}

const hostPathTypes = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** Required fields of the legacy in-tree sources, by source and as upstream names their paths. */
const legacyRequired: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  gcePersistentDisk: [['pdName', 'pdName']],
  awsElasticBlockStore: [['volumeID', 'volumeID']],
  glusterfs: [
    ['endpoints', 'endpoints'],
    ['path', 'path'],
  ],
  rbd: [
    ['monitors', 'monitors'],
    ['image', 'image'],
  ],
  cinder: [['volumeID', 'volumeID']],
  cephfs: [['monitors', 'monitors']],
  flexVolume: [['driver', 'driver']],
  azureFile: [
    ['secretName', 'secretName'],
    ['shareName', 'shareName'],
  ],
  vsphereVolume: [['volumePath', 'volumePath']],
  photonPersistentDisk: [['pdID', 'pdID']],
  portworxVolume: [['volumeID', 'volumeID']],
  azureDisk: [
    ['diskName', 'diskName'],
    ['diskURI', 'diskURI'],
  ],
  quobyte: [
    ['registry', 'registry'],
    ['volume', 'volume'],
  ],
  iscsi: [
    ['targetPortal', 'targetPortal'],
    ['iqn', 'iqn'],
  ],
  scaleIO: [
    ['gateway', 'gateway'],
    ['system', 'system'],
  ],
  csi: [['driver', 'driver']],
};

/**
 * The volume sources in the order upstream checks them, with the name its "more than 1 volume type" error
 * uses (upstream's spellings, "cephFS" and "downwarAPI" included) and the path of the source's own errors.
 */
const sourceOrder: readonly (readonly [json: string, forbiddenName: string, errorPath: string])[] = [
  ['emptyDir', 'emptyDir', 'emptyDir'],
  ['hostPath', 'hostPath', 'hostPath'],
  ['gitRepo', 'gitRepo', 'gitRepo'],
  ['gcePersistentDisk', 'gcePersistentDisk', 'persistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore', 'awsElasticBlockStore'],
  ['secret', 'secret', 'secret'],
  ['nfs', 'nfs', 'nfs'],
  ['iscsi', 'iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs', 'glusterfs'],
  ['flocker', 'flocker', 'flocker'],
  ['persistentVolumeClaim', 'persistentVolumeClaim', 'persistentVolumeClaim'],
  ['rbd', 'rbd', 'rbd'],
  ['cinder', 'cinder', 'cinder'],
  ['cephfs', 'cephFS', 'cephfs'],
  ['quobyte', 'quobyte', 'quobyte'],
  ['downwardAPI', 'downwarAPI', 'downwardAPI'],
  ['fc', 'fc', 'fc'],
  ['flexVolume', 'flexVolume', 'flexVolume'],
  ['configMap', 'configMap', 'configMap'],
  ['azureFile', 'azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk', 'azureDisk'],
  ['storageos', 'storageos', 'storageos'],
  ['projected', 'projected', 'projected'],
  ['scaleIO', 'scaleIO', 'scaleIO'],
  ['csi', 'csi', 'csi'],
  ['ephemeral', 'ephemeral', 'ephemeral'],
];

function validateSource(v: Volume, json: string, path: Path, podName: string | undefined): ErrorList {
  const errs: ErrorList = [];
  switch (json) {
    case 'emptyDir': {
      const limit = v.emptyDir?.sizeLimit;
      if (limit !== undefined && limit !== null) {
        let negative = false;
        try {
          negative = Quantity.fromJSON(limit).sign() < 0;
        } catch (err) {
          if (!(err instanceof QuantityParseError)) throw err;
        }
        if (negative) errs.push(field.forbidden(path.child('sizeLimit'), 'SizeLimit field must be a valid resource quantity'));
      }
      return errs;
    }
    case 'hostPath': {
      const hp = v.hostPath!;
      if (!hp.path) return [field.required(path.child('path'), '')];
      errs.push(...validatePathNoBacksteps(hp.path, path.child('path')));
      if (hp.type !== undefined && hp.type !== null && !hostPathTypes.includes(hp.type)) {
        errs.push(field.notSupported(path.child('type'), hp.type, hostPathTypes));
      }
      return errs;
    }
    case 'gitRepo':
      if (!v.gitRepo!.repository) errs.push(field.required(path.child('repository'), ''));
      errs.push(...validateLocalDescendingPath(v.gitRepo!.directory ?? '', path.child('directory')));
      return errs;
    case 'secret': {
      const s = v.secret!;
      if (!s.secretName) errs.push(field.required(path.child('secretName'), ''));
      errs.push(...validateFileMode(s.defaultMode, path.child('defaultMode')));
      (s.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      return errs;
    }
    case 'configMap': {
      const c = v.configMap!;
      if (!c.name) errs.push(field.required(path.child('name'), ''));
      errs.push(...validateFileMode(c.defaultMode, path.child('defaultMode')));
      (c.items ?? []).forEach((kp, i) => errs.push(...validateKeyToPath(kp, path.child('items').index(i))));
      return errs;
    }
    case 'nfs': {
      const nfs = v.nfs!;
      if (!nfs.server) errs.push(field.required(path.child('server'), ''));
      if (!nfs.path) errs.push(field.required(path.child('path'), ''));
      if (!(nfs.path ?? '').startsWith('/')) errs.push(field.invalid(path.child('path'), nfs.path ?? '', 'must be an absolute path'));
      return errs;
    }
    case 'persistentVolumeClaim':
      if (!v.persistentVolumeClaim!.claimName) errs.push(field.required(path.child('claimName'), ''));
      return errs;
    case 'downwardAPI':
      errs.push(...validateFileMode(v.downwardAPI!.defaultMode, path.child('defaultMode')));
      for (const file of v.downwardAPI!.items ?? []) errs.push(...validateDownwardAPIVolumeFile(file, path));
      return errs;
    case 'projected':
      errs.push(...validateFileMode(v.projected!.defaultMode, path.child('defaultMode')));
      errs.push(...validateProjectedSources(v.projected!, path));
      return errs;
    case 'flocker': {
      const f = v.flocker!;
      if (!f.datasetName && !f.datasetUUID) errs.push(field.required(path, 'one of datasetName and datasetUUID is required'));
      if (f.datasetName && f.datasetUUID) {
        errs.push(field.invalid(path, 'resource', 'datasetName and datasetUUID can not be specified simultaneously'));
      }
      if ((f.datasetName ?? '').includes('/')) errs.push(field.invalid(path.child('datasetName'), f.datasetName, "must not contain '/'"));
      return errs;
    }
    case 'fc': {
      const fc = v.fc!;
      const wwns = fc.targetWWNs ?? [];
      const wwids = fc.wwids ?? [];
      if (wwns.length < 1 && wwids.length < 1) {
        errs.push(field.required(path.child('targetWWNs'), 'must specify either targetWWNs or wwids, but not both'));
      }
      if (wwns.length !== 0 && wwids.length !== 0) {
        errs.push(field.invalid(path.child('targetWWNs'), wwns, 'targetWWNs and wwids can not be specified simultaneously'));
      }
      if (wwns.length !== 0) {
        if (fc.lun === undefined || fc.lun === null) errs.push(field.required(path.child('lun'), 'lun is required if targetWWNs is specified'));
        else if (fc.lun < 0 || fc.lun > 255) errs.push(field.invalid(path.child('lun'), fc.lun, inclusiveRangeError(0, 255)));
      }
      return errs;
    }
    case 'ephemeral': {
      const claim = v.ephemeral!.volumeClaimTemplate;
      if (!claim) return [field.required(path.child('volumeClaimTemplate'), '')];
      if (podName && v.name) {
        const pvcName = `${podName}-${v.name}`;
        for (const msg of isDNS1123Subdomain(pvcName)) {
          errs.push(field.invalid(path.child('name'), v.name, `PVC name ${goQuote(pvcName)}: ${msg}`));
        }
      }
      return errs;
    }
  }
  const source = (v as unknown as Record<string, Record<string, unknown> | undefined>)[json] ?? {};
  for (const [key, name] of legacyRequired[json] ?? []) {
    const value = source[key];
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
      errs.push(field.required(path.child(name), ''));
    }
  }
  if (json === 'gcePersistentDisk' || json === 'awsElasticBlockStore') {
    const partition = (source.partition as number | undefined) ?? 0;
    if (partition < 0 || partition > 255) errs.push(field.invalid(path.child('partition'), partition, inclusiveRangeError(1, 255)));
  }
  if (json === 'iscsi') {
    const lun = (source.lun as number | undefined) ?? 0;
    if (lun < 0 || lun > 255) errs.push(field.invalid(path.child('lun'), lun, inclusiveRangeError(0, 255)));
  }
  return errs;
}

function validateVolumeSource(v: Volume, path: Path, podName: string | undefined): ErrorList {
  const errs: ErrorList = [];
  const raw = v as unknown as Record<string, unknown>;
  let numVolumes = 0;
  for (const [json, forbiddenName, errorPath] of sourceOrder) {
    if (raw[json] === undefined || raw[json] === null) continue;
    if (numVolumes > 0) {
      errs.push(field.forbidden(path.child(forbiddenName), 'may not specify more than 1 volume type'));
      continue;
    }
    numVolumes++;
    errs.push(...validateSource(v, json, path.child(errorPath), podName));
  }
  if (numVolumes === 0) errs.push(field.required(path, 'must specify a volume type'));
  return errs;
}

/**
 * A pod's volumes: each a valid source under a unique DNS label name. Returns the volumes that passed, by
 * name, for the containers' mounts to refer to. `podName` (Pods only) checks generated ephemeral claim names.
 */
export function validateVolumes(
  volumes: readonly Volume[] | undefined,
  podName: string | undefined,
  path: Path,
): { volumes: Map<string, Volume>; errs: ErrorList } {
  const errs: ErrorList = [];
  const valid = new Map<string, Volume>();
  const createdClaims = new Set<string>();
  if (podName) for (const v of volumes ?? []) if (v.ephemeral) createdClaims.add(`${podName}-${v.name}`);
  (volumes ?? []).forEach((v, i) => {
    const idxPath = path.index(i);
    const namePath = idxPath.child('name');
    const el = validateVolumeSource(v, idxPath, podName);
    if (!v.name) el.push(field.required(namePath, ''));
    else el.push(...isDNS1123Label(v.name).map((m) => field.invalid(namePath, v.name, m)));
    if (valid.has(v.name ?? '')) el.push(field.duplicate(namePath, v.name));
    if (el.length === 0) valid.set(v.name, v);
    else errs.push(...el);
    const claimName = v.persistentVolumeClaim?.claimName;
    if (claimName && createdClaims.has(claimName)) {
      errs.push(
        field.invalid(
          idxPath.child('persistentVolumeClaim', 'claimName'),
          claimName,
          'must not reference a PVC that gets created for an ephemeral volume',
        ),
      );
    }
  });
  return { volumes: valid, errs };
}
