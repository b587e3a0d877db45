// Secrets (core defaulting, conversion and validation): stringData folded into data, type Opaque by default,
// the keys each well-known type requires, the 1 MiB limit, and `immutable: true`.
import type { Secret } from 'kubernetes-types/core/v1.js';
import type { ErrorList } from '../../apimachinery/validation/field-errors.js';
import { field, newPath } from '../../apimachinery/validation/field-errors.js';
import {
  isConfigMapKey,
  nameIsDNSSubdomain,
  validateImmutableField,
} from '../../apimachinery/validation/names.js';
import type { ResourceStrategy } from '../generic/strategy.js';
import { base64DecodedLength, immutableWhenSetMessage, maxSecretSize } from './configmaps.js';
import {
  baseStrategy,
  byteOrder,
  semanticEqual,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';

/** The annotation a service-account-token Secret names its ServiceAccount with. */
export const serviceAccountNameKey = 'kubernetes.io/service-account.name';

// The error text of Go's json.Unmarshal into a map for the common ways a docker config can be wrong.
function goJSONObjectError(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0) return 'unexpected end of JSON input';
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    const first = trimmed[0]!;
    if (!'{["-0123456789tfn'.includes(first))
      return `invalid character '${first}' looking for beginning of value`;
    const literal = first === 't' ? 'true' : first === 'f' ? 'false' : first === 'n' ? 'null' : undefined;
    for (let i = 1; literal !== undefined && i < literal.length; i++) {
      if (i >= trimmed.length) return 'unexpected end of JSON input';
      if (trimmed[i] !== literal[i])
        return `invalid character '${trimmed[i]}' in literal ${literal} (expecting '${literal[i]}')`;
    }
    return 'unexpected end of JSON input';
  }
  if (value === null || (typeof value === 'object' && !Array.isArray(value))) return undefined;
  const kind = Array.isArray(value)
    ? 'array'
    : typeof value === 'string'
      ? 'string'
      : typeof value === 'boolean'
        ? 'bool'
        : 'number';
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

function decoded(value: string | undefined): string {
  return Buffer.from(value ?? '', 'base64').toString('utf8');
}

function validateSecret(secret: Secret): ErrorList {
  const errs: ErrorList = [];
  const data = secret.data ?? {};
  const dataPath = newPath('data');
  let total = 0;
  for (const key of Object.keys(data).sort(byteOrder)) {
    for (const msg of isConfigMapKey(key)) errs.push(field.invalid(dataPath.key(key), key, msg));
    total += base64DecodedLength(data[key] ?? '');
  }
  if (total > maxSecretSize) errs.push(field.tooLong(dataPath, '', maxSecretSize));
  const has = (k: string) => Object.hasOwn(data, k);
  switch (secret.type ?? '') {
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.[serviceAccountNameKey]) {
        errs.push(field.required(newPath('metadata', 'annotations').key(serviceAccountNameKey), ''));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = secret.type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) {
        errs.push(field.required(dataPath.key(key), ''));
        break;
      }
      const problem = goJSONObjectError(decoded(data[key]));
      if (problem !== undefined)
        errs.push(field.invalid(dataPath.key(key), '<secret contents redacted>', problem));
      break;
    }
    case 'kubernetes.io/basic-auth':
      // Either key may be empty, but one of them must be there.
      if (!has('username') && !has('password')) {
        errs.push(field.required(dataPath.key('username'), ''));
        errs.push(field.required(dataPath.key('password'), ''));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (base64DecodedLength(data['ssh-privatekey'] ?? '') === 0)
        errs.push(field.required(dataPath.key('ssh-privatekey'), ''));
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) errs.push(field.required(dataPath.key('tls.crt'), ''));
      if (!has('tls.key')) errs.push(field.required(dataPath.key('tls.key'), ''));
      break;
    default:
      break;
  }
  return errs;
}

/** The strategy of core/v1 secrets. */
export const secretStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'secrets'),
  defaults(obj) {
    const secret = typed<Secret>(obj);
    // stringData is write-only: its entries replace data's, encoded, and it is never stored.
    if (secret.stringData !== undefined) {
      const data = { ...secret.data };
      for (const [k, v] of Object.entries(secret.stringData))
        data[k] = Buffer.from(v, 'utf8').toString('base64');
      secret.data = data;
      delete secret.stringData;
    }
    if (!secret.type) secret.type = 'Opaque';
  },
  validate(obj) {
    return [...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain), ...validateSecret(typed<Secret>(obj))];
  },
  validateUpdate(obj, old) {
    const secret = typed<Secret>(obj);
    const prev = typed<Secret>(old);
    const errs = validateCoreObjectMetaUpdate(obj, old);
    errs.push(...validateImmutableField(secret.type ?? '', prev.type ?? '', newPath('type')));
    if (prev.immutable === true) {
      if (secret.immutable !== true)
        errs.push(field.forbidden(newPath('immutable'), immutableWhenSetMessage));
      if (!semanticEqual(secret.data, prev.data))
        errs.push(field.forbidden(newPath('data'), immutableWhenSetMessage));
    }
    return [...errs, ...validateCoreObjectMeta(obj, true, nameIsDNSSubdomain), ...validateSecret(secret)];
  },
};
