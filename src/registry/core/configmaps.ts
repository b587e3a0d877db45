// ConfigMaps (core validation's ValidateConfigMap and ValidateConfigMapUpdate): keys, the 1 MiB limit on
// data and binaryData together, and `immutable: true`, after which neither may change.
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import { isConfigMapKey, nameIsDNSSubdomain } from '../../apimachinery/validation/names.js';
import { utf8Length } from '../../api/go-quote.js';
import type { ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  byteOrder,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';

/** The most bytes the values of a ConfigMap or a Secret may hold together (upstream's MaxSecretSize). */
export const maxSecretSize = 1024 * 1024;

/** The message of a change to data of an object marked immutable. */
export const immutableWhenSetMessage = 'field is immutable when `immutable` is set';

/** The length in bytes of a base64 value as it decodes. */
export function base64DecodedLength(value: string): number {
  return Buffer.from(value, 'base64').length;
}

function validateConfigMap(cm: ConfigMap): ErrorList {
  const errs: ErrorList = [];
  let total = 0;
  const data = cm.data ?? {};
  const binary = cm.binaryData ?? {};
  for (const key of Object.keys(data).sort(byteOrder)) {
    for (const msg of isConfigMapKey(key)) errs.push(field.invalid(newPath('data').key(key), key, msg));
    if (Object.hasOwn(binary, key))
      errs.push(field.invalid(newPath('data').key(key), key, 'duplicate of key present in binaryData'));
    total += utf8Length(data[key] ?? '');
  }
  for (const key of Object.keys(binary).sort(byteOrder)) {
    for (const msg of isConfigMapKey(key)) errs.push(field.invalid(newPath('binaryData').key(key), key, msg));
    total += base64DecodedLength(binary[key] ?? '');
  }
  // An empty path: the limit is on the object as a whole.
  if (total > maxSecretSize) errs.push(field.tooLong(newPath(''), '', maxSecretSize));
  return errs;
}

/** The strategy of core/v1 configmaps. */
export const configMapStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'configmaps'),
  validate(obj) {
    return [
      ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain),
      ...validateConfigMap(typed<ConfigMap>(obj)),
    ];
  },
  validateUpdate(obj, old) {
    const cm = typed<ConfigMap>(obj);
    const prev = typed<ConfigMap>(old);
    const errs = validateCoreObjectMetaUpdate(obj, old);
    if (prev.immutable === true) {
      if (cm.immutable !== true) errs.push(field.forbidden(newPath('immutable'), immutableWhenSetMessage));
      if (!semanticEqual(cm.data, prev.data))
        errs.push(field.forbidden(newPath('data'), immutableWhenSetMessage));
      if (!semanticEqual(cm.binaryData, prev.binaryData))
        errs.push(field.forbidden(newPath('binaryData'), immutableWhenSetMessage));
    }
    return [...errs, ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain), ...validateConfigMap(cm)];
  },
};
