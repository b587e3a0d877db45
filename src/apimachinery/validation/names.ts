// Name validation and the metadata checks every object goes through (k8s.io/apimachinery pkg/api/validation,
// pkg/api/validation/path and pkg/apis/meta/v1/validation), with upstream's messages. The string-level
// syntax checks live in api/name-syntax.ts (label selectors need them below this layer) and are re-exported
// here so that validation code has one place to import from.
import { goQuote, goStringSlice, isGoPrintable, utf8Length } from '../../api/go-quote.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
} from '../../api/name-syntax.js';
import type { ErrorList, Path } from './field-errors.js';
import { field, GoValue } from './field-errors.js';

export {
  emptyError,
  inclusiveRangeError,
  isCIdentifier,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDNS1123SubdomainWithUnderscore,
  isEnvVarName,
  isHTTPHeaderName,
  isInRange,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidGroupID,
  isValidLabelValue,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isValidUserID,
  isWildcardDNS1123Subdomain,
  maxLenError,
  regexError,
} from '../../api/name-syntax.js';

/** Checks a name, or with `prefix` a generateName prefix (to which a random suffix will be added). */
export type ValidateNameFunc = (name: string, prefix: boolean) => string[];

/** The message for a field that may not change. */
export const fieldImmutableErrorMsg = 'field is immutable';
/** The message for a negative number where none is allowed. */
export const isNegativeErrorMsg = 'must be greater than or equal to 0';
/** The most bytes all of an object's annotation keys and values may take together (256 KiB). */
export const totalAnnotationSizeLimitB = 256 * 1024;

// A generateName prefix may end in '-' because a suffix follows; upstream checks a stand-in name instead:
// the last two bytes replaced by one 'a'. The stand-in is one byte shorter, as upstream's is.
function maskTrailingDash(name: string): string {
  if (name.length <= 1 || !name.endsWith('-')) return name;
  const head = name.slice(0, -1);
  const last = head.at(-1)!;
  const cut = last.charCodeAt(0) >= 0xdc00 && last.charCodeAt(0) <= 0xdfff && head.length >= 2 ? 2 : 1;
  const removed = head.slice(head.length - cut);
  // Upstream cuts one byte off a multi-byte character, leaving bytes no name may hold: NULs stand in for them.
  return head.slice(0, head.length - cut) + '\0'.repeat(utf8Length(removed) - 1) + 'a';
}

/** Names that are RFC 1123 subdomains (most kinds: Pods, ConfigMaps, Deployments, ...). */
export const nameIsDNSSubdomain: ValidateNameFunc = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

/** Names that are RFC 1123 labels (Namespaces, ...). */
export const nameIsDNSLabel: ValidateNameFunc = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);

/** Names that are RFC 1035 labels (Services, ...). */
export const nameIsDNS1035Label: ValidateNameFunc = (name, prefix) =>
  isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** Namespace names. */
export const validateNamespaceName: ValidateNameFunc = nameIsDNSLabel;

/** ServiceAccount names. */
export const validateServiceAccountName: ValidateNameFunc = nameIsDNSSubdomain;

/** Checks that a name can be a URL path segment: not "." or "..", no '/' or '%'. */
export function isValidPathSegmentName(name: string): string[] {
  for (const illegal of ['.', '..']) if (name === illegal) return [`may not be '${illegal}'`];
  return isValidPathSegmentPrefix(name);
}

/** Checks that a prefix of a name can start a URL path segment: no '/' or '%'. */
export function isValidPathSegmentPrefix(name: string): string[] {
  return ['/', '%'].filter((c) => name.includes(c)).map((c) => `may not contain '${c}'`);
}

/** The check the API server applies to every object's name, whatever its kind. */
export const validatePathSegmentName: ValidateNameFunc = (name, prefix) =>
  prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name);

/** A number that must not be negative. */
export function validateNonnegativeField(value: number | bigint, path: Path): ErrorList {
  if (value >= 0) return [];
  return [field.invalid(path, value, isNegativeErrorMsg).withOrigin('minimum')];
}

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedKeys = (m: Readonly<Record<string, unknown>>) => Object.keys(m).sort(byteOrder);

/** A label key (a qualified name). */
export function validateLabelName(labelName: string, path: Path): ErrorList {
  return isQualifiedName(labelName).map((msg) => field.invalid(path, labelName, msg).withOrigin('labelKey'));
}

/** A set of labels; errors name the map's path, not the key. Keys are checked in sorted order. */
export function validateLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  if (labels === null || labels === undefined) return errs;
  for (const k of sortedKeys(labels)) {
    errs.push(...validateLabelName(k, path));
    for (const msg of isValidLabelValue(labels[k]!)) errs.push(field.invalid(path, labels[k], msg));
  }
  return errs;
}

