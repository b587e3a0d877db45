// StorageClasses (storage defaulting and validation): a provisioner, reclaimPolicy Delete and
// volumeBindingMode Immediate by default, and parameters, provisioner and reclaim policy that never change.
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { utf8Length } from '../../api/go-quote.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { nameIsDNSSubdomain, validateImmutableField } from '../../apimachinery/validation/names.js';
import {
  baseStrategy,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
  validateQualifiedName,
} from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

const maxProvisionerParameterSize = 256 * 1024;
const maxProvisionerParameterLen = 512;
const supportedReclaimPolicies = ['Delete', 'Retain'];
const supportedBindingModes = ['Immediate', 'WaitForFirstConsumer'];

function validateStorageClass(obj: KObject): ErrorList {
  const sc = typed<StorageClass>(obj);
  const errs = validateCoreObjectMeta(obj, false, nameIsDNSSubdomain);
  const provisioner = sc.provisioner ?? '';
  if (provisioner.length === 0) errs.push(field.required(newPath('provisioner'), ''));
  else errs.push(...validateQualifiedName(provisioner.toLowerCase(), newPath('provisioner')));
  const params = sc.parameters ?? {};
  const keys = Object.keys(params);
  if (keys.length > maxProvisionerParameterLen) {
    errs.push(field.tooLong(newPath('parameters'), '', maxProvisionerParameterLen));
  } else {
    let total = 0;
    for (const k of keys) {
      if (k.length < 1) errs.push(field.invalid(newPath('parameters'), k, 'field can not be empty.'));
      total += utf8Length(k) + utf8Length(params[k] ?? '');
    }
    if (total > maxProvisionerParameterSize)
      errs.push(field.tooLong(newPath('parameters'), '', maxProvisionerParameterSize));
  }
  const policy = sc.reclaimPolicy ?? '';
  if (policy !== '' && !supportedReclaimPolicies.includes(policy))
    errs.push(field.notSupported(newPath('reclaimPolicy'), policy, supportedReclaimPolicies));
  const mode = sc.volumeBindingMode;
  if (mode === undefined) errs.push(field.required(newPath('volumeBindingMode'), ''));
  else if (!supportedBindingModes.includes(mode))
    errs.push(field.notSupported(newPath('volumeBindingMode'), mode, supportedBindingModes));
  (sc.allowedTopologies ?? []).forEach((term, i) => {
    const p = newPath('allowedTopologies').index(i);
    const exprs = term.matchLabelExpressions ?? [];
    if (exprs.length === 0) errs.push(field.required(p, 'must have at least one label expression'));
    exprs.forEach((e, j) => {
      const ep = p.child('matchLabelExpressions').index(j);
      if ((e.values ?? []).length === 0)
        errs.push(field.required(ep.child('values'), 'must specify as least one value'));
    });
  });
  return errs;
}

/** The strategy of storage.k8s.io/v1 storageclasses. */
export const storageClassStrategy: ResourceStrategy = {
  ...baseStrategy('storage.k8s.io', 'v1', 'storageclasses'),
  defaults(obj) {
    const sc = typed<StorageClass>(obj);
    sc.reclaimPolicy ??= 'Delete';
    sc.volumeBindingMode ??= 'Immediate';
  },
  validate: validateStorageClass,
  validateUpdate(obj, old) {
    const sc = typed<StorageClass>(obj);
    const prev = typed<StorageClass>(old);
    const errs = [...validateStorageClass(obj), ...validateCoreObjectMetaUpdate(obj, old)];
    if (!semanticEqual(sc.parameters, prev.parameters))
      errs.push(field.forbidden(newPath('parameters'), 'updates to parameters are forbidden.'));
    if (sc.provisioner !== prev.provisioner)
      errs.push(field.forbidden(newPath('provisioner'), 'updates to provisioner are forbidden.'));
    if ((sc.reclaimPolicy ?? '') !== (prev.reclaimPolicy ?? ''))
      errs.push(field.forbidden(newPath('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
    errs.push(
      ...validateImmutableField(
        sc.volumeBindingMode ?? null,
        prev.volumeBindingMode ?? null,
        newPath('volumeBindingMode'),
      ),
    );
    return errs;
  },
};
