// metadata.managedFields for non-apply writes (create, update, patch), as upstream's field manager records
// them: every change a request makes belongs to the request's manager, leaves the sets of the managers that
// owned the changed fields, and fields that disappear leave every set. Pure functions over plain JSON.
import type { ManagedFieldsEntry } from 'kubernetes-types/meta/v1.js';
import { deepFreeze } from '../../base/deep-freeze.js';
import { cloneJson, isJsonObject, type JsonObject, type JsonValue } from '../patch/json-value.js';
import type { SchemaNode } from '../openapi/schema-node.js';
import { decodeMessage, MessageRegistry } from '../protobuf/index.js';
import { compareObjects, FieldSet, fieldPath, type FieldPath } from './field-set.js';

/** What updateManagedFields needs to know about one write. */
export interface UpdateManagedFieldsOptions {
  /** The stored object before the write; undefined for a create. */
  readonly old: JsonObject | undefined;
  /** The object about to be stored (its metadata.managedFields as the request sent them). */
  readonly new: JsonObject;
  /** The field manager: ?fieldManager= or managerFromUserAgent(User-Agent). */
  readonly manager: string;
  /** The group/version the request was made in ("apps/v1", "v1"). */
  readonly apiVersion: string;
  readonly time: Date;
  /** "status" for writes to the status subresource. */
  readonly subresource?: string;
  /** The schema of the kind; undefined where none is known (every value is then taken as it comes). */
  readonly schema: SchemaNode | undefined;
  /**
   * Fields the write's strategy resets, which nobody gains by writing them (upstream's ResetFieldsFor).
   * Defaults to status for the main resource and spec for the status subresource.
   */
  readonly resetFields?: readonly FieldPath[];
}

// What upstream strips from the writer's set: identity and bookkeeping that nobody manages.
const strippedFields = FieldSet.of(
  fieldPath('apiVersion'),
  fieldPath('kind'),
  fieldPath('metadata'),
  fieldPath('metadata', 'name'),
  fieldPath('metadata', 'namespace'),
  fieldPath('metadata', 'creationTimestamp'),
  fieldPath('metadata', 'selfLink'),
  fieldPath('metadata', 'uid'),
  fieldPath('metadata', 'clusterName'),
  fieldPath('metadata', 'generation'),
  fieldPath('metadata', 'managedFields'),
  fieldPath('metadata', 'resourceVersion'),
);

// Upstream's limit on a field manager's name (validation.FieldManagerMaxLength), in UTF-8 bytes.
const fieldManagerMaxLength = 128;
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/**
 * The field manager a request writes as: `fieldManager` when the request names one, else the User-Agent up
 * to its first "/" ("kubectl-create/v1.33.0 (linux/amd64) kubernetes/abc" → "kubectl-create"), without
 * unprintable characters and cut to 128 bytes.
 */
export function managerFromUserAgent(userAgent: string | undefined, fieldManager?: string): string {
  if (fieldManager !== undefined && fieldManager !== '') return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (!printable.test(ch)) continue;
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > fieldManagerMaxLength) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** One decoded managedFields entry: who, how, in which version, when, and the fields. */
interface ManagedSet {
  manager: string | undefined;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource: string | undefined;
  time: string | undefined;
  set: FieldSet;
}

/**
 * Upstream's manager identifier: the entry without fields, time and type; appliers without apiVersion, so
 * one applier keeps one entry across versions.
 */
function identity(e: Omit<ManagedSet, 'set' | 'time'>): string {
  return JSON.stringify([
    e.manager ?? '',
    e.operation,
    e.operation === 'Apply' ? '' : e.apiVersion,
    e.subresource ?? '',
  ]);
}

