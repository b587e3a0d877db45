// The admin's HTTPS connection pool to a bench server, from the kubeconfig it wrote (read by the client
// library's loader): benches that send raw requests share it.
import { Agent } from 'node:https';
import { loadKubeconfig } from '../../src/client/index.js';

export interface AdminConnection {
  /** The API server's port on 127.0.0.1. */
  port: number;
  /** PEM CA, client certificate and key (also for workers that make their own agent). */
  tls: { ca: string; cert: string; key: string };
  agent: Agent;
}

/** A keep-alive agent with the admin's client certificate. */
export function adminConnection(kubeconfigPath: string): AdminConnection {
  const config = loadKubeconfig(kubeconfigPath);
  const tls = { ca: config.ca ?? '', cert: config.cert ?? '', key: config.key ?? '' };
  return { port: Number(new URL(config.server).port), tls, agent: new Agent({ keepAlive: true, maxSockets: 256, ...tls }) };
}
