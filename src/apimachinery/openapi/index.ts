// Schema lookup over the API's OpenAPI definitions, for the machinery that needs field facts.
export { SchemaIndex } from './schema-index.js';
export { SchemaNode } from './schema-node.js';
export type { FieldMeta, SchemaField, SchemaResolver, SchemaShape } from './schema-node.js';
export { typedDecode } from './typed-decode.js';
export type { TypedDecodeResult } from './typed-decode.js';
