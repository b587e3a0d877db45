// Tables for `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`: pick the kind's printer (or the
// default NAME / CREATED AT one that upstream uses for kinds without a printer), print every object in
// the wide form, and attach each row's object as the client asked.
import type { ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { clusterPrinters } from './cluster-printers.js';
import { column, printer } from './columns.js';
import { configPrinters } from './config-printers.js';
import { networkPrinters } from './network-printers.js';
import { podPrinter } from './pod-printer.js';
import { storagePrinters } from './storage-printers.js';
import type { PartialObjectMetadata, Printer, Table, TableRow } from './table.js';
import { workloadPrinters } from './workload-printers.js';

/**
 * The table of kinds without a printer of their own (Roles, ClusterRoles, LimitRanges, CRDs, custom
 * resources): the name and the creation time in RFC 3339, UTC.
 */
export const defaultPrinter: Printer = printer<{ metadata?: ObjectMeta }>(
  [],
  [
    column('Name', 'string', 'The name of the object, unique within its namespace.', { format: 'name' }),
    column('Created At', 'date', 'When the object was created.'),
  ],
  (obj) => ({ cells: [obj.metadata?.name ?? '', createdAt(obj.metadata?.creationTimestamp)] }),
);

/** Go's time formatting of a metav1.Time in UTC; an unset time is Go's zero time. */
function createdAt(value: string | undefined): string {
  const ms = value ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) return '0001-01-01T00:00:00Z';
  return new Date(Math.trunc(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

const printers = new Map<string, Printer>();
for (const p of [
  podPrinter,
  ...workloadPrinters,
  ...networkPrinters,
  ...clusterPrinters,
  ...storagePrinters,
  ...configPrinters,
]) {
  for (const gk of p.groupKinds) printers.set(`${gk.group}/${gk.kind}`, p);
}

/** The printer for a kind (`""` group for core), or the default printer. */
export function printerFor(group: string, kind: string): Printer {
  return printers.get(`${group}/${kind}`) ?? defaultPrinter;
}

/** Which object a row carries: none, the object's metadata (the default), or the whole object. */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface PrintOptions {
  /** The clock for AGE-style cells. */
  now: Date | number;
  /** Default `Metadata`. */
  includeObject?: IncludeObject;
  /** Leave out the column definitions (`noHeaders=true`). */
  noHeaders?: boolean;
  /** The meta.k8s.io version the client asked for; default `v1`. */
  version?: 'v1' | 'v1beta1';
}

/** An object's metadata as the PartialObjectMetadata a Table row carries with `includeObject=Metadata`. */
export function partialObjectMetadata(obj: { metadata?: ObjectMeta }, version: 'v1' | 'v1beta1' = 'v1') {
  const partial: PartialObjectMetadata = {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: obj.metadata ?? {},
  };
  return partial;
}

function rowsOf(p: Printer, objects: readonly object[], options: PrintOptions): TableRow[] {
  const now = typeof options.now === 'number' ? options.now : options.now.getTime();
  const include = options.includeObject ?? 'Metadata';
  return objects.map((obj) => {
    const printed = p.print(obj, now);
    const row: TableRow = { cells: printed.cells, object: null };
    if (printed.conditions) row.conditions = printed.conditions;
    if (include === 'Metadata') row.object = partialObjectMetadata(obj, options.version);
    else if (include === 'Object') row.object = obj;
    return row;
  });
}

function tableOf(p: Printer, metadata: ListMeta, rows: TableRow[], options: PrintOptions): Table {
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.version ?? 'v1'}`,
    metadata,
    columnDefinitions: options.noHeaders ? null : p.columns.map((c) => ({ ...c })),
    rows,
  };
}

/** The Table of one object (a get); its resourceVersion becomes the table's. */
export function printTable(
  group: string,
  kind: string,
  obj: { metadata?: ObjectMeta },
  options: PrintOptions,
): Table {
  const p = printerFor(group, kind);
  const rv = obj.metadata?.resourceVersion;
  const metadata: ListMeta = rv ? { resourceVersion: rv } : {};
  return tableOf(p, metadata, rowsOf(p, [obj], options), options);
}

/** The Table of a list; the list's resourceVersion, continue token and remaining count carry over. */
export function printListTable(
  group: string,
  kind: string,
  list: { metadata?: ListMeta; items: readonly object[] },
  options: PrintOptions,
): Table {
  const p = printerFor(group, kind);
  const m = list.metadata ?? {};
  const metadata: ListMeta = {
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.continue ? { continue: m.continue } : {}),
    ...(m.remainingItemCount !== undefined ? { remainingItemCount: m.remainingItemCount } : {}),
  };
  return tableOf(p, metadata, rowsOf(p, list.items, options), options);
}
