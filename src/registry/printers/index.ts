// The Table printers: what `kubectl get` shows for each kind, computed on the server as upstream does.
export {
  defaultPrinter,
  partialObjectMetadata,
  printerFor,
  printListTable,
  printTable,
  type IncludeObject,
  type PrintOptions,
} from './print-table.js';
export { humanDuration, translateTimestampSince } from './human-duration.js';
export type {
  GroupKind,
  PartialObjectMetadata,
  PrintedRow,
  Printer,
  Table,
  TableCell,
  TableColumnDefinition,
  TableRow,
  TableRowCondition,
} from './table.js';
