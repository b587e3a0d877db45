// Sets of field paths as structured-merge-diff keeps them for managedFields: a tree whose nodes are path
// elements (a struct field or map key, the key fields of a map-type list item, the value of a set-type list
// item, or a list index), computed from an object against its schema, combined with set operations, and
// written as upstream's FieldsV1 JSON ("f:", "k:", "v:", "i:" keys, "." for a node that is itself a member).
import { hasKey, isJsonObject, jsonEqual, type JsonObject, type JsonValue } from '../patch/json-value.js';
import type { FieldMeta, SchemaNode } from '../openapi/schema-node.js';

/** One step of a field path. */
export type PathElement =
  | { readonly type: 'field'; readonly name: string }
  | { readonly type: 'key'; readonly fields: readonly KeyField[] }
  | { readonly type: 'value'; readonly value: JsonValue }
  | { readonly type: 'index'; readonly index: number };

/** One key field of a map-type list item; a key element keeps its fields sorted by name. */
export interface KeyField {
  readonly name: string;
  readonly value: JsonValue;
}

/** A field path from the object's root. */
export type FieldPath = readonly PathElement[];

// ---- ordering and serialization of path elements ----

/** Go's strings.Compare: byte order of the UTF-8 encodings, which is code point order. */
function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 unit order is code point order unless both units are surrogates or above them.
    if (ca >= 0xd800 && cb >= 0xd800) return compareCodePoints(a, b);
    return ca < cb ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done === true) return cb.done === true ? 0 : -1;
    if (cb.done === true) return 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
}

function valueRank(v: JsonValue): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null) return 4;
  return 5;
}

/** structured-merge-diff's value order: numbers, strings, booleans, lists, maps, null. */
function compareValues(a: JsonValue, b: JsonValue): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'string' && typeof b === 'string') return compareStrings(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i] as JsonValue, b[i] as JsonValue);
      if (c !== 0) return c;
    }
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a).sort(compareStrings);
    const kb = Object.keys(b).sort(compareStrings);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      const c = compareStrings(ka[i] as string, kb[i] as string);
      if (c !== 0) return c;
      const cv = compareValues(a[ka[i] as string] as JsonValue, b[kb[i] as string] as JsonValue);
      if (cv !== 0) return cv;
    }
    return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
  }
  return 0;
}

const elementRank = { field: 0, key: 1, value: 2, index: 3 } as const;

/** The order FieldsV1 lists a node's entries in: fields by name, then keys, values, indexes. */
export function comparePathElements(a: PathElement, b: PathElement): number {
  if (a.type !== b.type) return elementRank[a.type] < elementRank[b.type] ? -1 : 1;
  switch (a.type) {
    case 'field':
      return compareStrings(a.name, (b as typeof a).name);
    case 'key': {
      const bf = (b as typeof a).fields;
      for (let i = 0; i < Math.min(a.fields.length, bf.length); i++) {
        const fa = a.fields[i] as KeyField;
        const fb = bf[i] as KeyField;
        const c = compareStrings(fa.name, fb.name) || compareValues(fa.value, fb.value);
        if (c !== 0) return c;
      }
      return a.fields.length === bf.length ? 0 : a.fields.length < bf.length ? -1 : 1;
    }
    case 'value':
      return compareValues(a.value, (b as typeof a).value);
    case 'index': {
      const bi = (b as typeof a).index;
      return a.index === bi ? 0 : a.index < bi ? -1 : 1;
    }
  }
}

/** JSON as Go's encoding/json writes it: map keys sorted, and <, >, &, U+2028, U+2029 escaped. */
function goJson(v: JsonValue): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (isJsonObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `{${keys.map((k) => `${goJson(k)}:${goJson(v[k] as JsonValue)}`).join(',')}}`;
  }
  return JSON.stringify(v).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** FieldsV1 keys of field elements by name, made once (the same few names recur in every object). */
const fieldKeys = new Map<string, string>();

