// JSON Patch (RFC 6902) as the API server applies it for application/json-patch+json. Upstream applies
// these with evanphx/json-patch v4, whose behaviour departs from the RFC in ways clients can observe, and we
// follow it: "replace" of a missing object member adds it, "add" at "" is refused, negative array indices
// count from the end, copying or moving from a missing member yields null, and every failure carries that
// library's wording. The API server answers decoding failures with 400 and the library's message, more than
// 10000 operations with 413, and any failure while applying with 422 and a generic message.
import { goJsonLength, jsonKind } from './go-format.js';
import { cannotUnmarshal, patchErrors } from './patch-error.js';
import {
  cloneJson,
  hasKey,
  isJsonObject,
  jsonEqual,
  setKey,
  type JsonObject,
  type JsonValue,
} from './json-value.js';

/** One decoded operation: its members as sent (any may be missing or of any type), or null for a JSON null. */
export type JsonPatchOperation = Readonly<JsonObject> | null;

/** The most operations one patch may hold (kube-apiserver's maxJSONPatchOperations). */
export const maxJsonPatchOperations = 10000;

/** kube-apiserver's default limit on the bytes "copy" operations may add to a document (3 MiB). */
export const defaultMaxCopyBytes = 3 * 1024 * 1024;

/** The fields of the struct the API server decodes operations into when validating them strictly. */
const strictFields = new Set(['op', 'path', 'from', 'value']);

/** A patch body checked and split into operations, with the unknown-field findings of strict decoding. */
export interface DecodedJsonPatch {
  operations: JsonPatchOperation[];
  /** For fieldValidation Strict or Warn: one 'json patch unknown field "x"' per unknown member. */
  strictErrors: string[];
}

/**
 * Checks a parsed application/json-patch+json body as the API server does before applying it; `strict`
 * when fieldValidation is Strict or Warn. Throws a 400 PatchError for a body of the wrong shape and a 413
 * one for too many operations.
 */
export function decodeJsonPatch(body: JsonValue, options: { strict?: boolean } = {}): DecodedJsonPatch {
  const strictErrors: string[] = [];
  if (options.strict === true) {
    const typeError = strictTypeError(body, strictErrors);
    if (typeError !== undefined) throw patchErrors.badRequest(`error decoding patch: ${typeError}`);
  }
  if (body === null) return { operations: [], strictErrors };
  if (!Array.isArray(body)) throw patchErrors.badRequest(cannotUnmarshal(jsonKind(body), 'jsonpatch.Patch'));
  const operations: JsonPatchOperation[] = [];
  for (const op of body) {
    if (op !== null && !isJsonObject(op)) {
      throw patchErrors.badRequest(cannotUnmarshal(jsonKind(op), 'jsonpatch.Operation'));
    }
    operations.push(op);
  }
  if (operations.length > maxJsonPatchOperations) {
    throw patchErrors.tooLarge(
      `The allowed maximum operations in a JSON patch is ${maxJsonPatchOperations}, got ${operations.length}`,
    );
  }
  return { operations, strictErrors };
}

/** The first type error of decoding into []struct{op, path, from string; value any}; collects unknown fields. */
function strictTypeError(body: JsonValue, unknown: string[]): string | undefined {
  if (body === null) return undefined;
  if (!Array.isArray(body)) return cannotUnmarshal(jsonKind(body), '[]handlers.jsonPatchOp');
  let first: string | undefined;
  for (const op of body) {
    if (op === null) continue;
    if (!isJsonObject(op)) {
      first ??= cannotUnmarshal(jsonKind(op), 'handlers.jsonPatchOp');
      continue;
    }
    for (const [k, v] of Object.entries(op)) {
      if (!strictFields.has(k)) unknown.push(`json patch unknown field "${k}"`);
      else if (k !== 'value' && v !== null && typeof v !== 'string') {
        first ??= `json: cannot unmarshal ${jsonKind(v)} into Go struct field jsonPatchOp.${k} of type string`;
      }
    }
  }
  return first;
}

type Container = JsonObject | JsonValue[];

const missing = 'missing value';
const invalidIndex = 'invalid index referenced';

