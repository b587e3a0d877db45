// ServiceAccounts (pkg/registry/core/serviceaccount's strategy and core validation): the name, and secret
// references cut down to their names as upstream stores them.
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import { validateServiceAccountName } from '../../apimachinery/validation/names.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import {
  baseStrategy,
  typed,
  validateCoreObjectMeta,
  validateCoreObjectMetaUpdate,
} from './kube-validation.js';

function cleanSecretReferences(obj: KObject): void {
  const sa = typed<ServiceAccount>(obj);
  if (sa.secrets !== undefined)
    sa.secrets = sa.secrets.map((s) => (s.name === undefined ? {} : { name: s.name }));
}

/** The strategy of core/v1 serviceaccounts. */
export const serviceAccountStrategy: ResourceStrategy = {
  ...baseStrategy('', 'v1', 'serviceaccounts'),
  prepareForCreate: cleanSecretReferences,
  prepareForUpdate: cleanSecretReferences,
  validate: (obj) => validateCoreObjectMeta(obj, true, validateServiceAccountName),
  validateUpdate: (obj, old) => [
    ...validateCoreObjectMetaUpdate(obj, old),
    ...validateCoreObjectMeta(obj, true, validateServiceAccountName),
  ],
};
