// Freezing shared values: caches hand the same object to many readers, and none may change it.

/** Freezes a value and everything it holds, so readers of shared state cannot change it by accident. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
