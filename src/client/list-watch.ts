// What a reflector lists and watches: usually one resource through the REST client, optionally narrowed
// by selectors; tests and composite sources can supply their own.
import type {
  KubeList,
  KubeObject,
  ListOptions,
  ResourceRef,
  RESTClient,
  WatchEvent,
} from './rest-client.js';

/** A source of lists and watches of one kind of object. */
export interface ListerWatcher<T extends KubeObject = KubeObject> {
  list(options: ListOptions): Promise<KubeList<T>>;
  watch(options: ListOptions, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

/** Lists and watches `ref` (all namespaces when ref.namespace is unset) with fixed selectors. */
export function listWatch<T extends KubeObject = KubeObject>(
  client: RESTClient,
  ref: ResourceRef,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): ListerWatcher<T> {
  return {
    list: (options) => client.list<T>(ref, { ...options, ...selectors }),
    watch: (options, signal) => client.watch<T>(ref, { ...options, ...selectors }, signal),
  };
}
