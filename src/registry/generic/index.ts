// The generic registry: one store for every resource, specialised by strategies.
export { formatTime, optimisticLockMessage, RegistryStore } from './registry-store.js';
export type { DeleteOptions, DeleteResult, ObjectEvent, RegistryStoreOptions, UpdateOptions, WriteOptions } from './registry-store.js';
export type { KObject, ObjectMeta, ResourceStrategy } from './strategy.js';