/** The FieldsV1 key of a field element: f:name. */
function fieldKey(name: string): string {
  let key = fieldKeys.get(name);
  if (key === undefined) {
    key = `f:${name}`;
    // Map keys and label names are open-ended: the cache stays bounded.
    if (fieldKeys.size >= 10_000) fieldKeys.clear();
    fieldKeys.set(name, key);
  }
  return key;
}

/** Field elements by name, made once like their keys (elements are never changed). */
const fieldElements = new Map<string, PathElement>();

function fieldElement(name: string): PathElement {
  let pe = fieldElements.get(name);
  if (pe === undefined) {
    pe = Object.freeze({ type: 'field', name });
    if (fieldElements.size >= 10_000) fieldElements.clear();
    fieldElements.set(name, pe);
  }
  return pe;
}

/** A path element as a FieldsV1 key: f:name, k:{"name":"web"}, v:"x", i:0. */
export function serializePathElement(pe: PathElement): string {
  switch (pe.type) {
    case 'field':
      return fieldKey(pe.name);
    case 'key':
      return `k:{${pe.fields.map((f) => `${goJson(f.name)}:${goJson(f.value)}`).join(',')}}`;
    case 'value':
      return `v:${goJson(pe.value)}`;
    case 'index':
      return `i:${pe.index}`;
  }
}

/** Reads a FieldsV1 key back; undefined for a key of an unknown type (upstream skips those). */
export function parsePathElement(key: string): PathElement | undefined {
  if (key.length < 2 || key[1] !== ':') throw new Error(`invalid path element ${JSON.stringify(key)}`);
  const body = key.slice(2);
  switch (key.charAt(0)) {
    case 'f':
      return { type: 'field', name: body };
    case 'v':
      return { type: 'value', value: JSON.parse(body) as JsonValue };
    case 'k': {
      const parsed = JSON.parse(body) as JsonValue;
      if (!isJsonObject(parsed)) throw new Error(`invalid key element ${JSON.stringify(key)}`);
      return keyElement(Object.entries(parsed).map(([name, value]) => ({ name, value })));
    }
    case 'i': {
      if (!/^-?\d+$/.test(body)) throw new Error(`invalid index element ${JSON.stringify(key)}`);
      return { type: 'index', index: Number(body) };
    }
    default:
      return undefined;
  }
}

/** A key element with its fields in name order, as upstream sorts them. */
export function keyElement(fields: readonly KeyField[]): PathElement {
  return { type: 'key', fields: [...fields].sort((a, b) => compareStrings(a.name, b.name)) };
}

/** A field path from field names (the form reset and strip lists are written in). */
export function fieldPath(...names: string[]): FieldPath {
  return names.map((name) => ({ type: 'field', name }));
}

// ---- the set ----

interface ChildNode {
  readonly pe: PathElement;
  readonly set: FieldSet;
}

/** The `{}` of a FieldsV1 leaf (and of "."), one frozen object for every leaf of every set. */
const emptyLeaf: JsonObject = Object.freeze({});

// A node without members or children shares these (never written: a node makes its own map on first add).
const noMembers: ReadonlyMap<string, PathElement> = new Map();
const noChildren: ReadonlyMap<string, ChildNode> = new Map();

/** True when the two maps have a key in common. */
function sharesKey(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  for (const k of a.keys()) if (b.has(k)) return true;
  return false;
}

/**
 * A set of field paths. Members are the paths that end at this node; children hold the paths that go on
 * below an element. Nodes are keyed by their serialized element, which is canonical.
 *
 * A set is built by insert (and read), then only read: the set operations never change their operands and
 * share whatever subtree they leave as it was, so a create's few set operations copy little. Every child
 * holds at least one member somewhere below it, which makes isEmpty a look at this node alone.
 */
export class FieldSet {
  private members: ReadonlyMap<string, PathElement> = noMembers;
  private children: ReadonlyMap<string, ChildNode> = noChildren;

  /** The set of the given paths. */
  static of(...paths: FieldPath[]): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  /** Adds a path; the empty path (the whole object) is not tracked, as upstream. */
  insert(path: FieldPath): void {
    this.insertKeyed(path, path.map(serializePathElement));
  }

