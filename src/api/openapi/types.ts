// The shapes of the OpenAPI documents we serve: enough typing for the code that reads them (schema lookup,
// patches, validation, the /openapi handlers) without modelling every corner of the OpenAPI specs.

/** A group, version and kind, as x-kubernetes-group-version-kind lists them. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** A JSON Schema as OpenAPI uses it: v3 components.schemas and v2 definitions share this shape. */
export interface Schema {
  type?: string;
  format?: string;
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  not?: Schema;
  items?: Schema;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  uniqueItems?: boolean;
  'x-kubernetes-group-version-kind'?: GroupVersionKind[];
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-unions'?: unknown[];
  'x-kubernetes-validations'?: unknown[];
  [extension: `x-${string}`]: unknown;
}

/** One operation of a path (get, put, post, patch, delete, ...), in either OpenAPI version. */
export interface Operation {
  operationId?: string;
  tags?: string[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  consumes?: string[];
  produces?: string[];
  schemes?: string[];
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: GroupVersionKind;
  [key: string]: unknown;
}

/** A path's operations and shared parameters. */
export type PathItem = Partial<
  Record<'get' | 'put' | 'post' | 'patch' | 'delete' | 'head' | 'options', Operation>
> & {
  parameters?: unknown[];
};

/** An OpenAPI 3.0 document: one per group-version, served at /openapi/v3/<group-version path>. */
export interface OpenAPIV3Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Schema>; securitySchemes?: Record<string, unknown> };
}

/** The Swagger 2.0 document for the whole API, served at /openapi/v2. */
export interface SwaggerDocument {
  swagger: string;
  info: { title: string; version: string };
  paths: Record<string, PathItem>;
  definitions: Record<string, Schema>;
  parameters?: Record<string, unknown>;
  security?: unknown[];
  securityDefinitions?: Record<string, unknown>;
}
