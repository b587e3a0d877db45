import { OpenAPISpecs } from '../../api/openapi/openapi-specs.js';
import type {
  GroupVersionKind,
  OpenAPIV3Document,
  Schema,
  SwaggerDocument,
} from '../../api/openapi/types.js';
import { SchemaNode, type SchemaField, type SchemaResolver } from './schema-node.js';

const v3RefPrefix = '#/components/schemas/';
const v2RefPrefix = '#/definitions/';

function kindKey(gvk: GroupVersionKind): string {
  return `${gvk.group}/${gvk.version}/${gvk.kind}`;
}

/**
 * The definitions of an OpenAPI document set, found by name or by the group/version/kind they declare
 * (x-kubernetes-group-version-kind), with $refs resolved and field paths walked on demand.
 */
export class SchemaIndex implements SchemaResolver {
  private readonly definitions: ReadonlyMap<string, Schema>;
  private readonly refPrefix: string;
  private readonly byKind = new Map<string, string>();
  private readonly nodes = new Map<string, SchemaNode>();
  private static builtinIndex: SchemaIndex | undefined;

  /** `definitions` by name; `refPrefix` is what their $refs start with ("#/components/schemas/"). */
  constructor(definitions: Iterable<[string, Schema]>, refPrefix: string) {
    this.definitions = new Map(definitions);
    this.refPrefix = refPrefix;
    for (const [name, schema] of this.definitions) {
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) this.byKind.set(kindKey(gvk), name);
    }
  }

  /** The index of the components.schemas of v3 documents (a definition shared by several is kept once). */
  static fromOpenAPIV3(docs: Iterable<OpenAPIV3Document>): SchemaIndex {
    const all = new Map<string, Schema>();
    for (const doc of docs) {
      for (const [name, schema] of Object.entries(doc.components.schemas))
        if (!all.has(name)) all.set(name, schema);
    }
    return new SchemaIndex(all, v3RefPrefix);
  }

  /** The index of a v2 document's definitions. */
  static fromSwagger(doc: SwaggerDocument): SchemaIndex {
    return new SchemaIndex(Object.entries(doc.definitions), v2RefPrefix);
  }

  /** The index of the built-in API (our v3 documents), built on first use. */
  static builtin(): SchemaIndex {
    SchemaIndex.builtinIndex ??= SchemaIndex.fromOpenAPIV3(OpenAPISpecs.builtin().allV3());
    return SchemaIndex.builtinIndex;
  }

  deref(ref: string): { name: string; schema: Schema } {
    const name = ref.startsWith(this.refPrefix) ? ref.slice(this.refPrefix.length) : undefined;
    const schema = name === undefined ? undefined : this.definitions.get(name);
    if (name === undefined || schema === undefined) throw new Error(`unable to resolve ${ref}`);
    return { name, schema };
  }

  /** Every definition name. */
  definitionNames(): string[] {
    return [...this.definitions.keys()];
  }

  /** Every group/version/kind some definition declares. */
  kinds(): GroupVersionKind[] {
    return [...this.byKind.keys()].map((k) => {
      const [group = '', version = '', kind = ''] = k.split('/');
      return { group, version, kind };
    });
  }

  /** A definition as written, without resolving anything. */
  schema(name: string): Schema | undefined {
    return this.definitions.get(name);
  }

  /** A definition by name, resolved. */
  node(name: string): SchemaNode | undefined {
    const known = this.nodes.get(name);
    if (known !== undefined) return known;
    const schema = this.definitions.get(name);
    if (schema === undefined) return undefined;
    // One node per definition, so that what a node learns about its fields (see SchemaNode) is kept.
    const node = SchemaNode.resolve(this, schema, name);
    this.nodes.set(name, node);
    return node;
  }

  /** The name of the definition declaring a group/version/kind. */
  definitionFor(gvk: GroupVersionKind): string | undefined {
    return this.byKind.get(kindKey(gvk));
  }

  /** The schema of a kind's objects, or undefined for a kind no definition declares (custom resources). */
  forKind(gvk: GroupVersionKind): SchemaNode | undefined {
    const name = this.definitionFor(gvk);
    return name === undefined ? undefined : this.node(name);
  }

  /** The field of a kind at a path of field names (see SchemaNode.walk): ["spec", "containers", "ports"]. */
  field(gvk: GroupVersionKind, path: readonly string[]): SchemaField | undefined {
    return this.forKind(gvk)?.walk(path);
  }
}