/** Decodes managedFields; throws on anything upstream's DecodeManagedFields refuses. */
function decodeManagedFields(entries: readonly JsonValue[]): Map<string, ManagedSet> {
  const out = new Map<string, ManagedSet>();
  entries.forEach((raw, i) => {
    if (!isJsonObject(raw)) throw new Error(`managed fields entry ${i} is not an object`);
    const { manager, operation, apiVersion, time, fieldsType, fieldsV1, subresource } = raw;
    if (operation !== 'Apply' && operation !== 'Update')
      throw new Error('operation must be `Apply` or `Update`');
    if (typeof apiVersion !== 'string' || apiVersion === '') throw new Error('apiVersion must not be empty');
    if (fieldsType === undefined || fieldsType === '')
      throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (fieldsType !== 'FieldsV1')
      throw new Error(`invalid fieldsType ${JSON.stringify(fieldsType)} in managed fields entry ${i}`);
    const entry: ManagedSet = {
      manager: typeof manager === 'string' ? manager : undefined,
      operation,
      apiVersion,
      subresource: typeof subresource === 'string' && subresource !== '' ? subresource : undefined,
      time: typeof time === 'string' ? time : undefined,
      set: fieldsV1 === undefined || fieldsV1 === null ? new FieldSet() : FieldSet.fromFieldsV1(fieldsV1),
    };
    out.set(identity(entry), entry);
  });
  return out;
}

function managedFieldsOf(obj: JsonObject | undefined): JsonValue | undefined {
  const metadata = obj?.metadata;
  return isJsonObject(metadata) ? metadata.managedFields : undefined;
}

/** Decoded entries, or undefined when they cannot be decoded. */
function tryDecode(value: JsonValue | undefined): Map<string, ManagedSet> | undefined {
  if (value === undefined || value === null) return new Map();
  if (!Array.isArray(value)) return undefined;
  try {
    return decodeManagedFields(value);
  } catch {
    return undefined;
  }
}

/** `[]` or `[{}]`: the request asks for managedFields to start over. */
function isReset(value: JsonValue | undefined): boolean {
  if (!Array.isArray(value)) return false;
  if (value.length === 0) return true;
  const only = value[0];
  return value.length === 1 && isJsonObject(only) && Object.keys(only).length === 0;
}

/**
 * The entries the write starts from: the request's own when it sends decodable ones (that is how clients
 * edit managedFields), else the stored object's. Subresource writes always start from the stored ones.
 */
function startingEntries(
  old: JsonObject | undefined,
  next: JsonObject,
  subresource: string | undefined,
): Map<string, ManagedSet> {
  const stored = (): Map<string, ManagedSet> =>
    tryDecode(managedFieldsOf(old)) ?? new Map<string, ManagedSet>();
  if (subresource !== undefined) return stored();
  const sent = managedFieldsOf(next);
  if (isReset(sent)) return new Map();
  const decoded = tryDecode(sent);
  return decoded === undefined || decoded.size === 0 ? stored() : decoded;
}

function withoutManagedFields(obj: JsonObject): JsonObject {
  const metadata = obj.metadata;
  if (!isJsonObject(metadata) || !('managedFields' in metadata)) return obj;
  const { managedFields: _dropped, ...rest } = metadata;
  return { ...obj, metadata: rest };
}

function splitAPIVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * The object a create compares against: upstream compares with a new, empty Go object of the kind, whose
 * JSON holds the structs it embeds by value (spec, template, strategy, ...) and nulls for non-omitempty
 * nil fields. Those nodes therefore count as existing before the create and get no "." of their own. The
 * protobuf message table knows the Go shapes; kinds it does not know (custom resources) start empty.
 */
function emptyObjectOf(obj: JsonObject, apiVersion: string): JsonObject {
  const kind = obj.kind;
  if (typeof kind !== 'string') return {};
  const cacheKey = `${apiVersion}/${kind}`;
  let zero = emptyObjects.get(cacheKey);
  if (zero === undefined) {
    const registry = MessageRegistry.builtin();
    const { group, version } = splitAPIVersion(apiVersion);
    const name = registry.messageFor(group, version, kind);
    const decoded = name === undefined ? {} : (decodeMessage(registry, name, new Uint8Array(0)) as JsonValue);
    zero = deepFreeze(isJsonObject(decoded) ? decoded : {});
    emptyObjects.set(cacheKey, zero);
  }
  return zero;
}