  /**
   * insert, with the path's elements already serialized (keys[i] is path[i]'s). Only the elements are kept,
   * not the arrays, so callers may reuse them.
   */
  insertKeyed(path: FieldPath, keys: readonly string[]): void {
    const last = path.length - 1;
    if (last < 0) return;
    // The walk goes down from this node (an alias of this, as a cursor).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let node: FieldSet = this;
    for (let i = 0; i < last; i++) {
      const key = keys[i]!;
      let child = node.children.get(key);
      if (child === undefined) {
        child = { pe: path[i]!, set: new FieldSet() };
        node.ownChildren().set(key, child);
      }
      node = child.set;
    }
    node.ownMembers().set(keys[last]!, path[last]!);
  }

  private ownMembers(): Map<string, PathElement> {
    if (this.members === noMembers) this.members = new Map();
    return this.members as Map<string, PathElement>;
  }

  private ownChildren(): Map<string, ChildNode> {
    if (this.children === noChildren) this.children = new Map();
    return this.children as Map<string, ChildNode>;
  }

  /** Adds a child made by a set operation, unless it holds nothing. */
  private addChild(key: string, pe: PathElement, set: FieldSet): void {
    if (!set.isEmpty()) this.ownChildren().set(key, { pe, set });
  }

  /** True when the path is a member. */
  has(path: FieldPath): boolean {
    const [first, ...rest] = path;
    if (first === undefined) return false;
    const key = serializePathElement(first);
    if (rest.length === 0) return this.members.has(key);
    return this.children.get(key)?.set.has(rest) ?? false;
  }

  /** True when no path is a member. */
  isEmpty(): boolean {
    return this.members.size === 0 && this.children.size === 0;
  }

  /** Every member path, in FieldsV1 order. */
  paths(): FieldPath[] {
    const out: FieldPath[] = [];
    const walk = (s: FieldSet, prefix: PathElement[]): void => {
      for (const key of s.orderedKeys()) {
        const path = [...prefix, s.elementOf(key)];
        if (s.members.has(key)) out.push(path);
        const child = s.children.get(key)?.set;
        if (child !== undefined) walk(child, path);
      }
    };
    walk(this, []);
    return out;
  }

