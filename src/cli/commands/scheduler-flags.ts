// The flags of `k8ts scheduler`, apart from the command: the CLI lists every command's flags, and the
// scheduler's own modules are loaded only when it runs.
import type { FlagSpec } from '../flags.js';

/** `k8ts scheduler`'s flags, named as kube-scheduler's where it has them. */
export const schedulerFlags: FlagSpec = {
  kubeconfig: {
    type: 'string',
    help: 'kubeconfig of the API server to schedule for (default: $KUBECONFIG or ~/.kube/config)',
    default: '',
  },
  config: {
    type: 'string',
    help: 'a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1)',
    default: '',
  },
  'leader-elect': {
    type: 'boolean',
    help: "take the Lease kube-system/kube-scheduler (or the config's resourceName) before scheduling",
  },
  'leader-elect-lease-duration': { type: 'string', help: 'how long a leader lease is valid', default: '15s' },
  'leader-elect-renew-deadline': {
    type: 'string',
    help: 'how long the leader tries to renew before giving up',
    default: '10s',
  },
  'leader-elect-retry-period': {
    type: 'string',
    help: 'the pause between leader election tries',
    default: '2s',
  },
  'metrics-bind-address': {
    type: 'string',
    help: 'address of the plain-HTTP /metrics and /healthz endpoint',
    default: '127.0.0.1',
  },
  'metrics-port': {
    type: 'string',
    help: "port of /metrics and /healthz (kube-scheduler's 10259, plain HTTP here; 0 picks a free port)",
    default: '10259',
  },
  'kube-api-qps': { type: 'string', help: 'requests per second to the API server', default: '50' },
  'kube-api-burst': { type: 'string', help: 'burst of requests to the API server', default: '100' },
};
