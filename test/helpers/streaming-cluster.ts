// A `k8ts server` plus a kubelet server in this process whose runtime is the host TEST DOUBLE, with a Node
// pointing at it: what the streaming e2e test and benchmark need to run pods' logs, exec, attach and
// port-forward end to end without a container runtime.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CertificateAuthority } from '../../src/apiserver/pki/certificate-authority.js';
import { serverCertFiles } from '../../src/apiserver/pki/server-certs.js';
import { loadKubeconfig, RESTClient } from '../../src/client/index.js';
import type { StreamingSession } from '../../src/kubelet/server/kubelet-server.js';
import { KubeletServer } from '../../src/kubelet/server/kubelet-server.js';
import { HostStreamingRuntime } from './host-streaming-runtime.js';
import { K8tsProcess } from './k8ts-process.js';

/** The node the kubelet server plays. */
export const streamingNode = 'stream-node';

export interface StreamingCluster {
  kubeconfig: string;
  runtime: HostStreamingRuntime;
  /** Every streaming session the kubelet served, in order. */
  sessions: StreamingSession[];
  client: RESTClient;
  /** Creates a pod in default with the given containers, bound to `node` (default the stream node; null: unbound), and sets its status. */
  createPod(name: string, containers: string[], state: 'running' | 'creating', node?: string | null): Promise<void>;
  /** Starts another kubelet server and its Node; `signer` signs its serving certificate (default: the server CA). */
  addNode(name: string, signer?: CertificateAuthority): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the server, the kubelet server and the Node object. */
export async function startStreamingCluster(
  // Only the API server is needed: no controllers, kube-proxy (host nftables), DNS or cloud controller; without
  // the service account controller no default ServiceAccount exists, so its admission plugin is off.
  serverArgs: string[] = [
    '--disable-controller-manager',
    '--disable-admission-plugins',
    'ServiceAccount',
    '--disable-kube-proxy',
    '--disable-cloud-controller',
    '--disable',
    'coredns,servicelb',
  ],
): Promise<StreamingCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-streaming-'));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const runtime = new HostStreamingRuntime();
  const sessions: StreamingSession[] = [];
  const server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', ...serverArgs]);
  const kubelets: KubeletServer[] = [];
  const stop = async (): Promise<void> => {
    for (const k of kubelets) await k.stop();
    const code = await server.stop();
    runtime.cleanup();
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`k8ts server exited with ${code}:\n${server.output}`);
  };
  try {
    await server.waitForLog(/"msg":"API server ready"/);
    // Kubelets' serving certificates come from the server CA, as k3s issues them; their callers from the client CA.
    const files = serverCertFiles(path.join(dir, 'tls'));
    const serverCA = await CertificateAuthority.load(readFileSync(files.serverCaCert, 'utf8'), readFileSync(files.serverCaKey, 'utf8'));
    const client = new RESTClient(loadKubeconfig(kubeconfig));
    const nodes = { group: '', version: 'v1', resource: 'nodes' };
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    const addNode = async (nodeName: string, signer: CertificateAuthority = serverCA): Promise<void> => {
      const serving = await signer.issueServingCertificate({ commonName: nodeName, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
      const kubelet = new KubeletServer({
        runtime,
        // The pods bound to this node, as a kubelet's pod manager would know them.
        pods: {
          pods: async () => (await client.list({ group: '', version: 'v1', resource: 'pods' }, { fieldSelector: `spec.nodeName=${nodeName}` })).items,
        },
        tls: { cert: serving.certPem, key: serving.keyPem, clientCA: readFileSync(files.clientCaCert, 'utf8') },
        address: '127.0.0.1',
        port: 0,
        onSession: (session) => sessions.push(session),
      });
      kubelets.push(kubelet);
      const kubeletPort = await kubelet.start();
      await client.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName } });
      await client.patch(
        nodes,
        nodeName,
        { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } },
        'merge',
        { subresource: 'status' },
      );
    };
    await addNode(streamingNode);
    const createPod = async (name: string, containers: string[], state: 'running' | 'creating', node: string | null = streamingNode): Promise<void> => {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const running = state === 'running';
      await client.create(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { ...(node ? { nodeName: node } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
      });
      const containerState = running ? { running: { startedAt: now } } : { waiting: { reason: 'ContainerCreating' } };
      await client.patch(
        pods,
        name,
        {
          status: {
            phase: running ? 'Running' : 'Pending',
            startTime: now,
            containerStatuses: containers.map((c) => ({ name: c, image: 'busybox', imageID: '', ready: running, restartCount: 0, state: containerState })),
          },
        },
        'merge',
        { subresource: 'status' },
      );
    };
    return { kubeconfig, runtime, sessions, client, createPod, addNode, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
