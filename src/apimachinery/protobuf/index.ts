// Kubernetes protobuf: request and response bodies in application/vnd.kubernetes.protobuf, and /openapi/v2
// as the gnostic message kubectl reads.
export { decodeMessage } from './decode-message.js';
export type { DecodeOptions } from './decode-message.js';
export { encodeMessage } from './encode-message.js';
export { decodeEnvelope, encodeEnvelope, hasProtobufPrefix, protobufPrefix } from './envelope.js';
export type { RuntimeUnknown } from './envelope.js';
export { MessageRegistry } from './message-registry.js';
export type { FieldDescriptor, MessageDescriptor, MessageTable } from './message-registry.js';
export {
  encodeOpenAPIV2Document,
  openAPIV2ProtobufAccept,
  openAPIV2ProtobufContentType,
} from './openapi-v2.js';
export {
  decodeProtobufObject,
  encodeProtobufObject,
  groupVersionString,
  protobufContentType,
} from './protobuf-codec.js';
export type { DecodedObject, DecodeObjectOptions, GroupVersionKind } from './protobuf-codec.js';
export { ProtobufError, protobufErrors } from './protobuf-error.js';
export type { ProtobufErrorCode } from './protobuf-error.js';
