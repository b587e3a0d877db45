// Tables of the workload kinds: Deployments, ReplicaSets, StatefulSets, DaemonSets, ControllerRevisions,
// ReplicationControllers, PodTemplates, Jobs and CronJobs.
import type {
  ControllerRevision,
  DaemonSet,
  Deployment,
  ReplicaSet,
  StatefulSet,
} from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { PodTemplate, ReplicationController } from 'kubernetes-types/core/v1.js';
import {
  ageColumn,
  boolPointer,
  column,
  containerCells,
  containerColumns,
  int,
  nameColumn,
  printer,
} from './columns.js';
import { humanDuration, parseTime, translateTimestampSince } from './human-duration.js';
import { formatLabels, formatLabelSelector, labelSelectorString } from './label-selector.js';
import type { Printer } from './table.js';

const selectorColumn = column('Selector', 'string', 'The label selector that picks the pods it owns.', {
  wide: true,
});
const desired = column('Desired', 'integer', 'The number of pods asked for.');
const current = column('Current', 'integer', 'The number of pods that exist.');
const readyCount = column('Ready', 'integer', 'The number of pods that are ready.');

// Printers see objects as upstream's do, after defaulting: an unset replica count means one.
const replicasOf = (replicas: number | undefined): number => replicas ?? 1;

const deploymentPrinter = printer<Deployment>(
  [{ group: 'apps', kind: 'Deployment' }],
  [
    nameColumn,
    column('Ready', 'string', 'Ready pods out of the pods asked for.'),
    column('Up-to-date', 'string', 'Pods that run the latest pod template.'),
    column('Available', 'string', 'Pods that have been ready long enough to serve.'),
    ageColumn,
    ...containerColumns,
    selectorColumn,
  ],
  (d, now) => {
    const selector = labelSelectorString(d.spec?.selector);
    return {
      cells: [
        d.metadata?.name ?? '',
        `${int(d.status?.readyReplicas)}/${replicasOf(d.spec?.replicas)}`,
        int(d.status?.updatedReplicas),
        int(d.status?.availableReplicas),
        translateTimestampSince(d.metadata?.creationTimestamp, now),
        ...containerCells(d.spec?.template?.spec?.containers),
        // Unlike the other workloads, an empty selector prints as nothing rather than <none>.
        selector ?? '<invalid>',
      ],
    };
  },
);

const replicaSetPrinter = printer<ReplicaSet>(
  [{ group: 'apps', kind: 'ReplicaSet' }],
  [nameColumn, desired, current, readyCount, ageColumn, ...containerColumns, selectorColumn],
  (rs, now) => ({
    cells: [
      rs.metadata?.name ?? '',
      replicasOf(rs.spec?.replicas),
      int(rs.status?.replicas),
      int(rs.status?.readyReplicas),
      translateTimestampSince(rs.metadata?.creationTimestamp, now),
      ...containerCells(rs.spec?.template?.spec?.containers),
      formatLabelSelector(rs.spec?.selector),
    ],
  }),
);

const statefulSetPrinter = printer<StatefulSet>(
  [{ group: 'apps', kind: 'StatefulSet' }],
  [
    nameColumn,
    column('Ready', 'string', 'Ready pods out of the pods asked for.'),
    ageColumn,
    ...containerColumns,
  ],
  (sts, now) => ({
    cells: [
      sts.metadata?.name ?? '',
      `${int(sts.status?.readyReplicas)}/${replicasOf(sts.spec?.replicas)}`,
      translateTimestampSince(sts.metadata?.creationTimestamp, now),
      ...containerCells(sts.spec?.template?.spec?.containers),
    ],
  }),
);

const daemonSetPrinter = printer<DaemonSet>(
  [{ group: 'apps', kind: 'DaemonSet' }],
  [
    nameColumn,
    column('Desired', 'integer', 'The number of nodes that should run the pod.'),
    column('Current', 'integer', 'The number of nodes that run the pod.'),
    column('Ready', 'integer', 'The number of nodes where the pod is ready.'),
    column('Up-to-date', 'integer', 'The number of nodes that run the latest pod template.'),
    column('Available', 'integer', 'The number of nodes where the pod is available.'),
    column('Node Selector', 'string', 'The node labels the pod template requires.'),
    ageColumn,
    ...containerColumns,
    selectorColumn,
  ],
  (ds, now) => ({
    cells: [
      ds.metadata?.name ?? '',
      int(ds.status?.desiredNumberScheduled),
      int(ds.status?.currentNumberScheduled),
      int(ds.status?.numberReady),
      int(ds.status?.updatedNumberScheduled),
      int(ds.status?.numberAvailable),
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      translateTimestampSince(ds.metadata?.creationTimestamp, now),
      ...containerCells(ds.spec?.template?.spec?.containers),
      formatLabelSelector(ds.spec?.selector),
    ],
  }),
);

/** `kind.group/name` of the controlling owner, the way upstream names it ("statefulset.apps/web"). */
function controllerName(revision: ControllerRevision): string {
  const ref = revision.metadata?.ownerReferences?.find((r) => r.controller === true);
  if (!ref) return '<none>';
  const parts = ref.apiVersion.split('/');
  if (parts.length > 2) throw new Error(`unexpected GroupVersion string: ${ref.apiVersion}`);
  const group = parts.length === 2 ? (parts[0] ?? '') : '';
  if (group === '' && ref.kind === '') return ref.name;
  const groupKind = group === '' ? ref.kind : `${ref.kind}.${group}`;
  return `${groupKind.toLowerCase()}/${ref.name}`;
}

