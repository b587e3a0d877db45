// PersistentVolumeClaims (core defaulting, pkg/registry/core/persistentvolumeclaim's strategy and core
// validation): access modes and a storage request are required, and once created the spec stays as it is,
// except the volume name set once by binding and the storage request of a bound claim, which may grow.
import type {
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  TypedObjectReference,
} from 'kubernetes-types/core/v1.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isDNS1123Subdomain,
  nameIsDNSSubdomain,
  validateImmutableField,
  validateLabelSelector,
  validateNamespaceName,
} from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';
import { supportedVolumeModes, validateAccessModes } from './persistentvolumes.js';
import {
  canonicalizeResourceList,
  parseQuantityField,
  validatePositiveQuantityValue,
  validateResourceQuantityValue,
} from './resource-lists.js';
import { specDiff } from './volume-diff.js';

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

function validateDataSource(ref: TypedObjectReference, path: Path, isRef: boolean): ErrorList {
  const errs: ErrorList = [];
  if (!ref.name) errs.push(field.required(path.child('name'), ''));
  if (!ref.kind) errs.push(field.required(path.child('kind'), ''));
  const group = ref.apiGroup ?? '';
  if (group === '' && ref.kind !== 'PersistentVolumeClaim') {
    errs.push(
      field.invalid(
        path,
        ref.kind ?? '',
        "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
      ),
    );
  }
  if (group !== '')
    for (const msg of isDNS1123Subdomain(group)) errs.push(field.invalid(path.child('apiGroup'), group, msg));
  if (isRef && ref.namespace) {
    for (const msg of validateNamespaceName(ref.namespace, false))
      errs.push(field.invalid(path.child('namespace'), ref.namespace, msg));
  }
  return errs;
}

/** upstream's ValidatePersistentVolumeClaimSpec. */
export function validatePersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec, path: Path): ErrorList {
  const errs = validateAccessModes(
    spec.accessModes ?? [],
    path.child('accessModes'),
    'at least 1 access mode is required',
  );
  if (spec.selector !== undefined)
    errs.push(...validateLabelSelector(spec.selector, {}, path.child('selector')));
  // Upstream puts the storage request at resources[storage], without "requests".
  const storagePath = path.child('resources').key('storage');
  const requests = spec.resources?.requests ?? {};
  if (!Object.hasOwn(requests, 'storage')) {
    errs.push(field.required(storagePath, ''));
  } else {
    const { quantity, errs: parseErrs } = parseQuantityField(requests.storage, storagePath);
    errs.push(...parseErrs);
    if (quantity !== undefined) {
      const positive = validatePositiveQuantityValue(quantity, storagePath);
      errs.push(
        ...(positive.length > 0 ? positive : validateResourceQuantityValue('storage', quantity, storagePath)),
      );
    }
  }
  if (spec.storageClassName) {
    for (const msg of nameIsDNSSubdomain(spec.storageClassName, false))
      errs.push(field.invalid(path.child('storageClassName'), spec.storageClassName, msg));
  }
  if (spec.volumeMode !== undefined && !supportedVolumeModes.includes(spec.volumeMode)) {
    errs.push(field.notSupported(path.child('volumeMode'), spec.volumeMode, supportedVolumeModes));
  }
  if (spec.dataSource !== undefined)
    errs.push(...validateDataSource(spec.dataSource, path.child('dataSource'), false));
  if (spec.dataSourceRef !== undefined)
    errs.push(...validateDataSource(spec.dataSourceRef, path.child('dataSourceRef'), true));
  if (spec.dataSourceRef?.namespace) {
    if (spec.dataSource !== undefined) {
      errs.push(
        field.invalid(
          path,
          path.child('dataSource').toString(),
          'may not be specified when dataSourceRef.namespace is specified',
        ),
      );
    }
  } else if (spec.dataSource !== undefined && spec.dataSourceRef !== undefined) {
    const a = spec.dataSource;
    const b = spec.dataSourceRef;
    if ((a.apiGroup ?? null) !== (b.apiGroup ?? null) || a.kind !== b.kind || a.name !== b.name) {
      errs.push(field.invalid(path, path.child('dataSource').toString(), 'must match dataSourceRef'));
    }
  }
  if (spec.volumeAttributesClassName) {
    for (const msg of nameIsDNSSubdomain(spec.volumeAttributesClassName, false)) {
      errs.push(field.invalid(path.child('volumeAttributesClassName'), spec.volumeAttributesClassName, msg));
    }
  }
  return errs;
}

function validateClaim(obj: KObject): ErrorList {
  return [
    ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
    ...validatePersistentVolumeClaimSpec(typed<PersistentVolumeClaim>(obj).spec ?? {}, newPath('spec')),
  ];
}

function storageOf(
  spec: PersistentVolumeClaimSpec | undefined,
): ReturnType<typeof parseQuantityField>['quantity'] {
  const v = spec?.resources?.requests?.storage;
  return v === undefined ? undefined : parseQuantityField(v, newPath('spec')).quantity;
}