  /** Paths in either set. */
  union(other: FieldSet): FieldSet {
    if (other.isEmpty()) return this;
    if (this.isEmpty()) return other;
    const out = new FieldSet();
    if (other.members.size === 0) out.members = this.members;
    else if (this.members.size === 0) out.members = other.members;
    else out.members = new Map([...this.members, ...other.members]);
    if (other.children.size === 0) out.children = this.children;
    else if (this.children.size === 0) out.children = other.children;
    else {
      const children = new Map(this.children);
      for (const [k, c] of other.children) {
        const mine = children.get(k);
        children.set(k, mine === undefined ? c : { pe: c.pe, set: mine.set.union(c.set) });
      }
      out.children = children;
    }
    return out;
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) if (other.members.has(k)) out.ownMembers().set(k, pe);
    for (const [k, c] of this.children) {
      const theirs = other.children.get(k);
      if (theirs !== undefined) out.addChild(k, c.pe, c.set.intersection(theirs.set));
    }
    return out;
  }

  /** Paths of this set that are not in `other` (their children stay unless `other` lists them too). */
  difference(other: FieldSet): FieldSet {
    return this.without(other, false);
  }

  /** Paths of this set that are neither in `other` nor below a member of `other`. */
  recursiveDifference(other: FieldSet): FieldSet {
    return this.without(other, true);
  }

  private without(other: FieldSet, recursive: boolean): FieldSet {
    if (other.isEmpty() || this.isEmpty()) return this;
    let members = this.members;
    if (sharesKey(this.members, other.members)) {
      const keptMembers = new Map<string, PathElement>();
      for (const [k, pe] of this.members) if (!other.members.has(k)) keptMembers.set(k, pe);
      members = keptMembers.size === 0 ? noMembers : keptMembers;
    }
    let children = this.children;
    let changed = false;
    const kept = new Map<string, ChildNode>();
    for (const [k, c] of this.children) {
      if (recursive && other.members.has(k)) {
        changed = true;
        continue;
      }
      const theirs = other.children.get(k);
      const rest = theirs === undefined ? c.set : c.set.without(theirs.set, recursive);
      if (rest === c.set) kept.set(k, c);
      else {
        changed = true;
        if (!rest.isEmpty()) kept.set(k, { pe: c.pe, set: rest });
      }
    }
    if (changed) children = kept.size === 0 ? noChildren : kept;
    if (members === this.members && !changed) return this;
    const out = new FieldSet();
    out.members = members;
    out.children = children;
    return out;
  }

  /** True when both sets hold the same paths. */
  equals(other: FieldSet): boolean {
    return JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1());
  }

  /** A deep copy. */
  copy(): FieldSet {
    const out = new FieldSet();
    for (const [k, pe] of this.members) out.ownMembers().set(k, pe);
    for (const [k, c] of this.children) out.ownChildren().set(k, { pe: c.pe, set: c.set.copy() });
    return out;
  }

  /** The FieldsV1 object upstream stores: keys in upstream's order, "." first where a node is a member. */
  toFieldsV1(): JsonObject {
    return this.emit(false);
  }

  private emit(includeSelf: boolean): JsonObject {
    const out: JsonObject = {};
    const keys = this.orderedKeys();
    if (includeSelf && keys.length > 0) out['.'] = emptyLeaf;
    for (const key of keys) {
      const child = this.children.get(key)?.set;
      const value = child === undefined ? emptyLeaf : child.emit(this.members.has(key));
      if (key === '__proto__')
        Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
      else out[key] = value;
    }
    return out;
  }

  /** This node's keys (members' and children's, each once) in FieldsV1 order. */
  private orderedKeys(): string[] {
    const keys = [...this.members.keys()];
    for (const k of this.children.keys()) if (!this.members.has(k)) keys.push(k);
    if (keys.length > 1) keys.sort((a, b) => comparePathElements(this.elementOf(a), this.elementOf(b)));
    return keys;
  }

  /** The element of one of this node's keys. */
  private elementOf(key: string): PathElement {
    return this.members.get(key) ?? this.children.get(key)!.pe;
  }

  /** Reads a FieldsV1 object; throws on a malformed one. */
  static fromFieldsV1(fields: JsonValue): FieldSet {
    if (!isJsonObject(fields)) throw new Error('FieldsV1 must be a JSON object');
    const out = new FieldSet();
    out.read(fields);
    return out;
  }

  /** Reads the entries of a node; true when it held any entry of a known element type. */
  private read(obj: JsonObject): boolean {
    let found = false;
    for (const [key, value] of Object.entries(obj)) {
      if (key === '.') continue;
      const pe = parsePathElement(key);
      if (pe === undefined) continue;
      found = true;
      if (!isJsonObject(value)) throw new Error(`FieldsV1 entry ${JSON.stringify(key)} must be an object`);
      const child = new FieldSet();
      // A node is a member when it says so with "." or when nothing known lies below it.
      if (!child.read(value) || hasKey(value, '.')) this.ownMembers().set(serializePathElement(pe), pe);
      this.addChild(serializePathElement(pe), pe, child);
    }
    return found;
  }
}

// ---- computing sets from objects ----

/** The schema reached at a node: undefined where no schema speaks (fields are then deduced from values). */
interface TypeRef {
  readonly node: SchemaNode | undefined;
  readonly meta: FieldMeta | undefined;
}

const deduced: TypeRef = { node: undefined, meta: undefined };

// Types upstream converts as opaque scalars, whatever their JSON holds.
const atomicDefinitions = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.api.resource.Quantity',
]);

/** How structured-merge-diff treats a value of a type: a leaf, a map (struct or map) or a list. */
type Atom =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'map'; readonly atomic: boolean; child(key: string): TypeRef }
  | {
      readonly kind: 'list';
      readonly relationship: 'atomic' | 'associative';
      readonly keys: readonly string[];
      readonly items: TypeRef;
    };

