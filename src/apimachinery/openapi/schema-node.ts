import type { Schema } from '../../api/openapi/types.js';

/** Turns a `$ref` into the definition it names; SchemaIndex implements it. */
export interface SchemaResolver {
  /** The named definition; throws when the reference points nowhere. */
  deref(ref: string): { name: string; schema: Schema };
}

/** The facts about one field that patches, apply and validation read from the field's schema. */
export interface FieldMeta {
  /** x-kubernetes-patch-strategy split at commas: [], ["merge"], ["replace"], ["retainKeys"], ["merge", "retainKeys"]. */
  readonly patchStrategies: readonly string[];
  /** x-kubernetes-patch-merge-key: the key that identifies an element of a merged list of objects. */
  readonly patchMergeKey: string | undefined;
  /** x-kubernetes-list-type. */
  readonly listType: 'atomic' | 'set' | 'map' | undefined;
  /** x-kubernetes-list-map-keys, for listType "map". */
  readonly listMapKeys: readonly string[] | undefined;
  /** x-kubernetes-map-type. */
  readonly mapType: 'atomic' | 'granular' | undefined;
}

/** A field reached from an object (or the items of a list, or the values of a map) with its facts. */
export interface SchemaField {
  /** The field name; "[]" for list items, "{}" for map values. */
  readonly name: string;
  readonly meta: FieldMeta;
  /** The field's schema with $refs followed. */
  readonly node: SchemaNode;
}

/**
 * How a schema holds data: an object with known fields (a Go struct upstream), a map with values of one
 * schema, a list, a scalar, or anything (free-form objects such as RawExtension, or unknown fields kept).
 */
export type SchemaShape = 'struct' | 'map' | 'array' | 'scalar' | 'any';

const scalarTypes = new Set(['string', 'integer', 'number', 'boolean']);

function metaOf(own: Schema, resolved: Schema): FieldMeta {
  const strategy = own['x-kubernetes-patch-strategy'];
  return {
    patchStrategies: strategy === undefined || strategy === '' ? [] : strategy.split(','),
    patchMergeKey: own['x-kubernetes-patch-merge-key'],
    // Patch facts belong to the field; list and map types may also sit on the type a field refers to.
    listType: own['x-kubernetes-list-type'] ?? resolved['x-kubernetes-list-type'],
    listMapKeys: own['x-kubernetes-list-map-keys'] ?? resolved['x-kubernetes-list-map-keys'],
    mapType: own['x-kubernetes-map-type'] ?? resolved['x-kubernetes-map-type'],
  };
}

/** One schema with its references followed, and the ways into the schemas nested in it. */
export class SchemaNode {
  readonly schema: Schema;
  /** The definition this schema is (io.k8s.api.core.v1.PodSpec), when it was reached through a $ref. */
  readonly definition: string | undefined;
  private readonly resolver: SchemaResolver;
  // What the accessors below work out, kept: a schema never changes, and the same nodes are walked for every
  // object of a kind (validation, typed decoding, managedFields).
  private shapeMemo: SchemaShape | undefined;
  private fieldsMemo: Map<string, SchemaField> | undefined;
  private itemsMemo: SchemaField | undefined | null = null;
  private valuesMemo: SchemaField | undefined | null = null;

  private constructor(resolver: SchemaResolver, schema: Schema, definition: string | undefined) {
    this.resolver = resolver;
    this.schema = schema;
    this.definition = definition;
  }

  /** Follows `$ref`s and single-element `allOf` wrappers (v3 wraps every reference that carries a default). */
  static resolve(resolver: SchemaResolver, schema: Schema, definition?: string): SchemaNode {
    let current = schema;
    let name = definition;
    for (let hops = 0; ; hops++) {
      if (hops > 64) throw new Error(`reference cycle at ${name ?? '<anonymous schema>'}`);
      if (current.$ref !== undefined) {
        const target = resolver.deref(current.$ref);
        current = target.schema;
        name = target.name;
      } else if (
        current.allOf !== undefined &&
        current.allOf.length > 0 &&
        current.properties === undefined
      ) {
        current = current.allOf[0] as Schema;
      } else {
        return new SchemaNode(resolver, current, name);
      }
    }
  }

  /** How this schema holds data. */
  get shape(): SchemaShape {
    return (this.shapeMemo ??= this.shapeOf());
  }

  private shapeOf(): SchemaShape {
    const s = this.schema;
    if (s.properties !== undefined) return 'struct';
    if (s.type === 'array') return 'array';
    if (typeof s.additionalProperties === 'object') return 'map';
    if (s.type !== undefined && scalarTypes.has(s.type)) return 'scalar';
    if (s['x-kubernetes-int-or-string'] === true || s.format === 'int-or-string') return 'scalar';
    const alternatives = s.oneOf ?? s.anyOf;
    if (alternatives?.every((a) => a.type !== undefined && scalarTypes.has(a.type)) === true) return 'scalar';
    return 'any';
  }

  /** The short type name upstream's messages use: "PodSpec" for io.k8s.api.core.v1.PodSpec. */
  get typeName(): string {
    const d = this.definition;
    return d === undefined ? '' : d.slice(d.lastIndexOf('.') + 1);
  }

  /** The named property of an object schema. */
  field(name: string): SchemaField | undefined {
    const memo = (this.fieldsMemo ??= new Map<string, SchemaField>());
    const known = memo.get(name);
    if (known !== undefined) return known;
    const own = Object.hasOwn(this.schema.properties ?? {}, name) ? this.schema.properties?.[name] : undefined;
    let field: SchemaField | undefined;
    if (own !== undefined) {
      const node = SchemaNode.resolve(this.resolver, own);
      field = { name, meta: metaOf(own, node.schema), node };
    }
    // Only declared names are kept: the names asked for that are not (unknown fields) are open-ended.
    if (field !== undefined) memo.set(name, field);
    return field;
  }

  /** The items of a list schema. */
  items(): SchemaField | undefined {
    if (this.itemsMemo !== null) return this.itemsMemo;
    const own = this.schema.items;
    if (own === undefined || this.schema.type !== 'array') return (this.itemsMemo = undefined);
    const node = SchemaNode.resolve(this.resolver, own);
    return (this.itemsMemo = { name: '[]', meta: metaOf(own, node.schema), node });
  }

  /** The values of a map schema (additionalProperties). */
  values(): SchemaField | undefined {
    if (this.valuesMemo !== null) return this.valuesMemo;
    const own = this.schema.additionalProperties;
    if (typeof own !== 'object') return (this.valuesMemo = undefined);
    const node = SchemaNode.resolve(this.resolver, own);
    return (this.valuesMemo = { name: '{}', meta: metaOf(own, node.schema), node });
  }

  /**
   * The field at a path of field names below this schema: lists are stepped through (a numeric segment may
   * name an index, any other segment names a field of the items), maps through their values. Undefined
   * when the path leaves the schema.
   */
  walk(path: readonly string[]): SchemaField | undefined {
    let at: SchemaNode | undefined;
    let field: SchemaField | undefined;
    for (const segment of path) {
      let node = at ?? this;
      if (node.shape === 'array') {
        const items = node.items();
        if (items === undefined) return undefined;
        if (/^\d+$/.test(segment)) {
          field = items;
          at = items.node;
          continue;
        }
        node = items.node;
      }
      const shape = node.shape;
      if (shape === 'struct') field = node.field(segment);
      else if (shape === 'map') field = node.values();
      else return undefined;
      if (field === undefined) return undefined;
      at = field.node;
    }
    return field;
  }
}
