// The catalogue of API errors. Every error the API server answers is a metav1.Status built here, with
// upstream's reason, HTTP code and message form (k8s.io/apimachinery/pkg/api/errors), because kubectl and
// client libraries print the message and branch on the reason.
import type { FieldError } from '../validation/field-errors.js';
import { invalidMessage, statusCauses } from '../validation/field-errors.js';

/** metav1.StatusCause. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as the API server sends it for a failure. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/** The group and resource an error is about; the group is '' for the core group. */
export interface GroupResource {
  group: string;
  resource: string;
}

/** Upstream's GroupResource.String(): "pods" in the core group, "deployments.apps" elsewhere. */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** An error that carries the Status the API server answers with. */
export class StatusError extends Error {
  override readonly name = 'StatusError';
  readonly status: Status;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      ...(details ? { details } : {}),
      code,
    };
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): string {
    return this.status.reason;
  }
}

/** Details as upstream fills them; Go's omitempty leaves out an empty name and the core group's ''. */
const details = (gr: GroupResource, name: string): StatusDetails => ({
  ...(name === '' ? {} : { name }),
  ...(gr.group === '' ? {} : { group: gr.group }),
  kind: gr.resource,
});

/** Constructors for each error, named as upstream names them. */
export const apiErrors = {
  notFound: (gr: GroupResource, name: string) =>
    new StatusError(404, 'NotFound', `${qualifiedResource(gr)} "${name}" not found`, details(gr, name)),
  alreadyExists: (gr: GroupResource, name: string) =>
    new StatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} "${name}" already exists`, details(gr, name)),
  /** The optimistic-concurrency conflict: a stale resourceVersion. */
  conflict: (gr: GroupResource, name: string, why: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`, details(gr, name)),
  /** Validation failed (upstream's NewInvalid): `kind` is the object's Kind, the errors its field errors. */
  invalid: (group: string, kind: string, name: string, errs: readonly FieldError[]) => {
    const gk = { group, kind };
    return new StatusError(422, 'Invalid', invalidMessage(gk, name, errs), {
      ...(name === '' ? {} : { name }),
      ...(group === '' ? {} : { group }),
      ...(kind === '' ? {} : { kind }),
      ...(errs.length > 0 ? { causes: statusCauses(errs) } : {}),
    });
  },
  badRequest: (message: string) => new StatusError(400, 'BadRequest', message),
  unauthorized: (message = 'Unauthorized') => new StatusError(401, 'Unauthorized', message),
  forbidden: (gr: GroupResource, name: string, why: string) =>
    new StatusError(
      403,
      'Forbidden',
      `${name === '' ? qualifiedResource(gr) : `${qualifiedResource(gr)} "${name}"`} is forbidden: ${why}`,
      details(gr, name),
    ),
  methodNotSupported: (gr: GroupResource, action: string) =>
    new StatusError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualifiedResource(gr)}"`, details(gr, '')),
  notAcceptable: (message: string) => new StatusError(406, 'NotAcceptable', message),
  unsupportedMediaType: (message: string) => new StatusError(415, 'UnsupportedMediaType', message),
  /** A watch or continue token from before the compaction revision. */
  resourceExpired: (message: string) => new StatusError(410, 'Expired', message),
  gone: (message: string) => new StatusError(410, 'Gone', message),
  requestEntityTooLarge: (message: string) =>
    new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`),
  tooManyRequests: (message: string, retryAfterSeconds: number) =>
    new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds }),
  internal: (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    return new StatusError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
  },
  serviceUnavailable: (message: string) => new StatusError(503, 'ServiceUnavailable', message),
  timeout: (message: string, retryAfterSeconds = 0) =>
    new StatusError(504, 'Timeout', message, retryAfterSeconds > 0 ? { retryAfterSeconds } : undefined),
};

/** True when `err` is a StatusError, optionally with the given reason. */
export function isStatusError(err: unknown, reason?: string): err is StatusError {
  return err instanceof StatusError && (reason === undefined || err.reason === reason);
}
