// The API's own OpenAPI documents: their types and the loader.
export { OpenAPISpecs } from './openapi-specs.js';
export type {
  GroupVersionKind,
  OpenAPIV3Document,
  Operation,
  PathItem,
  Schema,
  SwaggerDocument,
} from './types.js';
