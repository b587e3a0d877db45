// CustomResourceDefinitions (apiextensions defaulting, strategy and the common parts of validation): the
// name is <plural>.<group>, names are DNS labels, a scope, versions with exactly one storage version, and a
// structural schema whose nodes have types. CRDs are stored only; serving their resources comes later.
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionVersion,
  JSONSchemaProps,
} from 'kubernetes-types/apiextensions/v1.js';
import { goQuote } from '../../api/go-quote.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import type { ValidateNameFunc } from '../../apimachinery/validation/names.js';
import {
  isDNS1035Label,
  isDNS1123Subdomain,
  nameIsDNSSubdomain,
  validateImmutableField,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../apimachinery/validation/names.js';
import { baseStrategy, metaOf, typed } from '../core/kube-validation.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';

type Spec = Partial<CustomResourceDefinition['spec']>;
type Level = 'root' | 'item' | 'field';

const typeRequired: Record<Level, string> = {
  root: 'must not be empty at the root',
  item: 'must not be empty for specified array items',
  field: 'must not be empty for specified object fields',
};

function storageVersionOf(spec: Spec): string | undefined {
  return (spec.versions ?? []).find((v) => v.storage)?.name;
}

// Go prints the versions slice with %#v; we print the names, which is what the message is about.
function goVersions(versions: readonly CustomResourceDefinitionVersion[]): GoValue {
  return new GoValue(
    `[]apiextensions.CustomResourceDefinitionVersion{${versions.map((v) => `{Name:${goQuote(v.name)}, Served:${v.served}, Storage:${v.storage}}`).join(', ')}}`,
  );
}

/** The structural schema rules on types (part of upstream's ValidateStructural). */
function validateStructural(s: JSONSchemaProps, level: Level, path: Path): ErrorList {
  const errs: ErrorList = [];
  const ext = s as Record<string, unknown>;
  const type = s.type ?? '';
  if (ext['x-kubernetes-embedded-resource'] === true && type !== 'object') {
    errs.push(
      field.invalid(path.child('type'), type, 'must be object if x-kubernetes-embedded-resource is true'),
    );
  } else if (
    type === '' &&
    ext['x-kubernetes-int-or-string'] !== true &&
    ext['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    errs.push(field.required(path.child('type'), typeRequired[level]));
  }
  if (level === 'root' && type !== '' && type !== 'object')
    errs.push(field.invalid(path.child('type'), type, 'must be object at the root'));
  for (const [name, prop] of Object.entries(s.properties ?? {}))
    errs.push(...validateStructural(prop, 'field', path.child('properties').key(name)));
  if (s.items !== undefined && !Array.isArray(s.items))
    errs.push(...validateStructural(s.items, 'item', path.child('items')));
  if (typeof s.additionalProperties === 'object' && s.additionalProperties !== null) {
    errs.push(...validateStructural(s.additionalProperties, 'field', path.child('additionalProperties')));
  }
  return errs;
}

function validateNames(names: Partial<CustomResourceDefinition['spec']['names']>, path: Path): ErrorList {
  const errs: ErrorList = [];
  const label = (value: string | undefined, p: Path, mixedCase: boolean) => {
    if (!value) return;
    const msgs = isDNS1035Label(mixedCase ? value.toLowerCase() : value);
    if (msgs.length > 0)
      errs.push(
        field.invalid(
          p,
          value,
          (mixedCase ? 'may have mixed case, but should otherwise match: ' : '') + msgs.join(','),
        ),
      );
  };
  label(names.plural, path.child('plural'), false);
  label(names.singular, path.child('singular'), false);
  label(names.kind, path.child('kind'), true);
  label(names.listKind, path.child('listKind'), true);
  (names.shortNames ?? []).forEach((n, i) => label(n, path.child('shortNames').index(i), false));
  if (names.kind && names.kind === names.listKind)
    errs.push(field.invalid(path.child('listKind'), names.listKind, 'kind and listKind may not be the same'));
  (names.categories ?? []).forEach((n, i) => label(n, path.child('categories').index(i), false));
  return errs;
}

function validateSpec(spec: Spec): ErrorList {
  const path = newPath('spec');
  const errs: ErrorList = [];
  const group = spec.group ?? '';
  if (group === '') errs.push(field.required(path.child('group'), ''));
  else if (isDNS1123Subdomain(group).length > 0)
    errs.push(field.invalid(path.child('group'), group, isDNS1123Subdomain(group).join(',')));
  else if (group.split('.').length < 2)
    errs.push(field.invalid(path.child('group'), group, 'should be a domain with at least one dot'));
  const scope = spec.scope ?? '';
  if (scope === '') errs.push(field.required(path.child('scope'), ''));
  else if (scope !== 'Cluster' && scope !== 'Namespaced')
    errs.push(field.notSupported(path.child('scope'), scope, ['Cluster', 'Namespaced']));
  const versions = spec.versions ?? [];
  let storageCount = 0;
  const seen = new Set<string>();
  let unique = true;
  versions.forEach((v, i) => {
    const vp = path.child('versions').index(i);
    if (v.storage) storageCount++;
    if (seen.has(v.name)) unique = false;
    seen.add(v.name);
    const msgs = isDNS1035Label(v.name ?? '');
    if (msgs.length > 0) errs.push(field.invalid(vp.child('name'), v.name ?? '', msgs.join(',')));
    const schema = v.schema?.openAPIV3Schema;
    if (schema === undefined)
      errs.push(field.required(vp.child('schema', 'openAPIV3Schema'), 'schemas are required'));
    else errs.push(...validateStructural(schema, 'root', vp.child('schema', 'openAPIV3Schema')));
  });
  if (!unique)
    errs.push(
      field.invalid(path.child('versions'), goVersions(versions), 'must contain unique version names'),
    );
  if (storageCount !== 1)
    errs.push(
      field.invalid(
        path.child('versions'),
        goVersions(versions),
        'must have exactly one version marked as storage version',
      ),
    );
  const names = spec.names ?? ({} as NonNullable<Spec['names']>);
  if (!names.plural) errs.push(field.required(path.child('names', 'plural'), ''));
  if (!names.singular) errs.push(field.required(path.child('names', 'singular'), ''));
  if (!names.kind) errs.push(field.required(path.child('names', 'kind'), ''));
  if (!names.listKind) errs.push(field.required(path.child('names', 'listKind'), ''));
  errs.push(...validateNames(names, path.child('names')));
  const strategy = spec.conversion?.strategy ?? '';
  if (strategy !== 'None' && strategy !== 'Webhook')
    errs.push(field.notSupported(path.child('conversion', 'strategy'), strategy, ['None', 'Webhook']));
  if (strategy === 'Webhook' && spec.conversion?.webhook === undefined) {
    errs.push(
      field.required(path.child('conversion', 'webhook'), 'required when strategy is set to Webhook'),
    );
  }
  return errs;
}

function validateStoredVersions(crd: CustomResourceDefinition): ErrorList {
  const path = newPath('status', 'storedVersions');
  const stored = crd.status?.storedVersions ?? [];
  if (stored.length === 0) {
    const shown =
      crd.status?.storedVersions === undefined || crd.status.storedVersions === null
        ? new GoValue('[]string(nil)')
        : [];
    return [field.invalid(path, shown, 'must have at least one stored version')];
  }
  const errs: ErrorList = [];
  const index = new Map(stored.map((v, i) => [v, i]));
  for (const v of crd.spec?.versions ?? []) {
    if (v.storage && !index.has(v.name))
      errs.push(field.invalid(path, goVersions([v]), `must have the storage version ${v.name}`));
    index.delete(v.name);
  }
  for (const [v, i] of index) errs.push(field.invalid(path.index(i), v, 'must appear in spec.versions'));
  return errs;
}

function nameFnFor(spec: Spec): ValidateNameFunc {
  return (name, prefix) => {
    const msgs = nameIsDNSSubdomain(name, prefix);
    if (name !== `${spec.names?.plural ?? ''}.${spec.group ?? ''}`)
      msgs.push('must be spec.names.plural+"."+spec.group');
    return msgs;
  };
}

function validateCRD(obj: KObject): ErrorList {
  const crd = typed<CustomResourceDefinition>(obj);
  const spec: Spec = crd.spec ?? {};
  return [
    ...validateObjectMeta(metaOf(obj), false, nameFnFor(spec), newPath('metadata')),
    ...validateSpec(spec),
    ...validateStoredVersions(crd),
  ];
}

function addStorageVersion(obj: KObject): void {
  const crd = typed<CustomResourceDefinition>(obj);
  const storage = storageVersionOf(crd.spec ?? {});
  const status = (obj.status ?? {}) as { storedVersions?: string[] };
  if (storage !== undefined && !(status.storedVersions ?? []).includes(storage))
    status.storedVersions = [...(status.storedVersions ?? []), storage];
  obj.status = status;
}

function isEstablished(crd: CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

/** The strategy of apiextensions.k8s.io/v1 customresourcedefinitions. */
export const customResourceDefinitionStrategy: ResourceStrategy = {
  ...baseStrategy('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'),
  defaults(obj) {
    const crd = typed<CustomResourceDefinition>(obj);
    const spec = crd.spec;
    if (spec === undefined) return;
    const names = spec.names;
    if (names !== undefined) {
      if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
      if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
    }
    spec.conversion ??= { strategy: 'None' };
    const service = spec.conversion.webhook?.clientConfig?.service;
    if (service !== undefined) service.port ??= 443;
  },
  prepareForCreate(obj) {
    // Go writes the zero acceptedNames with their two required fields.
    obj.status = { acceptedNames: { kind: '', plural: '' } };
    addStorageVersion(obj);
  },
  prepareForUpdate: (obj) => addStorageVersion(obj),
  validate: validateCRD,
  validateUpdate(obj, old) {
    const crd = typed<CustomResourceDefinition>(obj);
    const prev = typed<CustomResourceDefinition>(old);
    const errs = [
      ...validateObjectMetaUpdate(metaOf(obj), metaOf(old), newPath('metadata')),
      ...validateCRD(obj),
    ];
    const path = newPath('spec');
    if (isEstablished(prev)) {
      errs.push(
        ...validateImmutableField(crd.spec?.scope ?? '', prev.spec?.scope ?? '', path.child('scope')),
      );
      errs.push(
        ...validateImmutableField(
          crd.spec?.names?.kind ?? '',
          prev.spec?.names?.kind ?? '',
          path.child('names', 'kind'),
        ),
      );
      errs.push(
        ...validateImmutableField(
          crd.spec?.names?.listKind ?? '',
          prev.spec?.names?.listKind ?? '',
          path.child('names', 'listKind'),
        ),
      );
    }
    errs.push(...validateImmutableField(crd.spec?.group ?? '', prev.spec?.group ?? '', path.child('group')));
    return errs;
  },
};
