// PersistentVolumes (core defaulting, pkg/registry/core/persistentvolume's strategy and core validation):
// access modes, a storage capacity, exactly one volume source, and a source that never changes.
import type { PersistentVolume, PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import { goQuote } from '../../api/go-quote.js';
import {
  isDNS1123Subdomain,
  nameIsDNSSubdomain,
  validateImmutableField,
} from '../../apimachinery/validation/names.js';
import { formatTime } from '../generic/registry-store.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  byteOrder,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';
import {
  canonicalizeResourceList,
  parseQuantityField,
  validateBasicResource,
  validatePositiveQuantityValue,
} from './resource-lists.js';
import { specDiff } from './volume-diff.js';

/** Access modes, sorted as upstream lists them. */
export const supportedAccessModes: readonly string[] = [
  'ReadOnlyMany',
  'ReadWriteMany',
  'ReadWriteOnce',
  'ReadWriteOncePod',
];
/** Volume modes, sorted. */
export const supportedVolumeModes: readonly string[] = ['Block', 'Filesystem'];
const supportedReclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const supportedHostPathTypes = [
  '',
  'BlockDevice',
  'CharDevice',
  'Directory',
  'DirectoryOrCreate',
  'File',
  'FileOrCreate',
  'Socket',
];

/** The volume source fields of a PersistentVolumeSpec, in the order upstream checks them (with its paths). */
const volumeSources: readonly [key: string, path: string][] = [
  ['hostPath', 'hostPath'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['nfs', 'nfs'],
  ['rbd', 'rbd'],
  ['quobyte', 'quobyte'],
  ['cephfs', 'cephFS'],
  ['iscsi', 'iscsi'],
  ['cinder', 'cinder'],
  ['fc', 'fc'],
  ['flexVolume', 'flexVolume'],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['scaleIO', 'scaleIO'],
  ['local', 'local'],
  ['storageos', 'storageos'],
  ['csi', 'csi'],
];

// A core.ResourceList as %#v prints it; upstream shows each Quantity's struct, we show its string.
function goResourceList(list: Record<string, string> | undefined): GoValue {
  if (list === undefined) return new GoValue('core.ResourceList(nil)');
  const entries = Object.keys(list)
    .sort(byteOrder)
    .map((k) => `${goQuote(k)}:${goQuote(list[k] ?? '')}`);
  return new GoValue(`core.ResourceList{${entries.join(', ')}}`);
}

/** Access modes: at least one, each known, and ReadWriteOncePod alone. */
export function validateAccessModes(modes: readonly string[], path: Path, requiredDetail: string): ErrorList {
  const errs: ErrorList = [];
  if (modes.length === 0) errs.push(field.required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of modes) {
    if (!supportedAccessModes.includes(m)) errs.push(field.notSupported(path, m, supportedAccessModes));
    if (m === 'ReadWriteOncePod') rwop = true;
    else if (supportedAccessModes.includes(m)) other = true;
  }
  if (rwop && other) errs.push(field.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** A path with no ".." element. */
export function validatePathNoBacksteps(target: string, path: Path): ErrorList {
  return target.split('/').includes('..') ? [field.invalid(path, target, "must not contain '..'")] : [];
}

function validateSource(key: string, src: Record<string, unknown>, path: Path): ErrorList {
  const errs: ErrorList = [];
  const str = (k: string) => (typeof src[k] === 'string' ? src[k] : '');
  switch (key) {
    case 'hostPath':
      if (str('path') === '') return [field.required(path.child('path'), '')];
      errs.push(...validatePathNoBacksteps(str('path'), path.child('path')));
      if (src.type !== undefined && !supportedHostPathTypes.includes(str('type'))) {
        errs.push(field.notSupported(path.child('type'), src.type, supportedHostPathTypes));
      }
      break;
    case 'local':
      if (str('path') === '') errs.push(field.required(path.child('path'), ''));
      errs.push(...validatePathNoBacksteps(str('path'), path.child('path')));
      break;
    case 'nfs':
      if (str('server') === '') errs.push(field.required(path.child('server'), ''));
      if (str('path') === '') errs.push(field.required(path.child('path'), ''));
      else if (!str('path').startsWith('/'))
        errs.push(field.invalid(path.child('path'), str('path'), 'must be an absolute path'));
      break;
    case 'csi': {
      const driver = str('driver');
      if (driver === '') errs.push(field.required(path.child('driver'), ''));
      if (driver.length > 63) errs.push(field.tooLong(path.child('driver'), '', 63));
      for (const msg of isDNS1123Subdomain(driver.toLowerCase()))
        errs.push(field.invalid(path.child('driver'), driver, msg));
      if (str('volumeHandle') === '') errs.push(field.required(path.child('volumeHandle'), ''));
      break;
    }
    default:
      break;
  }
  return errs;
}

function validatePVSpec(spec: PersistentVolumeSpec): ErrorList {
  const path = newPath('spec');
  const errs = validateAccessModes(spec.accessModes ?? [], path.child('accessModes'), '');
  const capacity = spec.capacity ?? {};
  const capKeys = Object.keys(capacity).sort(byteOrder);
  if (capKeys.length === 0) errs.push(field.required(path.child('capacity'), ''));
  if (!Object.hasOwn(capacity, 'storage') || capKeys.length > 1) {
    errs.push(field.notSupported(path.child('capacity'), goResourceList(spec.capacity), ['storage']));
  }
  for (const k of capKeys) {
    const p = path.child('capacity').key(k);
    const { quantity, errs: parseErrs } = parseQuantityField(capacity[k], p);
    errs.push(...parseErrs);
    if (quantity !== undefined)
      errs.push(...validateBasicResource(quantity, p), ...validatePositiveQuantityValue(quantity, p));
  }
  const policy = spec.persistentVolumeReclaimPolicy ?? '';
  if (policy !== '' && !supportedReclaimPolicies.includes(policy)) {
    errs.push(
      field.notSupported(path.child('persistentVolumeReclaimPolicy'), policy, supportedReclaimPolicies),
    );
  }
  let hasNodeAffinity = false;
  if (spec.nodeAffinity !== undefined) {
    hasNodeAffinity = true;
    const required = spec.nodeAffinity.required;
    if (required === undefined) {
      errs.push(
        field.required(path.child('nodeAffinity', 'required'), 'must specify required node constraints'),
      );
    } else if ((required.nodeSelectorTerms ?? []).length === 0) {
      errs.push(
        field.required(
          path.child('nodeAffinity', 'required', 'nodeSelectorTerms'),
          'must have at least one node selector term',
        ),
      );
    }
  }
  let count = 0;
  const record = spec as unknown as Record<string, unknown>;
  for (const [key, name] of volumeSources) {
    const src = record[key];
    if (src === undefined || src === null) continue;
    // flexVolume is counted but never refused as a second source, as upstream does.
    if (count > 0 && key !== 'flexVolume') {
      errs.push(field.forbidden(path.child(name), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    errs.push(...validateSource(key, src as Record<string, unknown>, path.child(name)));
    if (key === 'local' && !hasNodeAffinity)
      errs.push(field.required(path.child('nodeAffinity'), 'Local volume requires node affinity'));
  }
  if (count === 0) errs.push(field.required(path, 'must specify a volume type'));
  const hostPath = spec.hostPath?.path;
  if (
    hostPath !== undefined &&
    hostPath.replace(/\/+$/, '') === '' &&
    hostPath.startsWith('/') &&
    policy === 'Recycle'
  ) {
    errs.push(
      field.forbidden(
        path.child('persistentVolumeReclaimPolicy'),
        "may not be 'recycle' for a hostPath mount of '/'",
      ),
    );
  }
  if (spec.storageClassName) {
    for (const msg of nameIsDNSSubdomain(spec.storageClassName, false))
      errs.push(field.invalid(path.child('storageClassName'), spec.storageClassName, msg));
  }
  if (spec.volumeMode !== undefined && !supportedVolumeModes.includes(spec.volumeMode)) {
    errs.push(field.notSupported(path.child('volumeMode'), spec.volumeMode, supportedVolumeModes));
  }
  return errs;
}

function sourceOf(spec: PersistentVolumeSpec): Record<string, unknown> {
  const record = spec as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key] of volumeSources) if (record[key] !== undefined) out[key] = record[key];
  return out;
}

/** The strategy of core/v1 persistentvolumes, with the clock that stamps phase transitions. */
export function createPersistentVolumeStrategy(now: () => Date = () => new Date()): ResourceStrategy {
  return {
    ...baseStrategy('', 'v1', 'persistentvolumes'),
    defaults(obj) {
      const pv = typed<PersistentVolume>(obj);
      const spec = (pv.spec ??= {});
      if (!spec.persistentVolumeReclaimPolicy) spec.persistentVolumeReclaimPolicy = 'Retain';
      if (spec.volumeMode === undefined) spec.volumeMode = 'Filesystem';
      if (spec.hostPath !== undefined && spec.hostPath.type === undefined) spec.hostPath.type = '';
      canonicalizeResourceList(spec.capacity);
      const status = obj.status as { phase?: string } | undefined;
      if (status !== undefined && !status.phase) status.phase = 'Pending';
    },
    prepareForCreate(obj: KObject) {
      obj.status = { phase: 'Pending', lastPhaseTransitionTime: formatTime(now()) };
    },
    validate(obj) {
      return [
        ...validateCoreObjectMeta(obj, false, nameIsDNSSubdomain),
        ...validatePVSpec(typed<PersistentVolume>(obj).spec ?? {}),
      ];
    },
    validateUpdate(obj, old) {
      const spec = typed<PersistentVolume>(obj).spec ?? {};
      const prev = typed<PersistentVolume>(old).spec ?? {};
      const errs = [
        ...validateCoreObjectMetaUpdate(obj, old),
        ...validateCoreObjectMeta(obj, false, nameIsDNSSubdomain),
        ...validatePVSpec(spec),
      ];
      const before = sourceOf(prev);
      const after = sourceOf(spec);
      // A controllerExpandSecretRef may be added to a CSI source that had none.
      const csiBefore = before.csi as Record<string, unknown> | undefined;
      const csiAfter = after.csi as Record<string, unknown> | undefined;
      if (
        csiBefore !== undefined &&
        csiAfter !== undefined &&
        csiBefore.controllerExpandSecretRef === undefined
      ) {
        after.csi = { ...csiAfter };
        delete (after.csi as Record<string, unknown>).controllerExpandSecretRef;
      }
      if (!semanticEqual(before, after)) {
        errs.push(
          field.forbidden(
            newPath('spec', 'persistentvolumesource'),
            'spec.persistentvolumesource is immutable after creation\n' +
              specDiff('core.PersistentVolumeSource', before, after),
          ),
        );
      }
      // Upstream names this path without "spec.".
      errs.push(
        ...validateImmutableField(spec.volumeMode ?? null, prev.volumeMode ?? null, newPath('volumeMode')),
      );
      if (prev.nodeAffinity !== undefined && !semanticEqual(spec.nodeAffinity, prev.nodeAffinity)) {
        errs.push(
          field.invalid(
            newPath('nodeAffinity'),
            spec.nodeAffinity ?? null,
            'field is immutable, except for updating from beta label to GA',
          ),
        );
      }
      return errs;
    },
  };
}

/** The strategy of core/v1 persistentvolumes on the wall clock. */
export const persistentVolumeStrategy: ResourceStrategy = createPersistentVolumeStrategy();