const leaf: Atom = { kind: 'leaf' };

const deducedMap: Atom = { kind: 'map', atomic: false, child: () => deduced };

function deducedAtom(value: JsonValue | undefined): Atom {
  // A free-form value: objects are granular maps of free-form values, lists atomic.
  return isJsonObject(value) ? deducedMap : leaf;
}

function listAtom(node: SchemaNode, meta: FieldMeta | undefined): Atom {
  const itemRef: TypeRef = node.items() ?? deduced;
  const listType = meta?.listType ?? node.schema['x-kubernetes-list-type'];
  if (listType === 'atomic') return { kind: 'list', relationship: 'atomic', keys: [], items: itemRef };
  if (listType === 'set') return { kind: 'list', relationship: 'associative', keys: [], items: itemRef };
  if (listType === 'map') {
    const keys = meta?.listMapKeys ?? node.schema['x-kubernetes-list-map-keys'] ?? [];
    return { kind: 'list', relationship: 'associative', keys, items: itemRef };
  }
  // Without a list type, the patch strategy decides: a merged list is keyed by its merge key (or a set).
  const strategies = meta?.patchStrategies ?? [];
  if (strategies[0] === 'merge' && strategies.slice(1).every((s) => s === 'retainKeys')) {
    const key = meta?.patchMergeKey;
    return {
      kind: 'list',
      relationship: 'associative',
      keys: key === undefined ? [] : [key],
      items: itemRef,
    };
  }
  return { kind: 'list', relationship: 'atomic', keys: [], items: itemRef };
}

/** The atoms of schema positions, which never change (the schema's fields are made once per node). */
const schemaAtoms = new WeakMap<TypeRef, Atom>();

function atomOf(ref: TypeRef, value: JsonValue | undefined): Atom {
  const node = ref.node;
  if (node === undefined) return deducedAtom(value);
  const known = schemaAtoms.get(ref);
  if (known !== undefined) return known;
  const atom = schemaAtomOf(ref, node, value);
  // Free-form ("any") positions depend on the value.
  if (node.shape !== 'any') schemaAtoms.set(ref, atom);
  return atom;
}

function schemaAtomOf(ref: TypeRef, node: SchemaNode, value: JsonValue | undefined): Atom {
  if (node.definition !== undefined && atomicDefinitions.has(node.definition)) return leaf;
  const atomicMap = (ref.meta?.mapType ?? node.schema['x-kubernetes-map-type']) === 'atomic';
  switch (node.shape) {
    case 'struct': {
      // Unknown members are kept as free-form values rather than refused; validation speaks to them.
      const child = (key: string): TypeRef => node.field(key) ?? deduced;
      return { kind: 'map', atomic: atomicMap, child };
    }
    case 'map': {
      const ref2: TypeRef = node.values() ?? deduced;
      return { kind: 'map', atomic: atomicMap, child: () => ref2 };
    }
    case 'array':
      return listAtom(node, ref.meta);
    case 'scalar':
      return leaf;
    case 'any':
      if (Array.isArray(value)) return leaf;
      return isJsonObject(value) ? { kind: 'map', atomic: atomicMap, child: () => deduced } : leaf;
  }
}

/** The default a key field has in the items' schema, used when an item leaves the key out. */
function keyDefault(items: TypeRef, name: string): JsonValue | undefined {
  const f = items.node?.shape === 'struct' ? items.node.field(name) : undefined;
  return f?.node.schema.default as JsonValue | undefined;
}

/** The path element of a list item of an associative list; undefined for an item that cannot have one. */
function itemElement(atom: Extract<Atom, { kind: 'list' }>, item: JsonValue): PathElement | undefined {
  if (atom.keys.length > 0) {
    if (!isJsonObject(item)) return undefined;
    const fields: KeyField[] = [];
    for (const name of atom.keys) {
      if (hasKey(item, name)) fields.push({ name, value: item[name] as JsonValue });
      else {
        const d = keyDefault(atom.items, name);
        if (d !== undefined) fields.push({ name, value: d });
      }
    }
    return fields.length === 0 ? undefined : keyElement(fields);
  }
  if (item === null || Array.isArray(item) || isJsonObject(item)) return undefined;
  return { type: 'value', value: item };
}

