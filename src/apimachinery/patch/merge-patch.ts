// JSON Merge Patch (RFC 7386) as the API server applies it for application/merge-patch+json, with the
// details of evanphx/json-patch v4 that upstream uses: a null member deletes, an object merges into an object,
// anything else replaces; null members are pruned from objects that a patch brings in where nothing (or null)
// was, including objects inside brought-in arrays, while an array replacing an object is taken as sent.
import { jsonKind } from './go-format.js';
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

function pruneNulls(v: JsonValue): void {
  if (isJsonObject(v)) pruneObjectNulls(v);
  else if (Array.isArray(v)) for (const item of v) if (item !== null) pruneNulls(item);
}

function pruneObjectNulls(o: JsonObject): JsonObject {
  for (const k of Object.keys(o)) {
    const v = o[k] as JsonValue;
    if (v === null) delete o[k];
    else pruneNulls(v);
  }
  return o;
}

function mergeValue(current: JsonValue, patch: JsonValue): JsonValue {
  if (!isJsonObject(current)) {
    pruneNulls(patch);
    return patch;
  }
  if (!isJsonObject(patch)) return patch;
  mergeObjects(current, patch);
  return current;
}

function mergeObjects(doc: JsonObject, patch: JsonObject): void {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) {
      delete doc[k];
      continue;
    }
    const current = hasKey(doc, k) ? (doc[k] as JsonValue) : null;
    if (current === null) {
      pruneNulls(v);
      setKey(doc, k, v);
    } else {
      setKey(doc, k, mergeValue(current, v));
    }
  }
}

/**
 * Applies a merge patch to a document and returns the result; neither argument is changed. `strict` when
 * fieldValidation is Strict or Warn (the API server then insists the patch is an object). Throws a 400
 * PatchError for a patch that is null or a scalar.
 */
export function applyMergePatch(
  doc: JsonValue,
  patch: JsonValue,
  options: { strict?: boolean } = {},
): JsonValue {
  if (options.strict === true && patch !== null && !isJsonObject(patch)) {
    throw patchErrors.badRequest(
      `error decoding patch: ${cannotUnmarshal(jsonKind(patch), 'map[string]interface {}')}`,
    );
  }
  if (doc === null) throw patchErrors.unclassified('Invalid JSON Document');
  if (patch === null) throw patchErrors.badRequest('Invalid JSON Patch');
  const p = cloneJson(patch);
  if (!isJsonObject(doc) || !isJsonObject(p)) {
    // Not two objects: the result is the patch itself, if it is an object or an array.
    if (isJsonObject(p)) return pruneObjectNulls(p);
    if (!Array.isArray(p)) throw patchErrors.badRequest('Invalid JSON Patch');
    pruneNulls(p);
    return p;
  }
  const result = cloneJson(doc);
  mergeObjects(result, p);
  return result;
}

function sameGoType(a: JsonValue, b: JsonValue): boolean {
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b);
  return typeof a === typeof b;
}

function diffObjects(original: JsonObject, modified: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const [k, m] of Object.entries(modified)) {
    if (!hasKey(original, k)) {
      setKey(patch, k, cloneJson(m));
      continue;
    }
    const o = original[k] as JsonValue;
    if (!sameGoType(o, m)) {
      setKey(patch, k, cloneJson(m));
    } else if (isJsonObject(o) && isJsonObject(m)) {
      const sub = diffObjects(o, m);
      if (Object.keys(sub).length > 0) setKey(patch, k, sub);
    } else if (!jsonEqual(o, m)) {
      setKey(patch, k, cloneJson(m));
    }
  }
  for (const k of Object.keys(original)) if (!hasKey(modified, k)) setKey(patch, k, null);
  return patch;
}

/**
 * The merge patch that turns `original` into `modified` (evanphx's CreateMergePatch): changed and added
 * members as they are in `modified`, removed members as null, unchanged ones left out. Two arrays of objects
 * of the same length give an array of per-element patches.
 */
export function createMergePatch(original: JsonValue, modified: JsonValue): JsonValue {
  if (Array.isArray(original) && Array.isArray(modified)) {
    if (original.length !== modified.length) throw patchErrors.unclassified('Invalid JSON Document');
    return original.map((o, i) => createMergePatch(o, modified[i] as JsonValue));
  }
  if (Array.isArray(original) || Array.isArray(modified))
    throw patchErrors.unclassified('Mismatched JSON Documents');
  if (!isJsonObject(original) || !isJsonObject(modified))
    throw patchErrors.unclassified('Invalid JSON Document');
  return diffObjects(original, modified);
}
