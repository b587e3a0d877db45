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
  /** Creates a pod in default with the given containers, bound to the node unless `bound` is false, and sets its status. */
  createPod(name: string, containers: string[], state: 'running' | 'creating', bound?: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the server, the kubelet server and the Node object. */
export async function startStreamingCluster(serverArgs: string[] = ['--disable-controller-manager']): Promise<StreamingCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-streaming-'));
  const kubeconfig = path.join(dir, 'kubeconfig.yaml');
  const runtime = new HostStreamingRuntime();
  const sessions: StreamingSession[] = [];
  const server = new K8tsProcess(['server', '--data-dir', dir, '--https-listen-port', '0', '--bind-address', '127.0.0.1', ...serverArgs]);
  let kubelet: KubeletServer | undefined;
  const stop = async (): Promise<void> => {
    await kubelet?.stop();
    const code = await server.stop();
    runtime.cleanup();
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`k8ts server exited with ${code}:\n${server.output}`);
  };
  try {
    await server.waitForLog(/"msg":"API server ready"/);
    // The kubelet's serving certificate comes from the server CA, as k3s issues them; its callers from the client CA.
    const files = serverCertFiles(path.join(dir, 'tls'));
    const serverCA = await CertificateAuthority.load(readFileSync(files.serverCaCert, 'utf8'), readFileSync(files.serverCaKey, 'utf8'));
    const serving = await serverCA.issueServingCertificate({ commonName: streamingNode, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    kubelet = new KubeletServer({
      runtime,
      tls: { cert: serving.certPem, key: serving.keyPem, clientCA: readFileSync(files.clientCaCert, 'utf8') },
      address: '127.0.0.1',
      port: 0,
      onSession: (session) => sessions.push(session),
    });
    const kubeletPort = await kubelet.start();
    const client = new RESTClient(loadKubeconfig(kubeconfig));
    const nodes = { group: '', version: 'v1', resource: 'nodes' };
    const pods = { group: '', version: 'v1', resource: 'pods', namespace: 'default' };
    await client.create(nodes, { apiVersion: 'v1', kind: 'Node', metadata: { name: streamingNode } });
    await client.patch(
      nodes,
      streamingNode,
      { status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } },
      'merge',
      { subresource: 'status' },
    );
    const createPod = async (name: string, containers: string[], state: 'running' | 'creating', bound = true): Promise<void> => {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const running = state === 'running';
      await client.create(pods, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { ...(bound ? { nodeName: streamingNode } : {}), containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
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
    return { kubeconfig, runtime, sessions, client, createPod, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
