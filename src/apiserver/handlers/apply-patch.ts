// Applies a PATCH body of one of the three patch types to an object, with upstream's errors.
import { apiErrors, StatusError } from '../../apimachinery/errors/status-error.js';
import type { SchemaNode } from '../../apimachinery/openapi/index.js';
import type { JsonObject, JsonValue } from '../../apimachinery/patch/index.js';
import { applyJsonPatch, applyMergePatch, decodeJsonPatch, PatchError, strategicMergePatch } from '../../apimachinery/patch/index.js';
import type { KObject } from '../../registry/generic/index.js';

/**
 * Patches `current` by the body's media type: JSON patch, JSON merge patch, or strategic merge patch driven
 * by `schema` (undefined: merge-patch semantics for lists). Returns a new object.
 */
export function applyPatchBody(type: string, current: KObject, body: Buffer, schema: SchemaNode | undefined): KObject {
  let patch: JsonValue;
  try {
    patch = JSON.parse(body.toString('utf8')) as JsonValue;
  } catch (err) {
    throw apiErrors.badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
  }
  const original = current as unknown as JsonObject;
  let result: JsonValue;
  try {
    switch (type) {
      case 'application/json-patch+json':
        result = applyJsonPatch(original, decodeJsonPatch(patch).operations);
        break;
      case 'application/merge-patch+json':
        result = applyMergePatch(original, patch);
        break;
      case 'application/strategic-merge-patch+json':
        result = strategicMergePatch(original, patch, schema);
        break;
      default:
        throw apiErrors.unsupportedMediaType(
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
        );
    }
  } catch (err) {
    if (err instanceof PatchError) throw new StatusError(err.code, err.reason, err.statusMessage, err.details);
    throw err;
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw apiErrors.badRequest('the patch must produce an object');
  return result;
}
