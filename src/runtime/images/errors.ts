/**
 * Why an image operation failed. The CRI image service turns these into gRPC statuses, and the kubelet into
 * a waiting reason: InvalidReference becomes InvalidImageName, every other pull failure ErrImagePull (then
 * ImagePullBackOff), so the code must say which failure it was without parsing the message.
 */
export type ImageErrorCode =
  /** The reference does not parse (distribution/reference's grammar). */
  | 'InvalidReference'
  /** The registry has no such repository, tag, manifest or blob, or no manifest for this platform. */
  | 'NotFound'
  /** The registry or its token service refused the credentials, or no credentials were given. */
  | 'Unauthorized'
  /** Content differs from its descriptor: digest or size. Nothing of it was stored. */
  | 'DigestMismatch'
  /** The registry could not be reached or broke the connection: refused, reset, timeout, DNS, TLS. */
  | 'Network'
  /** The registry asks us to slow down (HTTP 429, TOOMANYREQUESTS). */
  | 'TooManyRequests'
  /** Any other answer of the registry that is not a success. */
  | 'Registry'
  /** A manifest, index or config that does not follow the OCI or Docker schema. */
  | 'InvalidManifest'
  /** Something valid that we do not handle: schema 1 manifests, zstd layers without zstd, foreign layers. */
  | 'Unsupported'
  /** A layer tar that cannot be applied safely: paths escaping the root, broken links, bad entries. */
  | 'InvalidLayer'
  /** An import file that is neither an OCI image layout nor a `docker save` archive. */
  | 'InvalidArchive'
  /** The image or container is not known to the store. */
  | 'ImageNotKnown'
  /** The rootfs could not be mounted or unmounted. */
  | 'Mount'
  /** A registries config that does not parse or check. */
  | 'InvalidConfig'
  /** Garbage collection could not free the space it wanted. */
  | 'GCFailed'
  /** The caller aborted the operation. */
  | 'Aborted';

/** The one error type of the image subsystem. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly code: ImageErrorCode;
  /** The HTTP status the registry answered, where there was one. */
  readonly httpStatus: number | undefined;

  constructor(code: ImageErrorCode, message: string, details: { cause?: unknown; httpStatus?: number } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.httpStatus = details.httpStatus;
  }
}

/** True when `err` is an ImageError, with the given code if one is named. */
export function isImageError(err: unknown, code?: ImageErrorCode): err is ImageError {
  return err instanceof ImageError && (code === undefined || err.code === code);
}

/** Constructors for the errors raised in more than one place, worded as containerd words them. */
export const imageErrors = {
  digestMismatch: (ref: string, expected: string, actual: string) =>
    new ImageError(
      'DigestMismatch',
      `failed commit on ref "${ref}": unexpected commit digest ${actual}, expected ${expected}: failed precondition`,
    ),
  sizeMismatch: (ref: string, expected: number, actual: number) =>
    new ImageError(
      'DigestMismatch',
      `failed commit on ref "${ref}": "${ref}" failed size validation: ${actual} != ${expected}: failed precondition`,
    ),
  invalidManifest: (what: string, reason: string) =>
    new ImageError('InvalidManifest', `invalid ${what}: ${reason}`),
  aborted: (what: string) => new ImageError('Aborted', `${what}: operation aborted`),
};
