// The three patch types the API server accepts besides apply: JSON patch, JSON merge patch and strategic
// merge patch.
export {
  applyJsonPatch,
  decodeJsonPatch,
  defaultMaxCopyBytes,
  maxJsonPatchOperations,
} from './json-patch.js';
export type { DecodedJsonPatch, JsonPatchOperation } from './json-patch.js';
export { applyMergePatch, createMergePatch } from './merge-patch.js';
export { strategicMergePatch } from './strategic-merge-patch.js';
export { noPatchMeta, patchMetaLookup } from './patch-meta.js';
export type { PatchMeta, PatchMetaLookup } from './patch-meta.js';
export { PatchError, patchErrors } from './patch-error.js';
export type { PatchErrorReason } from './patch-error.js';
export type { JsonObject, JsonValue } from './json-value.js';
export { cloneJson, jsonEqual } from './json-value.js';
