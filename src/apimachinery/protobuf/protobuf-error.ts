// Malformed protobuf input. The texts follow those of the Go code that upstream generates (gogo/protobuf),
// because the API server answers a bad body with a 400 whose message is the decoder's error.

/** What went wrong: bad bytes, or a body that names no type, or one we do not know. */
export type ProtobufErrorCode = 'Malformed' | 'MissingKind' | 'MissingVersion' | 'NotRegistered';

/** Why a protobuf body could not be read or written. */
export class ProtobufError extends Error {
  override readonly name = 'ProtobufError';
  readonly code: ProtobufErrorCode;

  constructor(message: string, code: ProtobufErrorCode = 'Malformed') {
    super(message);
    this.code = code;
  }
}

/** Constructors for each error, worded as upstream's generated decoders word them. */
export const protobufErrors = {
  unexpectedEOF: () => new ProtobufError('unexpected EOF'),
  intOverflow: () => new ProtobufError('proto: integer overflow'),
  negativeLength: () => new ProtobufError('proto: negative length found during unmarshaling'),
  illegalTag: (message: string, field: number, wireType: number) =>
    new ProtobufError(`proto: ${message}: illegal tag ${field} (wire type ${wireType})`),
  wrongWireType: (wireType: number, field: string) =>
    new ProtobufError(`proto: wrong wireType = ${wireType} for field ${field}`),
  illegalWireType: (wireType: number) => new ProtobufError(`proto: illegal wireType ${wireType}`),
  unexpectedEndGroup: () => new ProtobufError('proto: unexpected end of group'),
  tooDeep: () => new ProtobufError('proto: message nested too deeply'),
};