/** The empty objects by apiVersion and kind, made once (frozen: comparisons only read them). */
const emptyObjects = new Map<string, JsonObject>();


/** metav1.Time's JSON: RFC 3339 in UTC, whole seconds. */
function formatTime(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function unixSeconds(time: string | undefined): number {
  if (time === undefined) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Upstream's order: by operation, then time (in seconds), manager, apiVersion and subresource. */
function compareEntries(p: ManagedSet, q: ManagedSet): number {
  return (
    compareText(p.operation, q.operation) ||
    unixSeconds(p.time) - unixSeconds(q.time) ||
    compareText(p.manager ?? '', q.manager ?? '') ||
    compareText(p.apiVersion, q.apiVersion) ||
    compareText(p.subresource ?? '', q.subresource ?? '')
  );
}

function encodeEntry(e: ManagedSet): ManagedFieldsEntry {
  // Field order and omissions follow the Go struct's JSON (every member is omitempty).
  const out: ManagedFieldsEntry = {};
  if (e.manager !== undefined && e.manager !== '') out.manager = e.manager;
  out.operation = e.operation;
  out.apiVersion = e.apiVersion;
  if (e.time !== undefined) out.time = e.time;
  out.fieldsType = 'FieldsV1';
  out.fieldsV1 = e.set.toFieldsV1();
  if (e.subresource !== undefined) out.subresource = e.subresource;
  return out;
}

/**
 * The managedFields a create, update or patch leaves on the object (upstream's Update operation): the
 * request's manager gains every field the write added or changed (for a create, every field), other
 * managers lose the fields that changed, everybody loses removed fields, and entries left empty go. There
 * is one entry per manager, operation, apiVersion and subresource; an entry's time moves only when the
 * write gave its manager something. An empty result means the object carries no managedFields. Neither
 * object is changed.
 */
export function updateManagedFields(options: UpdateManagedFieldsOptions): ManagedFieldsEntry[] {
  const { old, new: next, manager, apiVersion, time, schema } = options;
  const subresource = options.subresource === '' ? undefined : options.subresource;
  const managed = startingEntries(old, next, subresource);
  const reset = FieldSet.of(
    ...(options.resetFields ?? [subresource === 'status' ? fieldPath('spec') : fieldPath('status')]),
  );

  const before = withoutManagedFields(old ?? emptyObjectOf(next, apiVersion));
  const after = withoutManagedFields(next);
  const cmp = compareObjects(schema, before, after);
  const added = cmp.added.recursiveDifference(reset);
  const modified = cmp.modified.recursiveDifference(reset);
  const removed = cmp.removed.recursiveDifference(reset);
  const changed = added.union(modified);

  // Every existing entry, the writer's own included, gives up what changed or went away; the writer then
  // takes the changes back in its own entry.
  for (const [key, entry] of managed) {
    const rest = entry.set.difference(changed).difference(removed);
    if (rest.isEmpty()) managed.delete(key);
    else entry.set = rest;
  }
  const gained = changed.recursiveDifference(reset).difference(strippedFields);
  if (!gained.isEmpty()) {
    const mine: Omit<ManagedSet, 'set' | 'time'> = {
      manager,
      operation: 'Update',
      apiVersion,
      subresource,
    };
    const key = identity(mine);
    const previous = managed.get(key);
    managed.set(key, {
      ...mine,
      time: formatTime(time),
      set: previous === undefined ? gained : gained.union(previous.set),
    });
  }
  return [...managed.values()].sort(compareEntries).map(encodeEntry);
}

/** A copy of `obj` with `entries` as its metadata.managedFields (none when empty, as upstream stores it). */
export function withManagedFields(obj: JsonObject, entries: readonly ManagedFieldsEntry[]): JsonObject {
  const copy = cloneJson(obj);
  const metadata = isJsonObject(copy.metadata) ? copy.metadata : {};
  if (entries.length === 0) delete metadata.managedFields;
  else metadata.managedFields = entries as unknown as JsonValue;
  copy.metadata = metadata;
  return copy;
}