/** The paths an object sets, as upstream's typed ToFieldSet computes them. */
export function fieldSetOf(schema: SchemaNode | undefined, object: JsonValue): FieldSet {
  const set = new FieldSet();
  const visit = (ref: TypeRef, value: JsonValue, path: PathElement[], keys: string[]): void => {
    const atom = atomOf(ref, value);
    if (atom.kind === 'leaf') {
      set.insertKeyed(path, keys);
    } else if (atom.kind === 'map') {
      if (atom.atomic) return set.insertKeyed(path, keys);
      if (!isJsonObject(value)) return;
      for (const key of Object.keys(value)) {
        const v = value[key] as JsonValue;
        path.push(fieldElement(key));
        keys.push(fieldKey(key));
        visit(atom.child(key), v, path, keys);
        // A struct field marks itself only when it holds nothing below; map entries always do.
        const declared = ref.node?.shape === 'struct' && ref.node.field(key) !== undefined;
        if (v === null || (isJsonObject(v) && Object.keys(v).length === 0) || !declared) set.insertKeyed(path, keys);
        path.pop();
        keys.pop();
      }
    } else {
      if (atom.relationship === 'atomic') return set.insertKeyed(path, keys);
      if (!Array.isArray(value)) return;
      for (const item of value) {
        const pe = itemElement(atom, item);
        if (pe === undefined) continue;
        path.push(pe);
        keys.push(serializePathElement(pe));
        visit(atom.items, item, path, keys);
        set.insertKeyed(path, keys);
        path.pop();
        keys.pop();
      }
    }
  };
  visit({ node: schema, meta: undefined }, object, [], []);
  return set;
}

/** What changed between two versions of an object, as upstream's typed Compare reports it. */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/**
 * Compares two versions of an object field by field (upstream's typed Compare): paths only in `next` are
 * added, only in `prev` removed, leaves (scalars, atomic lists and maps, empty maps and lists) that differ
 * modified. A map or list node that appears or disappears as a whole is added or removed itself too.
 */
