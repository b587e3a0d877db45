// Checks a decoded JSON object against its kind's schema the way upstream's typed decoding does: a value of
// the wrong JSON type fails with encoding/json's message, unknown fields are collected (for fieldValidation
// Strict, Warn or Ignore) and dropped, and explicit nulls are dropped as Go leaves such fields unset.
import type { SchemaNode } from './schema-node.js';

/** What typed decoding found. */
export interface TypedDecodeResult {
  /** encoding/json's message for the first value of the wrong type, if any. */
  typeError: string | undefined;
  /** Paths of unknown fields, in upstream's form: spec.containers[0].foo */
  unknownFields: string[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The Go type name upstream's messages print for a schema: v1.ObjectMeta, []v1.Container, map[string]string, int32. */
function goTypeName(node: SchemaNode): string {
  const d = node.definition;
  if (d !== undefined && node.shape === 'struct') {
    const parts = d.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  const s = node.schema;
  switch (node.shape) {
    case 'array': {
      const items = node.items();
      return `[]${items ? goTypeName(items.node) : 'interface {}'}`;
    }
    case 'map': {
      const values = node.values();
      return `map[string]${values ? goTypeName(values.node) : 'interface {}'}`;
    }
    case 'scalar':
      if (d !== undefined) {
        const parts = d.split('.');
        return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
      }
      if (s.type === 'integer') return s.format === 'int32' ? 'int32' : 'int64';
      if (s.type === 'number') return 'float64';
      if (s.type === 'boolean') return 'bool';
      return 'string';
    case 'struct':
    case 'any':
      return 'interface {}';
  }
}

function jsonKind(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  return 'string';
}

/** Whether a scalar schema accepts a JSON value. */
function scalarAccepts(node: SchemaNode, v: Json): boolean {
  const s = node.schema;
  const alternatives = s.oneOf ?? s.anyOf;
  const types = alternatives ? alternatives.map((a) => a.type) : [s.type];
  if (s['x-kubernetes-int-or-string'] === true) types.push('integer', 'string');
  return types.some((t) => {
    switch (t) {
      case 'string':
        return typeof v === 'string';
      case 'integer':
        return typeof v === 'number' && Number.isInteger(v);
      case 'number':
        return typeof v === 'number';
      case 'boolean':
        return typeof v === 'boolean';
      case undefined:
      case 'object':
      case 'array':
        return true;
    }
    return true;
  });
}

/**
 * Checks `obj` against `root` (the kind's schema) and drops unknown fields and nulls from it in place.
 * `kind` names the root struct in messages ("ConfigMap").
 */
export function typedDecode(obj: Record<string, unknown>, root: SchemaNode, kind: string): TypedDecodeResult {
  const result: TypedDecodeResult = { typeError: undefined, unknownFields: [] };
  // encoding/json names the innermost struct that holds the field, and the field's full dotted path.
  const visit = (value: Json, node: SchemaNode, path: string, goPath: string, struct: string): void => {
    if (result.typeError !== undefined) return;
    const mismatch = (): void => {
      result.typeError = `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${struct}.${goPath} of type ${goTypeName(node)}`;
    };
    if (node.schema['x-kubernetes-preserve-unknown-fields'] === true && node.shape !== 'struct') return;
    switch (node.shape) {
      case 'struct': {
        if (value === null) return;
        if (typeof value !== 'object' || Array.isArray(value)) return mismatch();
        const inner = node.typeName || struct;
        // Fields of this struct are reported against it, with their path from the root.
        const preserve = node.schema['x-kubernetes-preserve-unknown-fields'] === true;
        for (const key of Object.keys(value)) {
          const child = value[key]!;
          const f = node.field(key);
          const childPath = path === '' ? key : `${path}.${key}`;
          const childGoPath = goPath === '' ? key : `${goPath}.${key}`;
          if (f === undefined) {
            if (!preserve) {
              result.unknownFields.push(childPath);
              delete value[key];
            }
            continue;
          }
          if (child === null) {
            delete value[key];
            continue;
          }
          visit(child, f.node, childPath, childGoPath, inner);
        }
        return;
      }
      case 'array': {
        if (value === null) return;
        if (!Array.isArray(value)) return mismatch();
        const items = node.items();
        if (!items) return;
        value.forEach((el, i) => visit(el, items.node, `${path}[${i}]`, goPath, struct));
        return;
      }
      case 'map': {
        if (value === null) return;
        if (typeof value !== 'object' || Array.isArray(value)) return mismatch();
        const values = node.values();
        if (!values) return;
        for (const key of Object.keys(value)) visit(value[key]!, values.node, `${path}[${key}]`, goPath, struct);
        return;
      }
      case 'scalar':
        if (value !== null && !scalarAccepts(node, value)) mismatch();
        return;
      case 'any':
        return;
    }
  };
  visit(obj as Json, root, '', '', kind);
  return result;
}
