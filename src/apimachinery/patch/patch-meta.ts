// The schema questions a strategic merge patch asks while it descends a document: for a member holding an
// object or a list, what are its patch strategies and merge key, and what is the schema below it. Upstream
// answers from Go struct tags (the same facts our schema carries as x-kubernetes-patch-strategy and
// x-kubernetes-patch-merge-key); where it has no schema, every answer is "no strategy", which makes lists
// replace and objects merge, as a JSON merge patch does.
import type { SchemaNode } from '../openapi/schema-node.js';

/** A member's patch strategies (x-kubernetes-patch-strategy, split at commas) and merge key. */
export interface PatchMeta {
  readonly patchStrategies: readonly string[];
  readonly patchMergeKey: string;
}

/** Schema lookups for one level of a document; each method throws with upstream's message when it cannot answer. */
export interface PatchMetaLookup {
  /** The member `key` of an object: its facts and the lookup for the object it holds. */
  lookupStruct(key: string): { meta: PatchMeta; schema: PatchMetaLookup };
  /** The member `key` of an object: its facts and the lookup for the elements of the list it holds. */
  lookupSlice(key: string): { meta: PatchMeta; schema: PatchMetaLookup };
  /** The Go kind upstream names this level by in messages ("struct", "map", "slice", ...). */
  readonly name: string;
}

const none: PatchMeta = { patchStrategies: [], patchMergeKey: '' };

/** The lookup for data without a schema: nothing has a strategy, so everything merges like a merge patch. */
export const noPatchMeta: PatchMetaLookup = {
  lookupStruct: () => ({ meta: none, schema: noPatchMeta }),
  lookupSlice: () => ({ meta: none, schema: noPatchMeta }),
  name: '',
};

/** The Go kind of the type a schema describes, as reflect names it. */
function goKind(node: SchemaNode): string {
  switch (node.shape) {
    case 'struct':
    case 'any':
      return 'struct';
    case 'map':
      return 'map';
    case 'array':
      return 'slice';
    case 'scalar':
      switch (node.schema.type ?? '') {
        case 'string':
          return 'string';
        case 'boolean':
          return 'bool';
        case 'integer':
          return node.schema.format === 'int32' ? 'int32' : 'int64';
        case 'number':
          return 'float64';
        default:
          // Quantity and IntOrString are structs in Go.
          return 'struct';
      }
  }
}

function metaOf(meta: { patchStrategies: readonly string[]; patchMergeKey: string | undefined }): PatchMeta {
  return { patchStrategies: meta.patchStrategies, patchMergeKey: meta.patchMergeKey ?? '' };
}

class SchemaPatchMeta implements PatchMetaLookup {
  readonly node: SchemaNode;

  constructor(node: SchemaNode) {
    this.node = node;
  }

  get name(): string {
    return goKind(this.node);
  }

  lookupStruct(key: string): { meta: PatchMeta; schema: PatchMetaLookup } {
    const node = this.node;
    switch (node.shape) {
      case 'struct': {
        const field = node.field(key);
        if (field === undefined) {
          if (node.schema['x-kubernetes-preserve-unknown-fields'] === true)
            return { meta: none, schema: noPatchMeta };
          throw new Error(`unable to find api field in struct ${node.typeName} for the json field "${key}"`);
        }
        return { meta: metaOf(field.meta), schema: patchMetaLookup(field.node) };
      }
      case 'map': {
        // Upstream's reflection cannot look into map values and fails here; the schema can, so we do.
        const values = node.values();
        return values === undefined
          ? { meta: none, schema: noPatchMeta }
          : { meta: metaOf(values.meta), schema: patchMetaLookup(values.node) };
      }
      case 'any':
        return { meta: none, schema: noPatchMeta };
      case 'array':
      case 'scalar':
        throw new Error(`merging an object in json but data type is not struct, instead is: ${goKind(node)}`);
    }
  }

  lookupSlice(key: string): { meta: PatchMeta; schema: PatchMetaLookup } {
    const { meta, schema } = this.lookupStruct(key);
    if (!(schema instanceof SchemaPatchMeta) || schema.node.shape !== 'array') {
      // Upstream treats a pointer field patched with a list as a list of what it points to; in a schema a
      // pointer looks like any other object, so every field that is not a list gets that treatment.
      return { meta, schema };
    }
    const items = schema.node.items();
    return { meta, schema: items === undefined ? noPatchMeta : patchMetaLookup(items.node) };
  }
}

/** The lookup for data described by `node`; undefined (a kind without a schema) gives noPatchMeta. */
export function patchMetaLookup(node: SchemaNode | undefined): PatchMetaLookup {
  return node === undefined ? noPatchMeta : new SchemaPatchMeta(node);
}
