// Strategic merge patch, the API server side (k8s.io/apimachinery/pkg/util/strategicpatch): a JSON merge
// patch in which the schema decides, member by member, how lists combine. A list whose field has patch
// strategy "merge" is merged: objects by their merge key (containers by name, ports by containerPort),
// scalars as a set; other lists are replaced. Directives in the patch steer the rest:
//   {"$patch": "replace"} in an object replaces it, {"$patch": "delete"} empties it; in a merged list
//   {"<key>": v, "$patch": "delete"} removes that element and {"$patch": "replace"} makes the list exactly
//   the patch's other elements;
//   "$setElementOrder/<list>": [...] gives the order of the merged list (kubectl apply sends it);
//   "$deleteFromPrimitiveList/<list>": [...] removes scalars from a list;
//   "$retainKeys": [...] (fields with strategy retainKeys) clears every member not listed;
//   null deletes a member.
// The algorithm follows upstream step by step, because kubectl's patches rely on its details: the order
// merged lists come out in (upstream's stable sort, quirks included), which errors win, and their wording.
import { goFormat, goStringVerb, goTypeName, jsonKind } from './go-format.js';
import { GoSlice } from './go-slice.js';
import { cannotUnmarshal, PatchError, patchErrors } from './patch-error.js';
import { patchMetaLookup, type PatchMetaLookup } from './patch-meta.js';
import { cloneJson, hasKey, isJsonObject, setKey, type JsonObject, type JsonValue } from './json-value.js';
import type { SchemaNode } from '../openapi/schema-node.js';

const directiveMarker = '$patch';
const deleteDirective = 'delete';
const replaceDirective = 'replace';
const mergeDirective = 'merge';
const retainKeysStrategy = 'retainKeys';
const retainKeysDirective = '$retainKeys';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList';
const setElementOrderPrefix = '$setElementOrder';

// The errors the API server answers with 400 (and their text as the message) or with a generic 422.
const errBadPatchFormatForPrimitiveList = 'invalid patch format of primitive list';
const errBadPatchFormatForRetainKeys = 'invalid patch format of retainKeys';
const errBadPatchFormatForSetElementOrderList = 'invalid patch format of setElementOrder list';
const errNoListOfLists = 'lists of lists are not supported';
const badRequestMessages = new Set([
  errBadPatchFormatForPrimitiveList,
  errBadPatchFormatForRetainKeys,
  errBadPatchFormatForSetElementOrderList,
]);

class SmpError extends Error {}

function fail(message: string): never {
  throw new SmpError(message);
}

function errNoMergeKey(m: JsonObject, key: string): never {
  fail(`map: ${goFormat(m)} does not contain declared merge key: ${key}`);
}

/** mergepatch.ErrBadArgType: what was expected, by the Go type name of the variable it was read into. */
function errBadArgType(expected: 'map' | 'slice', actual: JsonValue | undefined): never {
  fail(
    `expected a ${expected === 'map' ? 'map[string]interface {}' : '[]interface {}'}, but received a ${goTypeName(actual)}`,
  );
}

/** The Go type of a decoded JSON value, for "are these the same type" decisions. */
type GoType = 'map' | 'slice' | 'string' | 'number' | 'bool' | 'nil';

function goType(v: JsonValue | undefined): GoType {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return 'slice';
  if (isJsonObject(v)) return 'map';
  return typeof v === 'boolean' ? 'bool' : (typeof v as 'string' | 'number');
}

/** Go's == on two decoded scalars (maps and slices never compare equal here). */
function scalarEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  return typeof a !== 'object' && a === b;
}

/**
 * Applies a strategic merge patch to `original` as the API server does, with `schema` the schema of the
 * object's kind. Without one (a kind the schema does not know) nothing has a strategy, so lists replace and
 * objects merge as in a JSON merge patch, directives still honoured; note that upstream's API server refuses
 * strategic merge patches of custom resources outright (415) before it gets this far. Neither argument is
 * changed. Throws a PatchError carrying the Status upstream answers with.
 */
