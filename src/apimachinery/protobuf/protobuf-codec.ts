// Whole API objects in application/vnd.kubernetes.protobuf: the envelope, the type it names, and the
// object's message, to and from the JSON form (with kind and apiVersion) that the rest of k8ts uses.
import { goQuote } from '../../api/go-quote.js';
import { decodeMessage } from './decode-message.js';
import { encodeMessage } from './encode-message.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { MessageRegistry } from './message-registry.js';
import { ProtobufError } from './protobuf-error.js';

/** The content type of Kubernetes protobuf bodies. */
export const protobufContentType = 'application/vnd.kubernetes.protobuf';

/** A group, version and kind; the group is '' for the core group. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** Options of decodeProtobufObject. */
export interface DecodeObjectOptions {
  /** What the endpoint expects, filling in what the envelope leaves out (upstream's copyKindDefaults). */
  defaults?: GroupVersionKind;
  registry?: MessageRegistry;
  /** The scheme named in "no kind is registered" errors. */
  schemeName?: string;
}

/** An object decoded from protobuf, and the type its envelope (with the defaults) named. */
export interface DecodedObject {
  object: Record<string, unknown>;
  gvk: GroupVersionKind;
}

// Where kube-apiserver's scheme is declared: its errors name the scheme by that place.
const defaultSchemeName = 'pkg/api/legacyscheme/scheme.go:30';

/** schema.ParseGroupVersion, falling back to nothing as FromAPIVersionAndKind does on an error. */
function parseAPIVersion(apiVersion: string): { group: string; version: string } {
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '' };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]! };
  return { group: '', version: '' };
}

/** GroupVersion.String(). */
export function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Decodes a request body into the object's JSON form, with upstream's errors for what it cannot take. */
export function decodeProtobufObject(body: Uint8Array, options: DecodeObjectOptions = {}): DecodedObject {
  const registry = options.registry ?? MessageRegistry.builtin();
  const unknown = decodeEnvelope(body);
  const gvk = { ...parseAPIVersion(unknown.apiVersion), kind: unknown.kind };
  const defaults = options.defaults;
  if (defaults !== undefined) {
    if (gvk.kind === '') gvk.kind = defaults.kind;
    if (gvk.version === '' && defaults.version !== '') {
      gvk.group = defaults.group;
      gvk.version = defaults.version;
    }
  }
  const typeMeta = `runtime.TypeMeta{APIVersion:${goQuote(unknown.apiVersion)}, Kind:${goQuote(unknown.kind)}}`;
  if (gvk.kind === '') throw new ProtobufError(`Object 'Kind' is missing in '${typeMeta}'`, 'MissingKind');
  if (gvk.version === '')
    throw new ProtobufError(`Object 'apiVersion' is missing in '${typeMeta}'`, 'MissingVersion');
  const apiVersion = groupVersionString(gvk.group, gvk.version);
  const name = registry.messageFor(gvk.group, gvk.version, gvk.kind);
  if (name === undefined) {
    throw new ProtobufError(
      `no kind ${goQuote(gvk.kind)} is registered for version ${goQuote(apiVersion)} in scheme ${goQuote(options.schemeName ?? defaultSchemeName)}`,
      'NotRegistered',
    );
  }
  const embedded = (raw: Uint8Array): unknown =>
    decodeProtobufObject(raw, { ...options, defaults: undefined }).object;
  const fields = decodeMessage(registry, name, unknown.raw ?? new Uint8Array(0), {
    decodeEmbedded: embedded,
  });
  return { object: { kind: gvk.kind, apiVersion, ...(fields as Record<string, unknown>) }, gvk };
}

/** Encodes an object (with kind and apiVersion) as a protobuf body. */
export function encodeProtobufObject(
  object: Record<string, unknown>,
  registry = MessageRegistry.builtin(),
): Uint8Array {
  const { apiVersion, kind } = object;
  if (typeof kind !== 'string' || kind === '' || typeof apiVersion !== 'string' || apiVersion === '') {
    throw new ProtobufError(
      'cannot encode an object without kind and apiVersion',
      kind ? 'MissingVersion' : 'MissingKind',
    );
  }
  const { group, version } = parseAPIVersion(apiVersion);
  const name = registry.messageFor(group, version, kind);
  if (name === undefined) {
    throw new ProtobufError(
      `no kind ${goQuote(kind)} is registered for version ${goQuote(apiVersion)}`,
      'NotRegistered',
    );
  }
  const raw = encodeMessage(registry, name, object);
  return encodeEnvelope({ apiVersion, kind, raw, contentEncoding: '', contentType: '' });
}