/** A set of annotations: keys are qualified names in any case, and all of it within 256 KiB. */
export function validateAnnotations(
  annotations: Readonly<Record<string, string>> | null | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  if (annotations === null || annotations === undefined) return errs;
  for (const k of sortedKeys(annotations)) {
    for (const msg of isQualifiedName(k.toLowerCase())) errs.push(field.invalid(path, k, msg));
  }
  if (validateAnnotationsSize(annotations) !== undefined)
    errs.push(field.tooLong(path, '', totalAnnotationSizeLimitB));
  return errs;
}

/** Upstream's error text when annotations exceed the limit, or undefined when they fit. */
export function validateAnnotationsSize(annotations: Readonly<Record<string, string>>): string | undefined {
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) total += utf8Length(k) + utf8Length(v);
  if (total <= totalAnnotationSizeLimitB) return undefined;
  return `annotations size ${total} is larger than limit ${totalAnnotationSizeLimitB}`;
}

/** metav1.LabelSelectorRequirement as it appears in a spec. */
export interface LabelSelectorRequirementSpec {
  key: string;
  operator: string;
  values?: readonly string[] | null;
}

/** metav1.LabelSelector as it appears in a spec. */
export interface LabelSelectorSpec {
  matchLabels?: Readonly<Record<string, string>> | null;
  matchExpressions?: readonly LabelSelectorRequirementSpec[] | null;
}

/** Relaxations of label selector validation, for compatibility with data stored before a rule existed. */
export interface LabelSelectorValidationOptions {
  allowInvalidLabelValueInSelector?: boolean;
  allowUnknownOperatorInRequirement?: boolean;
}

/** A metav1.LabelSelector in a spec (upstream's metav1validation.ValidateLabelSelector). */
export function validateLabelSelector(
  ps: LabelSelectorSpec | null | undefined,
  opts: LabelSelectorValidationOptions,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  if (ps === null || ps === undefined) return errs;
  errs.push(...validateLabels(ps.matchLabels, path.child('matchLabels')));
  (ps.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...validateLabelSelectorRequirement(expr, opts, path.child('matchExpressions').index(i)));
  });
  return errs;
}

/** One match expression of a label selector. */
export function validateLabelSelectorRequirement(
  sr: LabelSelectorRequirementSpec,
  opts: LabelSelectorValidationOptions,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const values = sr.values ?? [];
  switch (sr.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push(
          field.required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"),
        );
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(
          field.forbidden(
            path.child('values'),
            "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
      }
      break;
    default:
      if (opts.allowUnknownOperatorInRequirement !== true) {
        errs.push(field.invalid(path.child('operator'), sr.operator, 'not a valid selector operator'));
      }
  }
  errs.push(...validateLabelName(sr.key, path.child('key')));
  if (opts.allowInvalidLabelValueInSelector !== true) {
    values.forEach((v, i) => {
      for (const msg of isValidLabelValue(v)) errs.push(field.invalid(path.child('values').index(i), v, msg));
    });
  }
  return errs;
}

/** metav1.OwnerReference. */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean | null;
  blockOwnerDeletion?: boolean | null;
}

// Go prints a set pointer as its address, which differs from run to run; any address reads the same.
const goBoolPointer = (b: boolean | null | undefined) =>
  b === null || b === undefined ? '(*bool)(nil)' : '(*bool)(0xc000010000)';

function goOwnerReference(ref: OwnerReference): string {
  return (
    `v1.OwnerReference{APIVersion:${goQuote(ref.apiVersion)}, Kind:${goQuote(ref.kind)}, Name:${goQuote(ref.name)}, ` +
    `UID:${goQuote(ref.uid)}, Controller:${goBoolPointer(ref.controller)}, ` +
    `BlockOwnerDeletion:${goBoolPointer(ref.blockOwnerDeletion)}}`
  );
}

function parseGroupVersion(apiVersion: string): { group: string; version: string } {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return { group: '', version: '' };
}

function validateOwnerReference(ref: OwnerReference, path: Path): ErrorList {
  const errs: ErrorList = [];
  const gv = parseGroupVersion(ref.apiVersion ?? '');
  if (gv.version.length === 0)
    errs.push(field.invalid(path.child('apiVersion'), ref.apiVersion ?? '', 'version must not be empty'));
  if (!ref.kind) errs.push(field.invalid(path.child('kind'), ref.kind ?? '', 'kind must not be empty'));
  if (!ref.name) errs.push(field.invalid(path.child('name'), ref.name ?? '', 'name must not be empty'));
  if (!ref.uid) errs.push(field.invalid(path.child('uid'), ref.uid ?? '', 'uid must not be empty'));
  // Events may not own objects (upstream's BannedOwners).
  if (gv.group === '' && gv.version === 'v1' && ref.kind === 'Event') {
    errs.push(
      field.invalid(
        path,
        new GoValue(goOwnerReference(ref)),
        '/v1, Kind=Event is disallowed from being an owner',
      ),
    );
  }
  return errs;
}

