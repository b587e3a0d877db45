import type { KeyValue } from './store.js';

/** Why a store operation failed; the API server maps each to a Status (e.g. Compacted → 410 Gone). */
export type StoreErrorCode =
  | 'KeyExists'
  | 'KeyNotFound'
  | 'Conflict'
  | 'Compacted'
  | 'FutureRevision'
  | 'TooLarge'
  | 'InvalidArgument'
  | 'Unavailable'
  | 'Closed';

/** The one error type every backend throws. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;
  readonly key: string | undefined;
  /** For Conflict: the key's value now (undefined if it was deleted meanwhile). */
  readonly current: KeyValue | undefined;
  /** For Compacted: the oldest revision still available. */
  readonly compactedRevision: number | undefined;

  constructor(
    code: StoreErrorCode,
    message: string,
    details: { key?: string; current?: KeyValue; compactedRevision?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.key = details.key;
    this.current = details.current;
    this.compactedRevision = details.compactedRevision;
  }
}

/** Constructors for each error, worded as etcd words them where etcd has the error. */
export const storeErrors = {
  keyExists: (key: string) => new StoreError('KeyExists', `key exists: ${key}`, { key }),
  keyNotFound: (key: string) => new StoreError('KeyNotFound', `key not found: ${key}`, { key }),
  conflict: (key: string, current: KeyValue | undefined) =>
    new StoreError('Conflict', `key ${key} was modified: expected revision does not match`, { key, current }),
  compacted: (revision: number, compactedRevision: number) =>
    new StoreError(
      'Compacted',
      `mvcc: required revision has been compacted (requested ${revision}, compacted ${compactedRevision})`,
      { compactedRevision },
    ),
  futureRevision: (revision: number, current: number) =>
    new StoreError('FutureRevision', `mvcc: required revision is a future revision (requested ${revision}, current ${current})`),
  tooLarge: (key: string, bytes: number, limit: number) =>
    new StoreError('TooLarge', `etcdserver: request is too large (${bytes} bytes for ${key}, limit ${limit})`, { key }),
  invalid: (message: string) => new StoreError('InvalidArgument', message),
  closed: () => new StoreError('Closed', 'store is closed'),
};

/** True when `err` is a StoreError with the given code. */
export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
