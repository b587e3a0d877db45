/** The Status reasons a failed patch gets; '' is upstream's StatusReasonUnknown (errors it does not classify). */
export type PatchErrorReason = 'BadRequest' | 'RequestEntityTooLarge' | 'Invalid' | '';

/**
 * Why a patch could not be applied. `message` is the error as the patch code words it (what upstream's
 * libraries return); `code`, `reason`, `statusMessage` and `details` are the Status the API server answers
 * with, which for 422 replaces the message by a generic sentence and has empty details, as upstream does.
 */
export class PatchError extends Error {
  override readonly name = 'PatchError';
  readonly code: 400 | 413 | 422 | 500;
  readonly reason: PatchErrorReason;
  readonly statusMessage: string;
  readonly details: Record<string, never> | undefined;

  constructor(code: PatchError['code'], reason: PatchErrorReason, message: string, statusMessage = message) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.statusMessage = statusMessage;
    this.details = code === 422 ? {} : undefined;
  }
}

/** Constructors for the four ways the API server reports a failed patch. */
export const patchErrors = {
  /** errors.NewBadRequest: the message is the Status message. */
  badRequest: (message: string) => new PatchError(400, 'BadRequest', message),
  /** errors.NewRequestEntityTooLargeError. */
  tooLarge: (message: string) =>
    new PatchError(413, 'RequestEntityTooLarge', message, `Request entity too large: ${message}`),
  /** errors.NewGenericServerResponse(422, ...): the library's message is dropped from the Status. */
  invalid: (message: string) =>
    new PatchError(422, 'Invalid', message, 'the server rejected our request due to an error in our request'),
  /** An error the handler passes on unclassified: 500, empty reason, the error text as the message. */
  unclassified: (message: string) => new PatchError(500, '', message),
};

/** encoding/json's message for a value of the wrong JSON type. */
export function cannotUnmarshal(kind: string, into: string): string {
  return `json: cannot unmarshal ${kind} into Go value of type ${into}`;
}
