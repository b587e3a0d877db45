// Building blocks for printers: column definitions and the cells that many kinds share.
import type { Container } from 'kubernetes-types/core/v1.js';
import type { GroupKind, PrintedRow, Printer, TableColumnDefinition } from './table.js';

/** A column definition; `wide` columns (priority 1) show only with `kubectl get -o wide`. */
export function column(
  name: string,
  type: string,
  description: string,
  options: { wide?: boolean; format?: string } = {},
): TableColumnDefinition {
  return { name, type, format: options.format ?? '', description, priority: options.wide ? 1 : 0 };
}

/** The NAME column every kind starts with. */
export const nameColumn = column('Name', 'string', 'The name of the object, unique within its namespace.', {
  format: 'name',
});

/** The AGE column: how long ago the object was created. */
export const ageColumn = column('Age', 'string', 'How long ago the object was created.');

/** The CONTAINERS and IMAGES wide columns of workload kinds. */
export const containerColumns = [
  column('Containers', 'string', 'The names of the containers in the pod template.', { wide: true }),
  column('Images', 'string', 'The images the pod template runs.', { wide: true }),
];

/** Container names and images, each joined by commas in container order. */
export function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/** Define a printer for the given group-kinds, typing the object it receives. */
export function printer<T extends object>(
  groupKinds: readonly GroupKind[],
  columns: readonly TableColumnDefinition[],
  print: (obj: T, now: number) => PrintedRow,
): Printer {
  return { groupKinds, columns, print: print as (obj: object, now: number) => PrintedRow };
}

/** A JSON number for an integer cell, as Go's int64 cells serialise (absent counts as zero). */
export function int(value: number | undefined | null): number {
  return value ?? 0;
}

/** "True", "False" or "<unset>" for an optional boolean, as upstream prints CronJob's suspend. */
export function boolPointer(value: boolean | undefined): string {
  if (value === undefined) return '<unset>';
  return value ? 'True' : 'False';
}