export function strategicMergePatch(
  original: JsonObject,
  patch: JsonValue,
  schema: SchemaNode | undefined,
): JsonObject {
  // The API server decodes the body into a map first; JSON null decodes to an empty one.
  if (patch === null) return cloneJson(original);
  if (!isJsonObject(patch))
    throw patchErrors.badRequest(cannotUnmarshal(jsonKind(patch), 'map[string]interface {}'));
  try {
    return mergeMap(cloneJson(original), cloneJson(patch), patchMetaLookup(schema));
  } catch (err) {
    if (err instanceof PatchError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (badRequestMessages.has(message)) throw patchErrors.badRequest(message);
    if (message === errNoListOfLists) throw patchErrors.invalid(message);
    throw patchErrors.unclassified(message);
  }
}

function handleDirectiveInMergeMap(directive: JsonValue, patch: JsonObject): JsonObject {
  if (directive === replaceDirective) {
    delete patch[directiveMarker];
    return patch;
  }
  if (directive === deleteDirective) return {};
  fail(`unknown patch type: ${goStringVerb(directive)} in map: ${goFormat(patch)}`);
}

function containsDirectiveMarker(item: JsonValue | undefined): boolean {
  return isJsonObject(item) && hasKey(item, directiveMarker);
}

function mergeKeyValueEqual(
  left: JsonValue | undefined,
  right: JsonValue | undefined,
  mergeKey: string,
): boolean {
  if (mergeKey === '') return scalarEqual(left, right);
  if (!isJsonObject(left)) errBadArgType('map', left);
  if (!isJsonObject(right)) errBadArgType('map', right);
  if (!hasKey(left, mergeKey)) errNoMergeKey(left, mergeKey);
  if (!hasKey(right, mergeKey)) errNoMergeKey(right, mergeKey);
  return scalarEqual(left[mergeKey], right[mergeKey]);
}

/** The list name after a directive prefix ("$setElementOrder/containers" → "containers"). */
function extractKey(s: string, prefix: string): string {
  const slash = s.indexOf('/');
  if (slash < 0 || s.slice(0, slash) !== prefix) {
    if (prefix === deleteFromPrimitiveListPrefix) fail(errBadPatchFormatForPrimitiveList);
    if (prefix === setElementOrderPrefix) fail(errBadPatchFormatForSetElementOrderList);
    fail(`fail to find unknown prefix "${prefix}" in ${s}\n`);
  }
  return s.slice(slash + 1);
}

/** Elements without `$patch: delete`, and those with it. */
function extractToDeleteItems(l: readonly JsonValue[]): [JsonValue[], JsonValue[]] {
  const keep: JsonValue[] = [];
  const toDelete: JsonValue[] = [];
  for (const v of l) {
    if (!isJsonObject(v)) errBadArgType('map', v);
    if (hasKey(v, directiveMarker) && v[directiveMarker] === deleteDirective) toDelete.push(v);
    else keep.push(v);
  }
  return [keep, toDelete];
}

/** The patch list must list its elements (deletions aside) in an order consistent with $setElementOrder. */
function validatePatchWithSetOrderList(
  patchList: JsonValue[] | undefined,
  setOrderList: JsonValue[],
  mergeKey: string,
): void {
  if (setOrderList.length === 0 || patchList === undefined || patchList.length === 0) return;
  const nonDelete = mergeKey !== '' ? extractToDeleteItems(patchList)[0] : patchList;
  let p = 0;
  let s = 0;
  while (p < nonDelete.length && s < setOrderList.length) {
    if (containsDirectiveMarker(nonDelete[p])) {
      p++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[p], setOrderList[s], mergeKey)) p++;
    s++;
  }
  if (p < nonDelete.length && s >= setOrderList.length) {
    fail(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${setElementOrderPrefix} list:\n${goFormat(setOrderList)}\n`,
    );
  }
}

function applyRetainKeysDirective(original: JsonObject, patch: JsonObject): void {
  if (!hasKey(patch, retainKeysDirective)) return;
  const retainKeys = patch[retainKeysDirective];
  delete patch[retainKeysDirective];
  if (!Array.isArray(retainKeys)) fail(errBadPatchFormatForRetainKeys);
  const retained = new Set<JsonValue>(retainKeys);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith(deleteFromPrimitiveListPrefix) || k.startsWith(setElementOrderPrefix))
      continue;
    if (!retained.has(k)) fail(errBadPatchFormatForRetainKeys);
  }
  for (const k of Object.keys(original)) if (!retained.has(k)) delete original[k];
}

/** Upstream's patch strategies reduced to (has retainKeys, the other strategy). */
function extractRetainKeysPatchStrategy(strategies: readonly string[]): [boolean, string] {
  switch (strategies.length) {
    case 0:
      return [false, ''];
    case 1: {
      const only = strategies[0] as string;
      return only === retainKeysStrategy ? [true, ''] : [false, only];
    }
    case 2:
      if (strategies[0] === retainKeysStrategy) return [true, strategies[1] as string];
      if (strategies[1] === retainKeysStrategy) return [true, strategies[0] as string];
      break;
  }
  fail(`unexpected patch strategy: [${strategies.join(' ')}]`);
}

/** Handles each "$setElementOrder/<list>" with its list: merge the list, then order it as told. */
function mergePatchIntoOriginal(original: JsonObject, patch: JsonObject, schema: PatchMetaLookup): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(setElementOrderPrefix)) continue;
    const setElementOrder = patch[key];
    delete patch[key];
    if (!Array.isArray(setElementOrder)) errBadArgType('slice', setElementOrder);
    const listKey = extractKey(key, setElementOrderPrefix);
    const foundOriginal = hasKey(original, listKey);
    const foundPatch = hasKey(patch, listKey);
    let originalList: JsonValue[] | undefined;
    let patchList: JsonValue[] | undefined;
    if (foundOriginal) {
      const v = original[listKey];
      if (!Array.isArray(v)) errBadArgType('slice', v);
      originalList = v;
    }
    if (foundPatch) {
      const v = patch[listKey];
      if (!Array.isArray(v)) errBadArgType('slice', v);
      patchList = v;
    }
    const { meta, schema: elementSchema } = schema.lookupSlice(listKey);
    const [, patchStrategy] = extractRetainKeysPatchStrategy(meta.patchStrategies);
    const mergeKey = meta.patchMergeKey;
    validatePatchWithSetOrderList(patchList, setElementOrder, mergeKey);

    let merged: JsonValue[];
    if (originalList !== undefined && patchList === undefined) merged = originalList;
    else if (originalList === undefined && patchList !== undefined)
      merged = removeDirectives(patchList)[0] as JsonValue[];
    else if (originalList !== undefined && patchList !== undefined)
      merged = mergeSliceHandler(originalList, patchList, elementSchema, patchStrategy, mergeKey, false);
    else continue;

    const [patchItems, serverOnlyItems] =
      mergeKey === ''
        ? partitionPrimitivesByPresentInList(merged, setElementOrder)
        : partitionMapsByPresentInList(merged, setElementOrder, mergeKey);
    // originalList now shows what upstream's caller-side slice shows after the merge wrote through it.
    const kind = sliceElementType([originalList ?? [], patchList ?? []]);
    setKey(
      original,
      listKey,
      normalizeElementOrder(patchItems, serverOnlyItems, setElementOrder, originalList ?? [], mergeKey, kind),
    );
    delete patch[listKey];
  }
}

function partitionPrimitivesByPresentInList(
  list: readonly JsonValue[],
  partitionBy: readonly JsonValue[],
): [JsonValue[], JsonValue[]] {
  const present: JsonValue[] = [];
  const absent: JsonValue[] = [];
  for (const v of list) (partitionBy.some((p) => scalarEqual(p, v)) ? present : absent).push(v);
  return [present, absent];
}

function partitionMapsByPresentInList(
  list: readonly JsonValue[],
  partitionBy: readonly JsonValue[],
  mergeKey: string,
): [JsonValue[], JsonValue[]] {
  const present: JsonValue[] = [];
  const absent: JsonValue[] = [];
  for (const v of list) {
    if (!isJsonObject(v)) errBadArgType('map', v);
    if (!hasKey(v, mergeKey)) errNoMergeKey(v, mergeKey);
    (findMapInSliceBasedOnKeyValue(partitionBy, mergeKey, v[mergeKey]) !== undefined ? present : absent).push(
      v,
    );
  }
  return [present, absent];
}

/** A value without directives, and whether the member holding it should stay at all. */
function removeDirectives(v: JsonValue): [JsonValue, boolean] {
  if (isJsonObject(v)) {
    if (hasKey(v, directiveMarker)) return [null, false];
    for (const k of Object.keys(v)) {
      const [nv, keep] = removeDirectives(v[k] as JsonValue);
      if (keep) setKey(v, k, nv);
      else delete v[k];
    }
    return [v, true];
  }
  if (Array.isArray(v)) {
    const out: JsonValue[] = [];
    for (const item of v) {
      const [nv, keep] = removeDirectives(item);
      if (keep) out.push(nv);
    }
    return [out, true];
  }
  return [v, true];
}

function discardNullValuesFromPatch(v: JsonValue): void {
  if (isJsonObject(v)) {
    for (const k of Object.keys(v)) {
      const child = v[k] as JsonValue;
      if (child === null) delete v[k];
      else discardNullValuesFromPatch(child);
    }
  } else if (Array.isArray(v)) {
    for (const item of v) discardNullValuesFromPatch(item);
  }
}

/** Takes a patch value where the original has nothing to merge it with. */
function takePatchValue(original: JsonObject, key: string, value: JsonValue): void {
  discardNullValuesFromPatch(value);
  const [v, keep] = removeDirectives(value);
  if (keep) setKey(original, key, v);
  else delete original[key];
}

function mergeMap(original: JsonObject, patch: JsonObject, schema: PatchMetaLookup): JsonObject {
  if (hasKey(patch, directiveMarker))
    return handleDirectiveInMergeMap(patch[directiveMarker] as JsonValue, patch);
  applyRetainKeysDirective(original, patch);
  mergePatchIntoOriginal(original, patch, schema);

  for (const patchKey of Object.keys(patch)) {
    const patchV = patch[patchKey] as JsonValue;
    let k = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(deleteFromPrimitiveListPrefix)) {
      isDeleteList = true;
      const listKey = extractKey(patchKey, deleteFromPrimitiveListPrefix);
      if (listKey !== '') k = listKey;
    }

    if (patchV === null) {
      delete original[k];
      continue;
    }
    if (!hasKey(original, k)) {
      if (!isDeleteList) takePatchValue(original, k, patchV);
      continue;
    }
    const originalV = original[k] as JsonValue;
    const type = goType(originalV);
    if (type !== goType(patchV)) {
      if (!isDeleteList) takePatchValue(original, k, patchV);
      continue;
    }
    if (type === 'map') {
      const { meta, schema: sub } = schema.lookupStruct(k);
      const [, strategy] = extractRetainKeysPatchStrategy(meta.patchStrategies);
      setKey(
        original,
        k,
        strategy !== replaceDirective ? mergeMap(originalV as JsonObject, patchV as JsonObject, sub) : patchV,
      );
    } else if (type === 'slice') {
      const { meta, schema: sub } = schema.lookupSlice(k);
      const [, strategy] = extractRetainKeysPatchStrategy(meta.patchStrategies);
      setKey(
        original,
        k,
        mergeSliceHandler(
          originalV as JsonValue[],
          patchV as JsonValue[],
          sub,
          strategy,
          meta.patchMergeKey,
          isDeleteList,
        ),
      );
    } else {
      const [v, keep] = removeDirectives(patchV);
      if (keep) setKey(original, k, v);
      else delete original[k];
    }
  }
  return original;
}

function mergeSliceHandler(
  original: JsonValue[],
  patch: JsonValue[],
  schema: PatchMetaLookup,
  strategy: string,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  // A deletion list works the same whatever the field's strategy.
  if (strategy === mergeDirective || isDeleteList)
    return mergeSlice(original, patch, schema, mergeKey, isDeleteList);
  return patch;
}

/** The one Go type of all elements of the lists; lists of lists and empty lists are errors. */
function sliceElementType(lists: readonly (readonly JsonValue[])[]): GoType {
  let prev: GoType | undefined;
  for (const list of lists) {
    for (const v of list) {
      const t = goType(v);
      if (prev === undefined) {
        prev = t;
        if (t === 'slice') fail(errNoListOfLists);
      } else if (prev !== t) {
        fail(
          `list element types are not identical: [${lists.map((l) => goFormat(l as JsonValue[])).join(' ')}]`,
        );
      }
    }
  }
  if (prev === undefined) fail('no elements in any of the given slices');
  return prev;
}

/**
 * Merges a list whose field has strategy "merge" (or a deletion list). Writes go through to `original`'s
 * array as they do through upstream's slices (see GoSlice); the caller may read that array afterwards.
 */
function mergeSlice(
  original: JsonValue[],
  patch: JsonValue[],
  schema: PatchMetaLookup,
  mergeKey: string,
  isDeleteList: boolean,
): JsonValue[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementType([original, patch]);
  const originalSlice = GoSlice.over(original);
  let serverOrder: JsonValue[];
  let merged: JsonValue[];
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicateScalars(originalSlice.append(...patch)).toArray();
    serverOrder = originalSlice.toArray();
  } else {
    if (mergeKey === '') fail(`cannot merge lists without merge key for ${schema.name}`);
    const [remaining, rest] = mergeSliceWithSpecialElements(originalSlice, patch, mergeKey);
    serverOrder = remaining.toArray();
    patch = rest;
    merged = mergeSliceWithoutSpecialElements(remaining, patch, mergeKey, schema).toArray();
  }
  const [patchItems, serverOnlyItems] =
    mergeKey === ''
      ? partitionPrimitivesByPresentInList(merged, patch)
      : partitionMapsByPresentInList(merged, patch, mergeKey);
  return normalizeElementOrder(patchItems, serverOnlyItems, patch, serverOrder, mergeKey, kind);
}

/**
 * Applies the `$patch` elements of a merged list: deletions (in place, shifting the shared array as Go's
 * append does), and replace, after which the list is the patch's other elements. Returns the list to merge
 * into and the patch's plain elements.
 */
function mergeSliceWithSpecialElements(
  original: GoSlice,
  patch: JsonValue[],
  mergeKey: string,
): [GoSlice, JsonValue[]] {
  const plain: JsonValue[] = [];
  let replace = false;
  for (const v of patch) {
    const item = v as JsonObject;
    if (!hasKey(item, directiveMarker)) {
      plain.push(v);
      continue;
    }
    const directive = item[directiveMarker] as JsonValue;
    if (directive === deleteDirective) {
      if (!hasKey(item, mergeKey)) errNoMergeKey(item, mergeKey);
      original = deleteMatchingEntries(original, mergeKey, item[mergeKey] as JsonValue);
    } else if (directive === replaceDirective) {
      replace = true;
    } else if (directive === mergeDirective) {
      fail('merging lists cannot yet be specified in the patch');
    } else {
      fail(`unknown patch type: ${goStringVerb(directive)} in map: ${goFormat(item)}`);
    }
  }
  return replace ? [GoSlice.over([...plain]), []] : [original, plain];
}

/** Removes every element whose merge key has `value`, as append(s[:i], s[i+1:]...) does. */
function deleteMatchingEntries(s: GoSlice, mergeKey: string, value: JsonValue): GoSlice {
  for (;;) {
    const found = findMapInSliceBasedOnKeyValue(s.toArray(), mergeKey, value);
    if (found === undefined) return s;
    s = s.reslice(found.index).append(...s.toArray(found.index + 1));
  }
}

function mergeSliceWithoutSpecialElements(
  original: GoSlice,
  patch: JsonValue[],
  mergeKey: string,
  schema: PatchMetaLookup,
): GoSlice {
  for (const v of patch) {
    const item = v as JsonObject;
    if (!hasKey(item, mergeKey)) errNoMergeKey(item, mergeKey);
    const found = findMapInSliceBasedOnKeyValue(original.toArray(), mergeKey, item[mergeKey]);
    if (found !== undefined) original.set(found.index, mergeMap(found.map, item, schema));
    else original = original.append(v);
  }
  return original;
}

function deleteFromSlice(current: readonly JsonValue[], toDelete: readonly JsonValue[]): JsonValue[] {
  return current.filter((v) => !toDelete.some((d) => scalarEqual(d, v)));
}

function findMapInSliceBasedOnKeyValue(
  list: readonly JsonValue[],
  key: string,
  value: JsonValue | undefined,
): { map: JsonObject; index: number } | undefined {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (!isJsonObject(v)) fail(`value for key ${i} is not a map`);
    if (hasKey(v, key) && scalarEqual(v[key], value)) return { map: v, index: i };
  }
  return undefined;
}

/** Upstream's in-place deduplication, which moves the last element into each duplicate's place. */
function deduplicateScalars(s: GoSlice): GoSlice {
  let last = s.length - 1;
  for (let i = 0; i < last; i++) {
    for (let j = i + 1; j <= last; j++) {
      if (scalarEqual(s.get(i), s.get(j))) {
        s.set(j, s.get(last));
        s = s.reslice(last);
        last--;
        j--;
      }
    }
  }
  return s;
}

/** The position of an element in a list: by merge key for objects, by value for scalars; -1 if absent. */
function indexIn(list: readonly JsonValue[], item: JsonValue, mergeKey: string, kind: GoType): number {
  const key = (v: JsonValue | undefined): JsonValue | undefined =>
    kind === 'map' ? (isJsonObject(v) ? v[mergeKey] : undefined) : v;
  const wanted = key(item);
  return list.findIndex((v) => scalarEqual(key(v), wanted));
}

/**
 * Orders a merged list: patch items in the patch's order, server-only items in the server's order, and the
 * two interleaved so that each keeps its relative order.
 */
function normalizeElementOrder(
  patch: JsonValue[],
  serverOnly: JsonValue[],
  patchOrder: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  const sortedPatch = normalizeSliceOrder(patch, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

function normalizeSliceOrder(
  toSort: JsonValue[],
  order: readonly JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  let toDelete: JsonValue[] = [];
  if (kind === 'map') {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isJsonObject(item)) errBadArgType('map', item);
        if (!hasKey(item, mergeKey)) errNoMergeKey(item, mergeKey);
      }
    }
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  // Upstream's comparison is not a strict order when an element is missing from `order` (it then answers
  // "less" both ways), so the result depends on the sort algorithm: use Go's.
  goSliceStable(toSort, (a, b) => {
    const ia = indexIn(order, a, mergeKey, kind);
    if (ia < 0) return true;
    const ib = indexIn(order, b, mergeKey, kind);
    return ib < 0 || ia < ib;
  });
  return [...toSort, ...toDelete];
}

/**
 * Inserts the elements of `left` among those of `right`: each goes before the first `right` element the
 * server's order puts after it; elements the server's order does not know go after.
 */
function mergeSortedSlice(
  left: readonly JsonValue[],
  right: readonly JsonValue[],
  serverOrder: readonly JsonValue[],
  mergeKey: string,
  kind: GoType,
): JsonValue[] {
  const out: JsonValue[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++] as JsonValue);
    else if (j >= right.length) out.push(left[i++] as JsonValue);
    else {
      const li = indexIn(serverOrder, left[i] as JsonValue, mergeKey, kind);
      const ri = indexIn(serverOrder, right[j] as JsonValue, mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++] as JsonValue);
      else out.push(right[j++] as JsonValue);
    }
  }
  return out;
}

/** Go's sort.SliceStable (insertion sort in blocks of 20, then SymMerge), with the same calls to `less`. */
function goSliceStable<T>(data: T[], lessValues: (a: T, b: T) => boolean): void {
  const n = data.length;
  const less = (i: number, j: number): boolean => lessValues(data[i] as T, data[j] as T);
  const swap = (i: number, j: number): void => {
    const t = data[i] as T;
    data[i] = data[j] as T;
    data[j] = t;
  };
  const insertionSort = (a: number, b: number): void => {
    for (let i = a + 1; i < b; i++) for (let j = i; j > a && less(j, j - 1); j--) swap(j, j - 1);
  };
  const swapRange = (a: number, b: number, count: number): void => {
    for (let i = 0; i < count; i++) swap(a + i, b + i);
  };
  const rotate = (a: number, m: number, b: number): void => {
    let i = m - a;
    let j = b - m;
    while (i !== j) {
      if (i > j) {
        swapRange(m - i, m, j);
        i -= j;
      } else {
        swapRange(m - i, m + j - i, i);
        j -= i;
      }
    }
    swapRange(m - i, m, i);
  };
  const symMerge = (a: number, m: number, b: number): void => {
    if (m - a === 1) {
      let i = m;
      let j = b;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (less(h, a)) i = h + 1;
        else j = h;
      }
      for (let k = a; k < i - 1; k++) swap(k, k + 1);
      return;
    }
    if (b - m === 1) {
      let i = a;
      let j = m;
      while (i < j) {
        const h = (i + j) >>> 1;
        if (!less(m, h)) i = h + 1;
        else j = h;
      }
      for (let k = m; k > i; k--) swap(k, k - 1);
      return;
    }
    const mid = (a + b) >>> 1;
    const total = mid + m;
    let start: number;
    let r: number;
    if (m > mid) {
      start = total - b;
      r = mid;
    } else {
      start = a;
      r = m;
    }
    const p = total - 1;
    while (start < r) {
      const c = (start + r) >>> 1;
      if (!less(p - c, c)) start = c + 1;
      else r = c;
    }
    const end = total - start;
    if (start < m && m < end) rotate(start, m, end);
    if (a < start && start < mid) symMerge(a, start, mid);
    if (mid < end && end < b) symMerge(mid, end, b);
  };

  let blockSize = 20;
  let a = 0;
  let b = blockSize;
  while (b <= n) {
    insertionSort(a, b);
    a = b;
    b += blockSize;
  }
  insertionSort(a, n);
  while (blockSize < n) {
    a = 0;
    b = 2 * blockSize;
    while (b <= n) {
      symMerge(a, a + blockSize, b);
      a = b;
      b += 2 * blockSize;
    }
    const m = a + blockSize;
    if (m < n) symMerge(a, m, n);
    blockSize *= 2;
  }
}