/** An object's owner references: each complete, no Event as owner, at most one controller. */
export function validateOwnerReferences(
  refs: readonly OwnerReference[] | null | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    errs.push(...validateOwnerReference(ref, path));
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController !== '') {
        const all = new GoValue(`[]v1.OwnerReference{${(refs ?? []).map(goOwnerReference).join(', ')}}`);
        errs.push(
          field.invalid(
            path,
            all,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/** A finalizer name (a qualified name). */
export function validateFinalizerName(name: string, path: Path): ErrorList {
  return isQualifiedName(name).map((msg) => field.invalid(path, name, msg));
}

/** An object's finalizers: valid names, and not both "orphan" and "foregroundDeletion". */
export function validateFinalizers(finalizers: readonly string[] | null | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const list = finalizers ?? [];
  for (const f of list) errs.push(...validateFinalizerName(f, path));
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(field.invalid(path, [...list], 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

/** On an object being deleted, no finalizer may be added. */
export function validateNoNewFinalizers(
  newFinalizers: readonly string[] | null | undefined,
  oldFinalizers: readonly string[] | null | undefined,
  path: Path,
): ErrorList {
  const old = new Set(oldFinalizers ?? []);
  const extra = [...new Set(newFinalizers ?? [])].filter((f) => !old.has(f)).sort(byteOrder);
  if (extra.length === 0) return [];
  return [
    field.forbidden(
      path,
      `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(extra)}`,
    ),
  ];
}

/** The longest field manager name. */
export const fieldManagerMaxLength = 128;

/** A field manager name: at most 128 bytes, printable characters only. */
export function validateFieldManager(fieldManager: string | null | undefined, path: Path): ErrorList {
  const errs: ErrorList = [];
  const fm = fieldManager ?? '';
  if (utf8Length(fm) > fieldManagerMaxLength) errs.push(field.tooLong(path, '', fieldManagerMaxLength));
  let offset = 0;
  for (const ch of fm) {
    if (!isGoPrintable(ch) && !isLoneSurrogate(ch)) {
      const cp = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errs.push(field.invalid(path, fm, `invalid character U+${cp} (at position ${offset})`));
    }
    offset += utf8Length(ch);
  }
  return errs;
}

function isLoneSurrogate(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return ch.length === 1 && c >= 0xd800 && c <= 0xdfff;
}

/** metav1.ManagedFieldsEntry, the parts that are validated. */
export interface ManagedFieldsEntry {
  manager?: string | null;
  operation?: string | null;
  fieldsType?: string | null;
  subresource?: string | null;
}

/** The longest subresource name in a managed fields entry. */
export const maxSubresourceNameLength = 256;

/** An object's managedFields entries. */
export function validateManagedFields(
  entries: readonly ManagedFieldsEntry[] | null | undefined,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  (entries ?? []).forEach((e, i) => {
    const p = path.index(i);
    if (e.operation !== 'Apply' && e.operation !== 'Update') {
      errs.push(field.invalid(p.child('operation'), e.operation ?? '', 'must be `Apply` or `Update`'));
    }
    if (e.fieldsType && e.fieldsType !== 'FieldsV1') {
      errs.push(field.invalid(p.child('fieldsType'), e.fieldsType, 'must be `FieldsV1`'));
    }
    errs.push(...validateFieldManager(e.manager, p.child('manager')));
    if (utf8Length(e.subresource ?? '') > maxSubresourceNameLength) {
      errs.push(field.tooLong(p.child('subresource'), '', maxSubresourceNameLength));
    }
  });
  return errs;
}

/** metav1.ObjectMeta, the parts that are validated; timestamps are RFC 3339 strings as in JSON. */
export interface ObjectMeta {
  name?: string | null;
  generateName?: string | null;
  namespace?: string | null;
  uid?: string | null;
  resourceVersion?: string | null;
  generation?: number | null;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Readonly<Record<string, string>> | null;
  annotations?: Readonly<Record<string, string>> | null;
  ownerReferences?: readonly OwnerReference[] | null;
  finalizers?: readonly string[] | null;
  managedFields?: readonly ManagedFieldsEntry[] | null;
}

/**
 * The metadata checks of a create (upstream's ValidateObjectMetaAccessor): generateName and name through
 * `nameFn`, name or generateName required, namespace required for namespaced kinds and forbidden for the
 * others, then generation, labels, annotations, owner references, finalizers and managed fields.
 */
export function validateObjectMeta(
  meta: ObjectMeta,
  requiresNamespace: boolean,
  nameFn: ValidateNameFunc,
  path: Path,
): ErrorList {
  const errs: ErrorList = [];
  const generateName = meta.generateName ?? '';
  if (generateName.length > 0) {
    for (const msg of nameFn(generateName, true))
      errs.push(field.invalid(path.child('generateName'), generateName, msg));
  }
  const name = meta.name ?? '';
  if (name.length === 0) {
    errs.push(field.required(path.child('name'), 'name or generateName is required'));
  } else {
    for (const msg of nameFn(name, false)) errs.push(field.invalid(path.child('name'), name, msg));
  }
  const namespace = meta.namespace ?? '';
  if (requiresNamespace) {
    if (namespace.length === 0) {
      errs.push(field.required(path.child('namespace'), ''));
    } else {
      for (const msg of validateNamespaceName(namespace, false))
        errs.push(field.invalid(path.child('namespace'), namespace, msg));
    }
  } else if (namespace.length > 0) {
    errs.push(field.forbidden(path.child('namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(meta.generation ?? 0, path.child('generation')));
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, path.child('finalizers')));
  errs.push(...validateManagedFields(meta.managedFields, path.child('managedFields')));
  return errs;
}

// A metav1.Time as upstream prints it in a message (Go's time.Time String(), in UTC).
function goTime(iso: string | null | undefined): string {
  const ms = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) return '0001-01-01 00:00:00 +0000 UTC';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  const frac =
    d.getUTCMilliseconds() === 0
      ? ''
      : '.' + String(d.getUTCMilliseconds()).padStart(3, '0').replace(/0+$/, '');
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac} +0000 UTC`
  );
}

const sameInstant = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? '') === (b ?? '') || (!!a && !!b && Date.parse(a) === Date.parse(b));

/** A field that may not change on update (upstream's ValidateImmutableField), for plain values. */
export function validateImmutableField(newVal: unknown, oldVal: unknown, path: Path): ErrorList {
  if (newVal === oldVal || JSON.stringify(newVal) === JSON.stringify(oldVal)) return [];
  return [field.invalid(path, newVal, fieldImmutableErrorMsg)];
}

/**
 * The metadata checks of an update (upstream's ValidateObjectMetaAccessorUpdate): resourceVersion given,
 * generation not decreasing, identity and timestamps unchanged, no new finalizers while deleting, and the
 * labels, annotations, owner references and managed fields of the new object.
 */
export function validateObjectMetaUpdate(newMeta: ObjectMeta, oldMeta: ObjectMeta, path: Path): ErrorList {
  const errs: ErrorList = [];
  if (oldMeta.deletionTimestamp) {
    errs.push(...validateNoNewFinalizers(newMeta.finalizers, oldMeta.finalizers, path.child('finalizers')));
  }
  if (!newMeta.resourceVersion) {
    errs.push(
      field.invalid(
        path.child('resourceVersion'),
        newMeta.resourceVersion ?? '',
        'must be specified for an update',
      ),
    );
  }
  if ((newMeta.generation ?? 0) < (oldMeta.generation ?? 0)) {
    errs.push(field.invalid(path.child('generation'), newMeta.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...validateImmutableField(newMeta.name ?? '', oldMeta.name ?? '', path.child('name')));
  errs.push(
    ...validateImmutableField(newMeta.namespace ?? '', oldMeta.namespace ?? '', path.child('namespace')),
  );
  errs.push(...validateImmutableField(newMeta.uid ?? '', oldMeta.uid ?? '', path.child('uid')));
  if (!sameInstant(newMeta.creationTimestamp, oldMeta.creationTimestamp)) {
    errs.push(
      field.invalid(
        path.child('creationTimestamp'),
        new GoValue(goTime(newMeta.creationTimestamp)),
        fieldImmutableErrorMsg,
      ),
    );
  }
  if (!sameInstant(newMeta.deletionTimestamp, oldMeta.deletionTimestamp)) {
    const shown = newMeta.deletionTimestamp ? new GoValue(goTime(newMeta.deletionTimestamp)) : null;
    errs.push(field.invalid(path.child('deletionTimestamp'), shown, fieldImmutableErrorMsg));
  }
  errs.push(
    ...validateImmutableField(
      newMeta.deletionGracePeriodSeconds ?? null,
      oldMeta.deletionGracePeriodSeconds ?? null,
      path.child('deletionGracePeriodSeconds'),
    ),
  );
  errs.push(...validateLabels(newMeta.labels, path.child('labels')));
  errs.push(...validateAnnotations(newMeta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(newMeta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateManagedFields(newMeta.managedFields, path.child('managedFields')));
  return errs;
}