export function compareObjects(schema: SchemaNode | undefined, prev: JsonValue, next: JsonValue): Comparison {
  const cmp = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };

  const walk = (
    ref: TypeRef,
    l: JsonValue | undefined,
    r: JsonValue | undefined,
    path: PathElement[],
    pathKeys: string[],
  ): void => {
    // Each form's handling says whether it compared the node as a leaf (an atomic value compared whole),
    // in which case the node is not added or removed again.
    const atomL = l === undefined ? undefined : atomOf(ref, l);
    const atomR = r === undefined ? undefined : atomOf(ref, r);
    let inLeaf = false;
    if (atomR === undefined) {
      if (atomL !== undefined) inLeaf = handle(atomL, l, r, path, pathKeys);
    } else if (atomL === undefined || atomL.kind === atomR.kind) {
      inLeaf = handle(atomR, l, r, path, pathKeys);
    } else {
      // The value changed form (only free-form values can): both forms are walked.
      handle(atomL, l, r, path, pathKeys);
      inLeaf = handle(atomR, l, r, path, pathKeys);
    }
    if (!inLeaf) {
      if (l === undefined) cmp.added.insertKeyed(path, pathKeys);
      else if (r === undefined) cmp.removed.insertKeyed(path, pathKeys);
    }
  };

  const doLeaf = (l: JsonValue | undefined, r: JsonValue | undefined, path: PathElement[], pathKeys: string[]): true => {
    if (l === undefined) cmp.added.insertKeyed(path, pathKeys);
    else if (r === undefined) cmp.removed.insertKeyed(path, pathKeys);
    else if (!jsonEqual(l, r)) cmp.modified.insertKeyed(path, pathKeys);
    return true;
  };

  /** Compares one form of a node; true when it compared the node as a leaf. */
  const handle = (atom: Atom, l: JsonValue | undefined, r: JsonValue | undefined, path: PathElement[], pathKeys: string[]): boolean => {
    if (atom.kind === 'leaf') return doLeaf(l, r, path, pathKeys);
    if (atom.kind === 'map') {
      const lm = isJsonObject(l) ? l : undefined;
      const rm = isJsonObject(r) ? r : undefined;
      const lKeys = lm === undefined ? [] : Object.keys(lm);
      const rKeys = rm === undefined ? [] : Object.keys(rm);
      // Empty on both sides is a leaf, which keeps an empty map apart from an absent one.
      if (atom.atomic || (lKeys.length === 0 && rKeys.length === 0)) return doLeaf(l, r, path, pathKeys);
      const step = (key: string): void => {
        const lv = lm !== undefined && hasKey(lm, key) ? lm[key] : undefined;
        const rv = rm !== undefined && hasKey(rm, key) ? rm[key] : undefined;
        path.push(fieldElement(key));
        pathKeys.push(fieldKey(key));
        walk(atom.child(key), lv, rv, path, pathKeys);
        path.pop();
        pathKeys.pop();
      };
      // The keys of both sides, each once: the left's, then those only the right has.
      for (const key of lKeys) step(key);
      for (const key of rKeys) if (lm === undefined || !hasKey(lm, key)) step(key);
      return false;
    }
    const ll = Array.isArray(l) ? l : [];
    const rl = Array.isArray(r) ? r : [];
    if (atom.relationship === 'atomic' || (ll.length === 0 && rl.length === 0)) return doLeaf(l, r, path, pathKeys);
    compareItems(atom, ll, rl, path, pathKeys);
    return false;
  };

  const compareItems = (
    atom: Extract<Atom, { kind: 'list' }>,
    ll: JsonValue[],
    rl: JsonValue[],
    path: PathElement[],
    pathKeys: string[],
  ): void => {
    const order: string[] = [];
    const elements = new Map<string, PathElement>();
    const gather = (list: JsonValue[]): Map<string, JsonValue[]> => {
      const byKey = new Map<string, JsonValue[]>();
      for (const item of list) {
        const pe = itemElement(atom, item);
        if (pe === undefined) continue;
        const k = serializePathElement(pe);
        if (!elements.has(k)) {
          elements.set(k, pe);
          order.push(k);
        }
        const seen = byKey.get(k);
        if (seen === undefined) byKey.set(k, [item]);
        else seen.push(item);
      }
      return byKey;
    };
    const lv = gather(ll);
    const rv = gather(rl);
    for (const k of order) {
      const pe = elements.get(k) as PathElement;
      const lItems = lv.get(k) ?? [];
      const rItems = rv.get(k) ?? [];
      path.push(pe);
      pathKeys.push(k);
      const itemPath = path;
      const itemKeys = pathKeys;
      if (lItems.length <= 1 && rItems.length <= 1) {
        walk(atom.items, lItems[0], rItems[0], itemPath, itemKeys);
      } else if (lItems.length >= 2 && rItems.length >= 2) {
        // Duplicated items before and after compare as one atomic value.
        const same =
          lItems.length === rItems.length && lItems.every((v, i) => jsonEqual(v, rItems[i] as JsonValue));
        if (!same) cmp.modified.insertKeyed(itemPath, itemKeys);
      } else if (lItems.length >= 2) {
        if (rItems.length > 0) walk(atom.items, undefined, rItems[0], itemPath, itemKeys);
        cmp.removed.insertKeyed(itemPath, itemKeys);
      } else {
        if (lItems.length > 0) walk(atom.items, lItems[0], undefined, itemPath, itemKeys);
        cmp.added.insertKeyed(itemPath, itemKeys);
      }
      path.pop();
      pathKeys.pop();
    }
  };

  walk({ node: schema, meta: undefined }, prev, next, [], []);
  return cmp;
}
