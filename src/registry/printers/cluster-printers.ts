// Tables of the cluster-level and bookkeeping kinds: Nodes, Namespaces, Events (both APIs), Leases,
// PriorityClasses, RoleBindings and ClusterRoleBindings.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event as CoreEvent, Namespace, Node } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { ageColumn, column, int, nameColumn, printer } from './columns.js';
import { parseTime, translateTimestampSince } from './human-duration.js';
import type { PrintedRow, Printer } from './table.js';

const nodeRolePrefix = 'node-role.kubernetes.io/';
const legacyNodeRoleLabel = 'kubernetes.io/role';

/** Roles from `node-role.kubernetes.io/<role>` label keys and the older `kubernetes.io/role=<role>`. */
function nodeRoles(node: Node): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
    if (key.startsWith(nodeRolePrefix)) {
      const role = key.slice(nodeRolePrefix.length);
      if (role) roles.add(role);
    } else if (key === legacyNodeRoleLabel && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort().join(',') || '<none>';
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

const nodePrinter = printer<Node>(
  [{ group: '', kind: 'Node' }],
  [
    nameColumn,
    column('Status', 'string', 'Whether the node is ready, and whether it takes new pods.'),
    column('Roles', 'string', 'The roles named by the node-role labels.'),
    ageColumn,
    column('Version', 'string', 'The kubelet version the node runs.'),
    column('Internal-IP', 'string', 'The first internal address of the node.', { wide: true }),
    column('External-IP', 'string', 'The first external address of the node.', { wide: true }),
    column('OS-Image', 'string', 'The operating system the node reports.', { wide: true }),
    column('Kernel-Version', 'string', 'The kernel the node runs.', { wide: true }),
    column('Container-Runtime', 'string', 'The container runtime and its version.', { wide: true }),
  ],
  (node, now) => {
    // The last condition of a type wins, and only Ready is shown.
    let ready: string | undefined;
    for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') ready = c.status;
    const status: string[] = [];
    if (ready !== undefined) status.push(ready === 'True' ? 'Ready' : 'NotReady');
    else status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');
    const info = node.status?.nodeInfo;
    return {
      cells: [
        node.metadata?.name ?? '',
        status.join(','),
        nodeRoles(node),
        translateTimestampSince(node.metadata?.creationTimestamp, now),
        info?.kubeletVersion ?? '',
        nodeAddress(node, 'InternalIP'),
        nodeAddress(node, 'ExternalIP'),
        info?.osImage || '<unknown>',
        info?.kernelVersion || '<unknown>',
        info?.containerRuntimeVersion || '<unknown>',
      ],
    };
  },
);

const namespacePrinter = printer<Namespace>(
  [{ group: '', kind: 'Namespace' }],
  [
    nameColumn,
    column('Status', 'string', 'Active, or Terminating while its contents are deleted.'),
    ageColumn,
  ],
  (ns, now) => ({
    cells: [
      ns.metadata?.name ?? '',
      ns.status?.phase ?? '',
      translateTimestampSince(ns.metadata?.creationTimestamp, now),
    ],
  }),
);

const eventColumns = [
  column('Last Seen', 'string', 'How long ago the event last happened.'),
  column('Type', 'string', 'Normal or Warning.'),
  column('Reason', 'string', 'A short machine-readable cause.'),
  column('Object', 'string', 'The object the event is about.'),
  column('Subobject', 'string', 'The part of the object, such as one container.', { wide: true }),
  column('Source', 'string', 'The component that reported the event.', { wide: true }),
  column('Message', 'string', 'What happened, for humans.'),
  column('First Seen', 'string', 'How long ago the event first happened.', { wide: true }),
  column('Count', 'string', 'How many times it happened.', { wide: true }),
  column('Name', 'string', 'The name of the event object.', { wide: true, format: 'name' }),
];

/** An events.k8s.io Event seen as the core Event it is stored as (the same object under other names). */
function coreEventOf(e: EventsV1Event): CoreEvent {
  const core: CoreEvent = {
    metadata: e.metadata ?? {},
    involvedObject: e.regarding ?? {},
    eventTime: e.eventTime,
  };
  if (e.note !== undefined) core.message = e.note;
  if (e.reason !== undefined) core.reason = e.reason;
  if (e.type !== undefined) core.type = e.type;
  if (e.series) core.series = e.series;
  if (e.deprecatedSource) core.source = e.deprecatedSource;
  if (e.deprecatedFirstTimestamp) core.firstTimestamp = e.deprecatedFirstTimestamp;
  if (e.deprecatedLastTimestamp) core.lastTimestamp = e.deprecatedLastTimestamp;
  if (e.deprecatedCount !== undefined) core.count = e.deprecatedCount;
  if (e.reportingController !== undefined) core.reportingComponent = e.reportingController;
  if (e.reportingInstance !== undefined) core.reportingInstance = e.reportingInstance;
  return core;
}

function printEvent(e: CoreEvent, now: number): PrintedRow {
  const firstTimestamp =
    parseTime(e.firstTimestamp) !== undefined
      ? translateTimestampSince(e.firstTimestamp, now)
      : translateTimestampSince(e.eventTime, now);
  let lastTimestamp =
    parseTime(e.lastTimestamp) !== undefined ? translateTimestampSince(e.lastTimestamp, now) : firstTimestamp;
  let count = int(e.count);
  if (e.series) {
    lastTimestamp = translateTimestampSince(e.series.lastObservedTime, now);
    count = int(e.series.count);
  } else if (count === 0) {
    // Events written through events.k8s.io have no count until they repeat.
    count = 1;
  }
  const involved = e.involvedObject;
  const kind = (involved?.kind ?? '').toLowerCase();
  const target = involved?.name ? `${kind}/${involved.name}` : kind;
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  return {
    cells: [
      lastTimestamp,
      e.type ?? '',
      e.reason ?? '',
      target,
      involved?.fieldPath ?? '',
      instance ? `${component}, ${instance}` : component,
      (e.message ?? '').trim(),
      firstTimestamp,
      count,
      e.metadata?.name ?? '',
    ],
  };
}

const coreEventPrinter = printer<CoreEvent>([{ group: '', kind: 'Event' }], eventColumns, printEvent);

const eventsV1Printer = printer<EventsV1Event>(
  [{ group: 'events.k8s.io', kind: 'Event' }],
  eventColumns,
  (e, now) => printEvent(coreEventOf(e), now),
);

const leasePrinter = printer<Lease>(
  [{ group: 'coordination.k8s.io', kind: 'Lease' }],
  [nameColumn, column('Holder', 'string', 'Who holds the lease now.'), ageColumn],
  (lease, now) => ({
    cells: [
      lease.metadata?.name ?? '',
      lease.spec?.holderIdentity ?? '',
      translateTimestampSince(lease.metadata?.creationTimestamp, now),
    ],
  }),
);

const priorityClassPrinter = printer<PriorityClass>(
  [{ group: 'scheduling.k8s.io', kind: 'PriorityClass' }],
  [
    nameColumn,
    column('Value', 'integer', 'The priority pods of this class get; higher schedules first.'),
    column('Global-Default', 'boolean', 'Whether pods without a class get this one.'),
    ageColumn,
    column('PreemptionPolicy', 'string', 'Whether pods of this class may evict lower-priority pods.'),
  ],
  (pc, now) => ({
    cells: [
      pc.metadata?.name ?? '',
      pc.value,
      pc.globalDefault ?? false,
      translateTimestampSince(pc.metadata?.creationTimestamp, now),
      pc.preemptionPolicy ?? '',
    ],
  }),
);

/** Users, groups and service accounts (`namespace/name`) of a binding, each list joined by ", ". */
function subjectCells(subjects: readonly Subject[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of subjects ?? []) {
    if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return [users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
}

function bindingColumns(what: string) {
  return [
    nameColumn,
    column('Role', 'string', 'The role the binding grants, as Kind/name.'),
    ageColumn,
    column('Users', 'string', `Users the ${what} grants the role to.`, { wide: true }),
    column('Groups', 'string', `Groups the ${what} grants the role to.`, { wide: true }),
    column('ServiceAccounts', 'string', `Service accounts the ${what} grants the role to.`, { wide: true }),
  ];
}

function printBinding(b: RoleBinding | ClusterRoleBinding, now: number): PrintedRow {
  return {
    cells: [
      b.metadata?.name ?? '',
      `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`,
      translateTimestampSince(b.metadata?.creationTimestamp, now),
      ...subjectCells(b.subjects),
    ],
  };
}

const roleBindingPrinter = printer<RoleBinding>(
  [{ group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' }],
  bindingColumns('binding'),
  printBinding,
);

const clusterRoleBindingPrinter = printer<ClusterRoleBinding>(
  [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' }],
  bindingColumns('cluster-wide binding'),
  printBinding,
);

/** Printers of the cluster-level kinds. */
export const clusterPrinters: readonly Printer[] = [
  nodePrinter,
  namespacePrinter,
  coreEventPrinter,
  eventsV1Printer,
  leasePrinter,
  priorityClassPrinter,
  roleBindingPrinter,
  clusterRoleBindingPrinter,
];