const controllerRevisionPrinter = printer<ControllerRevision>(
  [{ group: 'apps', kind: 'ControllerRevision' }],
  [
    nameColumn,
    column('Controller', 'string', 'The object that owns this revision.'),
    column('Revision', 'string', 'The revision number.'),
    ageColumn,
  ],
  (cr, now) => ({
    cells: [
      cr.metadata?.name ?? '',
      controllerName(cr),
      cr.revision,
      translateTimestampSince(cr.metadata?.creationTimestamp, now),
    ],
  }),
);

const replicationControllerPrinter = printer<ReplicationController>(
  [{ group: '', kind: 'ReplicationController' }],
  [nameColumn, desired, current, readyCount, ageColumn, ...containerColumns, selectorColumn],
  (rc, now) => ({
    cells: [
      rc.metadata?.name ?? '',
      replicasOf(rc.spec?.replicas),
      int(rc.status?.replicas),
      int(rc.status?.readyReplicas),
      translateTimestampSince(rc.metadata?.creationTimestamp, now),
      ...containerCells(rc.spec?.template?.spec?.containers),
      formatLabels(rc.spec?.selector),
    ],
  }),
);

const podTemplatePrinter = printer<PodTemplate>(
  [{ group: '', kind: 'PodTemplate' }],
  [
    nameColumn,
    column('Containers', 'string', 'The names of the containers in the template.'),
    column('Images', 'string', 'The images the template runs.'),
    column('Pod Labels', 'string', 'The labels pods made from the template get.'),
  ],
  (pt) => ({
    cells: [
      pt.metadata?.name ?? '',
      ...containerCells(pt.template?.spec?.containers),
      formatLabels(pt.template?.metadata?.labels),
    ],
  }),
);

/** The status of the first condition of a type decides, as upstream looks no further. */
function jobCondition(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  return (conditions ?? []).find((c) => c.type === type)?.status === 'True';
}

const jobPrinter = printer<Job>(
  [{ group: 'batch', kind: 'Job' }],
  [
    nameColumn,
    column('Status', 'string', 'Where the job is: Running, Complete, Failed, Suspended, ...'),
    column('Completions', 'string', 'Pods that succeeded out of the completions asked for.'),
    column('Duration', 'string', 'How long the job ran, or has been running.'),
    ageColumn,
    ...containerColumns,
    selectorColumn,
  ],
  (job, now) => {
    const spec = job.spec;
    const st = job.status ?? {};
    // Defaulting sets both to one when neither is given.
    const bothUnset = spec?.completions === undefined && spec?.parallelism === undefined;
    const completions = bothUnset ? 1 : spec?.completions;
    const parallelism = bothUnset ? 1 : (spec?.parallelism ?? 1);
    const succeeded = int(st.succeeded);
    let completionsCell: string;
    if (completions !== undefined) completionsCell = `${succeeded}/${completions}`;
    else if (parallelism > 1) completionsCell = `${succeeded}/1 of ${parallelism}`;
    else completionsCell = `${succeeded}/1`;

    const start = parseTime(st.startTime);
    const end = parseTime(st.completionTime);
    let duration = '';
    if (start !== undefined) duration = humanDuration((end ?? now) - start);

    let status: string;
    if (jobCondition(st.conditions, 'Complete')) status = 'Complete';
    else if (jobCondition(st.conditions, 'Failed')) status = 'Failed';
    else if (job.metadata?.deletionTimestamp) status = 'Terminating';
    else if (jobCondition(st.conditions, 'Suspended')) status = 'Suspended';
    else if (jobCondition(st.conditions, 'FailureTarget')) status = 'FailureTarget';
    else status = 'Running';

    return {
      cells: [
        job.metadata?.name ?? '',
        status,
        completionsCell,
        duration,
        translateTimestampSince(job.metadata?.creationTimestamp, now),
        ...containerCells(spec?.template?.spec?.containers),
        formatLabelSelector(spec?.selector),
      ],
    };
  },
);

const cronJobPrinter = printer<CronJob>(
  [{ group: 'batch', kind: 'CronJob' }],
  [
    nameColumn,
    column('Schedule', 'string', 'The cron schedule jobs are started on.'),
    column('Timezone', 'string', 'The time zone the schedule is read in.'),
    column('Suspend', 'boolean', 'Whether new runs are held back.'),
    column('Active', 'integer', 'The number of jobs running now.'),
    column('Last Schedule', 'string', 'How long ago a job was last started.'),
    ageColumn,
    ...containerColumns,
    selectorColumn,
  ],
  (cj, now) => {
    const last = cj.status?.lastScheduleTime;
    return {
      cells: [
        cj.metadata?.name ?? '',
        cj.spec?.schedule ?? '',
        cj.spec?.timeZone ?? '<none>',
        // Defaulting sets suspend to false.
        boolPointer(cj.spec?.suspend ?? false),
        int(cj.status?.active?.length),
        last ? translateTimestampSince(last, now) : '<none>',
        translateTimestampSince(cj.metadata?.creationTimestamp, now),
        ...containerCells(cj.spec?.jobTemplate?.spec?.template?.spec?.containers),
        formatLabelSelector(cj.spec?.jobTemplate?.spec?.selector),
      ],
    };
  },
);

/** Printers of the workload kinds. */
export const workloadPrinters: readonly Printer[] = [
  deploymentPrinter,
  replicaSetPrinter,
  statefulSetPrinter,
  daemonSetPrinter,
  controllerRevisionPrinter,
  replicationControllerPrinter,
  podTemplatePrinter,
  jobPrinter,
  cronJobPrinter,
];
