// DefaultBinder: writes the pods/binding subresource.
import type { BindPlugin, FrameworkHandle } from '../framework.js';
import { Status } from '../types.js';

export const defaultBinderName = 'DefaultBinder';

export function newDefaultBinder(_args: unknown, handle: FrameworkHandle): BindPlugin {
  return {
    name: defaultBinderName,
    async bind(_state, pod, nodeName) {
      if (!handle.bindPod) return new Status('Error', ['no API client to bind with']);
      try {
        await handle.bindPod(pod, nodeName);
        return null;
      } catch (err) {
        return new Status('Error', [err instanceof Error ? err.message : String(err)]);
      }
    },
  };
}
