// The volume plugins' places in the default profile (VolumeRestrictions, NodeVolumeLimits, VolumeBinding,
// VolumeZone). Until the storage issue lands they accept every node: their PreFilter skips their Filter.
// They exist so that configurations naming them load, and so storage can fill them in without touching
// the profile.
import type { FilterPlugin, PreFilterPlugin } from '../framework.js';
import { Status } from '../types.js';

export const volumePluginNames = ['VolumeRestrictions', 'NodeVolumeLimits', 'VolumeBinding', 'VolumeZone'] as const;

export function newVolumePlaceholder(name: string): PreFilterPlugin & FilterPlugin {
  return {
    name,
    preFilter: () => new Status('Skip'),
    filter: () => null,
  };
}
