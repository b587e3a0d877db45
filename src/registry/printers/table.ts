// The shapes of meta.k8s.io Tables (what the API server returns for `Accept: application/json;as=Table;...`)
// and of the printers that fill them, one printer per kind.
import type { ListMeta, ObjectMeta } from 'kubernetes-types/meta/v1.js';

/** One column of a Table. Columns with priority 1 are shown by kubectl only with `-o wide`. */
export interface TableColumnDefinition {
  name: string;
  /** An OpenAPI type: `string`, `integer`, `number`, `boolean`, `date`. */
  type: string;
  /** An OpenAPI format: `name` marks the column that holds the object's name; usually empty. */
  format: string;
  description: string;
  priority: number;
}

/** A cell: strings, numbers and booleans as upstream's printers emit them. */
export type TableCell = string | number | boolean;

/** A condition of a row; upstream marks finished pods with `Completed`. */
export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The object carried by a row when the client asked for `includeObject=Metadata` (the default). */
export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: string;
  metadata: ObjectMeta;
}

/** One row: the cells in column order, and the object (null when `includeObject=None`). */
export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  object: object | null;
}

/** A meta.k8s.io Table. */
export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: ListMeta;
  /** Null when the client asked for no headers (`noHeaders=true`), as upstream sends it. */
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[];
}

/** What a printer computes for one object. */
export interface PrintedRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
}

/** A kind within an API group (`""` for core). */
export interface GroupKind {
  group: string;
  kind: string;
}

/**
 * The columns of a kind and how to fill them for one object. The API server always prints the wide form
 * (every column, priority 0 and 1), and kubectl hides priority-1 columns unless asked for `-o wide`.
 */
export interface Printer {
  readonly groupKinds: readonly GroupKind[];
  readonly columns: readonly TableColumnDefinition[];
  /** `now` is milliseconds since the epoch, for the AGE-style cells. */
  readonly print: (obj: object, now: number) => PrintedRow;
}
