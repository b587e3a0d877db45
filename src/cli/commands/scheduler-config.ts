// Reading a KubeSchedulerConfiguration file, for `k8ts scheduler --config` and `k8ts server --scheduler-config`.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { KubeSchedulerConfiguration, ResolvedConfiguration } from '../../scheduler/index.js';
import { resolveConfiguration } from '../../scheduler/index.js';

/** Reads and resolves a KubeSchedulerConfiguration file (YAML or JSON). */
export function loadSchedulerConfig(file: string): ResolvedConfiguration {
  if (!file) return resolveConfiguration();
  const raw = parseYaml(readFileSync(file, 'utf8')) as KubeSchedulerConfiguration | null;
  return resolveConfiguration(raw ?? {});
}

