// CRI errors. Upstream runtimes answer with gRPC status codes (containerd and CRI-O: NotFound for an unknown
// container, sandbox or image; InvalidArgument for a bad request; Unimplemented for what they do not
// support; Unknown or Internal otherwise), and the kubelet branches on those codes. The same error class
// travels in process and over gRPC: the server sends its code, the client turns a gRPC error back into it.

/** gRPC status codes (the numbers are the gRPC protocol's). */
export const Code = {
  OK: 0,
  Cancelled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([name, value]) => [value, name]));

/** An error of a CRI call, with its gRPC status code. */
export class CriError extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CriError';
    this.code = code;
  }

  /** The code's name, e.g. "NotFound". */
  get codeName(): string {
    return codeNames.get(this.code) ?? String(this.code);
  }
}

/** Whether `err` is a CriError (with the given code, when one is given). */
export function isCriError(err: unknown, code?: Code): err is CriError {
  return err instanceof CriError && (code === undefined || err.code === code);
}

/** Constructors for the errors runtimes commonly answer. */
export const criErrors = {
  notFound: (message: string) => new CriError(Code.NotFound, message),
  invalidArgument: (message: string) => new CriError(Code.InvalidArgument, message),
  alreadyExists: (message: string) => new CriError(Code.AlreadyExists, message),
  failedPrecondition: (message: string) => new CriError(Code.FailedPrecondition, message),
  unimplemented: (method: string) => new CriError(Code.Unimplemented, `method ${method} not implemented`),
  deadlineExceeded: (message: string) => new CriError(Code.DeadlineExceeded, message),
  unknown: (message: string, cause?: unknown) => new CriError(Code.Unknown, message, { cause }),
};

/** Turns any thrown value into a CriError (Unknown unless it already is one). */
export function toCriError(err: unknown): CriError {
  if (err instanceof CriError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new CriError(Code.Unknown, message, { cause: err });
}
