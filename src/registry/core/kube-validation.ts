// What the strategies of the built-in kinds share (upstream's pkg/apis/core/validation helpers): core's
// ObjectMeta rules, which add the legacy finalizer-name check to apimachinery's, field-level wrappers of the
// name checks, ports, Go renderings of values upstream prints with %#v, and typed access to decoded objects.
import { goQuote } from '../../api/go-quote.js';
import type { IntOrString } from '../../api/intstr.js';
import type { ErrorList, Path } from '../../apimachinery/validation/field-errors.js';
import { field, GoValue, newPath } from '../../apimachinery/validation/field-errors.js';
import type { ObjectMeta as ValidatedMeta, ValidateNameFunc } from '../../apimachinery/validation/names.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
  validateFinalizerName,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../apimachinery/validation/names.js';
import { findResource } from '../../api/resources.js';
import type { KObject, ResourceStrategy } from '../generic/strategy.js';
import { defaultStrategy } from '../strategies/index.js';

/** The catalogue's default strategy of a stored resource, for a kind's strategy to start from. */
export function baseStrategy(group: string, version: string, plural: string): ResourceStrategy {
  const info = findResource(group, version, plural);
  if (info === undefined) throw new Error(`no resource ${group}/${version}/${plural} in the catalogue`);
  return defaultStrategy(info);
}

/** An object's metadata in the form the name and meta validators take. */
export function metaOf(obj: KObject): ValidatedMeta {
  return (obj.metadata ?? {}) as ValidatedMeta;
}

/** The decoded object seen through its kubernetes-types interface. */
export function typed<T>(obj: KObject): T {
  return obj as unknown as T;
}

/** Finalizer names that need no domain prefix (upstream's IsStandardFinalizerName). */
export const standardFinalizers: ReadonlySet<string> = new Set([
  'kubernetes',
  'orphan',
  'foregroundDeletion',
]);

/** A finalizer name without a '/' must be one of the standard ones. */
export function validateKubeFinalizerName(name: string, path: Path): ErrorList {
  if (name.includes('/') || standardFinalizers.has(name)) return [];
  return [field.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified')];
}

/** A finalizer in a spec (Namespace spec.finalizers): a qualified name, and a standard one when unprefixed. */
export function validateSpecFinalizerName(name: string, path: Path): ErrorList {
  return [...validateFinalizerName(name, path), ...validateKubeFinalizerName(name, path)];
}

/** Core's ValidateObjectMeta: apimachinery's checks plus the legacy finalizer names, each at its index. */
export function validateCoreObjectMeta(
  obj: KObject,
  namespaced: boolean,
  nameFn: ValidateNameFunc,
): ErrorList {
  const path = newPath('metadata');
  const meta = (obj.metadata ?? {}) as ValidatedMeta;
  const errs = validateObjectMeta(meta, namespaced, nameFn, path);
  (meta.finalizers ?? []).forEach((f, i) =>
    errs.push(...validateKubeFinalizerName(f, path.child('finalizers').index(i))),
  );
  return errs;
}

/** Core's ValidateObjectMetaUpdate, with the same finalizer addition. */
export function validateCoreObjectMetaUpdate(obj: KObject, old: KObject): ErrorList {
  const path = newPath('metadata');
  const meta = (obj.metadata ?? {}) as ValidatedMeta;
  const errs = validateObjectMetaUpdate(meta, (old.metadata ?? {}) as ValidatedMeta, path);
  (meta.finalizers ?? []).forEach((f, i) =>
    errs.push(...validateKubeFinalizerName(f, path.child('finalizers').index(i))),
  );
  return errs;
}

/** The name check of kinds whose names are only URL path segments (RBAC, the generic store's own check). */
export const nameIsPathSegment: ValidateNameFunc = (name) => isValidPathSegmentName(name);

/** A value that must be an RFC 1123 label. */
export function validateDNS1123Label(value: string, path: Path): ErrorList {
  return isDNS1123Label(value).map((msg) => field.invalid(path, value, msg).withOrigin('format=dns-label'));
}

/** A value that must be an RFC 1123 subdomain. */
export function validateDNS1123Subdomain(value: string, path: Path): ErrorList {
  return isDNS1123Subdomain(value).map((msg) => field.invalid(path, value, msg));
}

/** A value that must be a qualified name (label key syntax). */
export function validateQualifiedName(value: string, path: Path): ErrorList {
  return isQualifiedName(value).map((msg) =>
    field.invalid(path, value, msg).withOrigin('format=qualified-name'),
  );
}

/** A port given as a number (1-65535) or an IANA service name (upstream's ValidatePortNumOrName). */
export function validatePortNumOrName(port: IntOrString | undefined, path: Path): ErrorList {
  if (typeof port === 'number') return isValidPortNum(port).map((msg) => field.invalid(path, port, msg));
  if (typeof port === 'string') return isValidPortName(port).map((msg) => field.invalid(path, port, msg));
  return [];
}

/** Port protocols a Service, Endpoints or EndpointSlice may use, sorted as upstream lists them. */
export const supportedPortProtocols: readonly string[] = ['SCTP', 'TCP', 'UDP'];

/** An intstr.IntOrString value as Go's %#v prints it (upstream shows the struct for these). */
export function goIntOrString(v: IntOrString): GoValue {
  return typeof v === 'number'
    ? new GoValue(`intstr.IntOrString{Type:0, IntVal:${v}, StrVal:""}`)
    : new GoValue(`intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(v)}}`);
}

/** A slice of a named string type as Go's %#v prints it: `[]core.IPFamily{"IPv4"}`. */
export function goTypedStrings(typeName: string, values: readonly string[]): GoValue {
  return new GoValue(`[]${typeName}{${values.map(goQuote).join(', ')}}`);
}

/** A plain object, or undefined for anything else (arrays, null, scalars). */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** Deep equality of decoded JSON values, with absent, null and empty treated alike (Go's nil vs empty). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(normalizeEmpty(a)) === JSON.stringify(normalizeEmpty(b));
}

function normalizeEmpty(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(normalizeEmpty);
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const n = normalizeEmpty((v as Record<string, unknown>)[k]);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return v;
}

/** Byte order, as Go sorts strings. */
export function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
