// The flags of `k8ts runtime` and `k8ts images import`, apart from the commands: the CLI lists every
// command's flags, and loading the runtime itself (gRPC, the image store) would slow every start.
import type { FlagSpec } from '../flags.js';

/** `k8ts runtime`'s flags. */
export const runtimeFlags: FlagSpec = {
  listen: { type: 'string', help: 'where to serve CRI', default: 'unix:///run/k8ts/cri.sock' },
  'data-dir': { type: 'string', short: 'd', help: 'folder that holds the runtime state (images, containers)', default: '' },
  'state-dir': { type: 'string', help: 'folder for volatile state (namespaces, OCI runtime state)', default: '/run/k8ts/runtime' },
  'oci-runtime': { type: 'string', help: 'OCI runtime binary: runc or crun (or a path)', default: 'runc' },
  'cni-conf-dir': { type: 'string', help: 'CNI configuration folder (default: cni/net.d in the data directory)', default: '' },
  'cni-bin-dir': { type: 'string', help: 'CNI plugin folders, comma-separated', default: '/usr/lib/cni,/opt/cni/bin' },
  'pod-cidr': { type: 'string', help: "the node's pod CIDRs for the default CNI configuration, comma-separated", default: '10.42.0.0/24,fd42::/64' },
  'cni-bridge': { type: 'string', help: 'bridge of the default CNI configuration', default: 'k8ts0' },
  'private-registry': { type: 'string', help: 'registries file (mirrors, auth, plain HTTP)', default: '/etc/k8ts/registries.yaml' },
  'cgroup-root': { type: 'string', help: 'cgroup under which pods without a cgroup parent get theirs', default: '/k8ts' },
  'images-dir': { type: 'string', help: 'folder of image archives imported at start (default: images in the data directory)', default: '' },
}; // prettier-ignore

/** `k8ts images import`'s flags. */
export const imagesImportFlags: FlagSpec = {
  'data-dir': runtimeFlags['data-dir']!,
  'runtime-endpoint': {
    type: 'string',
    help: 'the runtime to import through, if it runs',
    default: 'unix:///run/k8ts/cri.sock',
  },
};