function validateClaimUpdate(obj: KObject, old: KObject): ErrorList {
  const pvc = typed<PersistentVolumeClaim>(obj);
  const prev = typed<PersistentVolumeClaim>(old);
  const errs = [...validateCoreObjectMetaUpdate(obj, old), ...validateClaim(obj)];
  const spec = structuredClone(pvc.spec ?? {});
  const oldSpec = structuredClone(prev.spec ?? {});
  // Binding sets volumeName once.
  if (!oldSpec.volumeName) {
    if (spec.volumeName === undefined) delete oldSpec.volumeName;
    else oldSpec.volumeName = spec.volumeName;
  }
  const oldAnnotation = prev.metadata?.annotations?.[betaStorageClassAnnotation];
  const newAnnotation = pvc.metadata?.annotations?.[betaStorageClassAnnotation];
  const upgradeFromAnnotation =
    oldAnnotation !== undefined &&
    oldSpec.storageClassName === undefined &&
    spec.storageClassName !== undefined &&
    spec.storageClassName === oldAnnotation &&
    (newAnnotation === undefined || newAnnotation === oldAnnotation);
  if (upgradeFromAnnotation) {
    delete spec.storageClassName;
  } else {
    errs.push(
      ...validateImmutableField(
        newAnnotation ?? '',
        oldAnnotation ?? '',
        newPath('metadata', 'annotations', betaStorageClassAnnotation),
      ),
    );
    // A class may be set on a claim that had none (and no annotation naming another).
    if (
      spec.storageClassName !== undefined &&
      oldSpec.storageClassName === undefined &&
      (oldAnnotation === undefined || oldAnnotation === spec.storageClassName)
    ) {
      delete spec.storageClassName;
    }
  }
  const bound = pvc.status?.phase === 'Bound';
  if (bound && spec.resources?.requests !== undefined) {
    const oldStorage = oldSpec.resources?.requests?.storage;
    if (oldStorage === undefined) delete spec.resources.requests.storage;
    else spec.resources.requests.storage = oldStorage;
  }
  if (bound && spec.volumeAttributesClassName !== undefined) {
    if (oldSpec.volumeAttributesClassName === undefined) delete spec.volumeAttributesClassName;
    else spec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }
  if (!semanticEqual(spec, oldSpec)) {
    errs.push(
      field.forbidden(
        newPath('spec'),
        'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n' +
          specDiff(
            'core.PersistentVolumeClaimSpec',
            oldSpec as Record<string, unknown>,
            spec as Record<string, unknown>,
          ),
      ),
    );
  }
  const newSize = storageOf(pvc.spec);
  const oldSize = storageOf(prev.spec);
  if (newSize !== undefined && oldSize !== undefined && newSize.cmp(oldSize) < 0) {
    // Shrinking is allowed only back towards a capacity an expansion failed to reach.
    const statusCapacity = prev.status?.capacity?.storage;
    const statusSize =
      statusCapacity === undefined
        ? undefined
        : parseQuantityField(statusCapacity, newPath('status')).quantity;
    if (statusSize === undefined ? newSize.sign() <= 0 : newSize.cmp(statusSize) <= 0) {
      errs.push(
        field.forbidden(
          newPath('spec', 'resources', 'requests', 'storage'),
          'field can not be less than status.capacity',
        ),
      );
    }
  }
  // Upstream names this path without "spec.".
  errs.push(
    ...validateImmutableField(
      pvc.spec?.volumeMode ?? null,
      prev.spec?.volumeMode ?? null,
      newPath('volumeMode'),
    ),
  );
  if (
    prev.spec?.volumeAttributesClassName !== undefined &&
    pvc.spec?.volumeAttributesClassName !== prev.spec.volumeAttributesClassName
  ) {
    if (pvc.spec?.volumeAttributesClassName === undefined) {
      errs.push(
        field.forbidden(
          newPath('spec', 'volumeAttributesClassName'),
          'update from non-nil value to nil is forbidden',
        ),
      );
    } else if (pvc.spec.volumeAttributesClassName === '') {
      errs.push(
        field.forbidden(
          newPath('spec', 'volumeAttributesClassName'),
          'update from non-nil value to an empty string is forbidden',
        ),
      );
    }
  }
  return errs;
}

/** The strategy of core/v1 persistentvolumeclaims. */
export const persistentVolumeClaimStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'persistentvolumeclaims'),
  defaults(obj) {
    const pvc = typed<PersistentVolumeClaim>(obj);
    const spec = (pvc.spec ??= {});
    if (spec.volumeMode === undefined) spec.volumeMode = 'Filesystem';
    canonicalizeResourceList(spec.resources?.requests);
    canonicalizeResourceList(spec.resources?.limits);
    const status = obj.status as { phase?: string } | undefined;
    if (status !== undefined && !status.phase) status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate: validateClaim,
  validateUpdate: validateClaimUpdate,
};