/** strconv.Atoi as Go words its failures. */
function atoi(key: string): number {
  if (!/^[+-]?[0-9]+$/.test(key))
    throw new Error(`strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  const n = Number(key);
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    throw new Error(`strconv.Atoi: parsing ${JSON.stringify(key)}: value out of range`);
  }
  return n;
}

function badIndex(idx: number): Error {
  return new Error(`Unable to access invalid index: ${idx}: ${invalidIndex}`);
}

/** The index `key` names in an array of `length`, for reading, replacing or removing. */
function existingIndex(key: string, length: number): number {
  let idx = atoi(key);
  if (idx >= length) throw badIndex(idx);
  if (idx < 0) {
    if (idx < -length) throw badIndex(idx);
    idx += length;
  }
  return idx;
}

function containerGet(c: Container, key: string): JsonValue | undefined {
  if (!Array.isArray(c)) return hasKey(c, key) ? c[key] : undefined;
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.length) throw badIndex(idx);
    idx += c.length;
  }
  if (idx >= c.length) throw badIndex(idx);
  return c[idx];
}

function containerAdd(c: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(c)) {
    setKey(c, key, value);
    return;
  }
  if (key === '-') {
    c.push(value);
    return;
  }
  let idx: number;
  try {
    idx = atoi(key);
  } catch (err) {
    throw new Error(`value was not a proper array index: '${key}': ${(err as Error).message}`);
  }
  const size = c.length + 1;
  if (idx >= size) throw badIndex(idx);
  if (idx < 0) {
    if (idx < -size) throw badIndex(idx);
    idx += size;
  }
  c.splice(idx, 0, value);
}

function containerRemove(c: Container, key: string): void {
  if (!Array.isArray(c)) {
    if (!hasKey(c, key)) throw new Error(`Unable to remove nonexistent key: ${key}: ${missing}`);
    delete c[key];
    return;
  }
  c.splice(existingIndex(key, c.length), 1);
}

function containerSet(c: Container, key: string, value: JsonValue): void {
  if (!Array.isArray(c)) {
    setKey(c, key, value);
    return;
  }
  let idx = atoi(key);
  if (idx < 0) {
    if (idx < -c.length) throw badIndex(idx);
    idx += c.length;
  }
  c[idx] = value;
}

function decodePointerToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The container holding the member a pointer names, and that member's key; undefined where the path breaks. */
function findObject(root: Container, pointer: string): { container: Container; key: string } | undefined {
  const parts = pointer.split('/');
  if (parts.length < 2) return undefined;
  let current: Container = root;
  for (const part of parts.slice(1, -1)) {
    let next: JsonValue | undefined;
    try {
      next = containerGet(current, decodePointerToken(part));
    } catch {
      return undefined;
    }
    if (Array.isArray(next) || isJsonObject(next)) current = next;
    else return undefined;
  }
  return { container: current, key: decodePointerToken(parts[parts.length - 1] as string) };
}

/** A string member of an operation, or the error the library gives when it is missing or not a string. */
function stringMember(op: JsonPatchOperation, name: 'path' | 'from'): string | Error {
  const v = op === null || !hasKey(op, name) ? null : (op[name] ?? null);
  if (typeof v === 'string') return v;
  if (v === null) {
    return new Error(
      name === 'path'
        ? `operation missing path field: ${missing}`
        : `operation, missing from field: ${missing}`,
    );
  }
  return new Error(cannotUnmarshal(jsonKind(v), 'string'));
}

function kindOf(op: JsonPatchOperation): string {
  const v = op === null || !hasKey(op, 'op') ? null : op.op;
  return typeof v === 'string' ? v : 'unknown';
}

/** The operation's value: undefined when it has none (the library then adds null, and tests fail). */
function valueOf(op: JsonPatchOperation): JsonValue | undefined {
  return op !== null && hasKey(op, 'value') ? cloneJson(op.value as JsonValue) : undefined;
}

/**
 * Applies decoded operations to a document and returns the result; `doc` is not changed. Throws a 422
 * PatchError (message: the library's error) when an operation does not apply.
 */
export function applyJsonPatch(
  doc: JsonValue,
  operations: readonly JsonPatchOperation[],
  options: { maxCopyBytes?: number } = {},
): JsonValue {
  if (!Array.isArray(doc) && !isJsonObject(doc)) {
    throw patchErrors.unclassified(cannotUnmarshal(jsonKind(doc), 'jsonpatch.partialDoc'));
  }
  const state = {
    root: cloneJson<Container>(doc),
    copied: 0,
    maxCopyBytes: options.maxCopyBytes ?? defaultMaxCopyBytes,
  };
  for (const op of operations) {
    try {
      applyOne(state, op);
    } catch (err) {
      throw patchErrors.invalid((err as Error).message);
    }
  }
  return state.root;
}

interface ApplyState {
  root: Container;
  copied: number;
  maxCopyBytes: number;
}

function applyOne(state: ApplyState, op: JsonPatchOperation): void {
  const kind = kindOf(op);
  switch (kind) {
    case 'add':
      return add(state, op);
    case 'remove':
      return remove(state, op);
    case 'replace':
      return replace(state, op);
    case 'move':
      return move(state, op);
    case 'test':
      return test(state, op);
    case 'copy':
      return copy(state, op);
    default:
      throw new Error(`Unexpected kind: ${kind}`);
  }
}

function add(state: ApplyState, op: JsonPatchOperation): void {
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`add operation failed to decode path: ${missing}`);
  const target = findObject(state.root, path);
  if (target === undefined)
    throw new Error(`add operation does not apply: doc is missing path: "${path}": ${missing}`);
  try {
    containerAdd(target.container, target.key, valueOf(op) ?? null);
  } catch (err) {
    throw new Error(`error in add for path: '${path}': ${(err as Error).message}`);
  }
}

function remove(state: ApplyState, op: JsonPatchOperation): void {
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`remove operation failed to decode path: ${missing}`);
  const target = findObject(state.root, path);
  if (target === undefined) {
    throw new Error(`remove operation does not apply: doc is missing path: "${path}": ${missing}`);
  }
  try {
    containerRemove(target.container, target.key);
  } catch (err) {
    throw new Error(`error in remove for path: '${path}': ${(err as Error).message}`);
  }
}

function replace(state: ApplyState, op: JsonPatchOperation): void {
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`replace operation failed to decode path: ${path.message}`);
  if (path === '') {
    const value = valueOf(op);
    // Upstream wraps a nil error here, which Go prints as %!w(<nil>).
    if (!Array.isArray(value) && !isJsonObject(value)) {
      throw new Error('replace operation value must be object or array: %!w(<nil>)');
    }
    state.root = value;
    return;
  }
  const target = findObject(state.root, path);
  if (target === undefined)
    throw new Error(`replace operation does not apply: doc is missing path: ${path}: ${missing}`);
  try {
    containerGet(target.container, target.key);
  } catch {
    throw new Error(`replace operation does not apply: doc is missing key: ${path}: ${missing}`);
  }
  try {
    containerSet(target.container, target.key, valueOf(op) ?? null);
  } catch (err) {
    throw new Error(`error in remove for path: '${path}': ${(err as Error).message}`);
  }
}

function move(state: ApplyState, op: JsonPatchOperation): void {
  const from = stringMember(op, 'from');
  if (from instanceof Error) throw new Error(`move operation failed to decode from: ${from.message}`);
  const source = findObject(state.root, from);
  if (source === undefined) {
    throw new Error(`move operation does not apply: doc is missing from path: ${from}: ${missing}`);
  }
  let value: JsonValue | undefined;
  try {
    value = containerGet(source.container, source.key);
    containerRemove(source.container, source.key);
  } catch (err) {
    throw new Error(`error in move for path: '${source.key}': ${(err as Error).message}`);
  }
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`move operation failed to decode path: ${path.message}`);
  const target = findObject(state.root, path);
  if (target === undefined) {
    throw new Error(`move operation does not apply: doc is missing destination path: ${path}: ${missing}`);
  }
  try {
    containerAdd(target.container, target.key, value ?? null);
  } catch (err) {
    throw new Error(`error in move for path: '${path}': ${(err as Error).message}`);
  }
}

function test(state: ApplyState, op: JsonPatchOperation): void {
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`test operation failed to decode path: ${path.message}`);
  const expected = valueOf(op);
  const failed = new Error(`testing value ${path} failed: test failed`);
  if (path === '') {
    if (expected === undefined || !jsonEqual(state.root, expected)) throw failed;
    return;
  }
  const target = findObject(state.root, path);
  if (target === undefined)
    throw new Error(`test operation does not apply: is missing path: ${path}: ${missing}`);
  let actual: JsonValue | undefined;
  try {
    actual = containerGet(target.container, target.key);
  } catch (err) {
    throw new Error(`error in test for path: '${path}': ${(err as Error).message}`);
  }
  // The library cannot tell a missing member from a null one, nor an absent value from a null one.
  if (actual === undefined || actual === null) {
    if (expected === undefined || expected === null) return;
    throw failed;
  }
  if (expected === undefined || !jsonEqual(actual, expected)) throw failed;
}

function copy(state: ApplyState, op: JsonPatchOperation): void {
  const from = stringMember(op, 'from');
  if (from instanceof Error) throw new Error(`copy operation failed to decode from: ${from.message}`);
  const source = findObject(state.root, from);
  if (source === undefined) {
    throw new Error(`copy operation does not apply: doc is missing from path: ${from}: ${missing}`);
  }
  let value: JsonValue | undefined;
  try {
    value = containerGet(source.container, source.key);
  } catch (err) {
    throw new Error(`error in copy for from: '${from}': ${(err as Error).message}`);
  }
  const path = stringMember(op, 'path');
  if (path instanceof Error) throw new Error(`copy operation failed to decode path: ${missing}`);
  const target = findObject(state.root, path);
  if (target === undefined) {
    throw new Error(`copy operation does not apply: doc is missing destination path: ${path}: ${missing}`);
  }
  const copied = value === undefined || value === null ? null : cloneJson(value);
  state.copied += copied === null ? 0 : goJsonLength(copied);
  if (state.maxCopyBytes > 0 && state.copied > state.maxCopyBytes) {
    throw new Error(
      `Unable to complete the copy, the accumulated size increase of copy is ${state.copied}, exceeding the limit ${state.maxCopyBytes}`,
    );
  }
  try {
    containerAdd(target.container, target.key, copied);
  } catch (err) {
    throw new Error(`error while adding value during copy: ${(err as Error).message}`);
  }
}
