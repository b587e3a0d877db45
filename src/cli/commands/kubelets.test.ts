// The server's kubelet on the built-in runtime where that runtime cannot run: the control-plane-only
// fallback logs why and runs no kubelet (no node registers), instead of failing the server.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Logger, LogFields } from '../../base/log.js';
import { builtInRuntimeProblem } from './embedded-runtime.js';
import { startKubelets } from './kubelets.js';

function capturingLogger(lines: { level: string; msg: string; fields?: LogFields }[]): Logger {
  const log: Logger = {
    info: (msg, fields) => lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    error: (msg, fields) => lines.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
    with: () => log,
  };
  return log;
}

describe("the server's kubelet on the built-in runtime", () => {
  const missingRuntime = { 'oci-runtime': '/nonexistent/bin/runc' };

  it('names what is missing: root, else the OCI runtime', () => {
    const problem = builtInRuntimeProblem(missingRuntime);
    if (process.getuid?.() === 0) assert.equal(problem, 'the OCI runtime /nonexistent/bin/runc is not installed (Debian: apt-get install runc)');
    else assert.match(problem ?? '', /needs root/);
    assert.match(builtInRuntimeProblem({ ...(process.getuid?.() === 0 ? {} : missingRuntime), 'cni-bin-dir': '/nonexistent/cni' }) ?? '', process.getuid?.() === 0 ? /^CNI plugins bridge, host-local, loopback, portmap are not in \/nonexistent\/cni / : /needs root/);
  });

  it('falls back to control plane only, saying why, when the runtime cannot run here', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'k8ts-kubelets-'));
    const lines: { level: string; msg: string; fields?: LogFields }[] = [];
    let asked = 0;
    try {
      const running = startKubelets(
        missingRuntime,
        () => {
          asked++;
          return Promise.reject(new Error('no node should register'));
        },
        dir,
        capturingLogger(lines),
        new AbortController().signal,
        { builtInRuntime: true },
      );
      assert.equal(running.length, 1);
      await running[0];
      const warning = lines.find((l) => l.level === 'warn');
      assert.match(warning?.msg ?? '', /^not running a kubelet for this machine: the built-in container runtime cannot run here; serving as control plane only/);
      assert.equal(warning?.fields?.reason, builtInRuntimeProblem(missingRuntime));
      assert.equal(asked, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs no kubelet for this machine in an agent without an endpoint, nor beside simulated nodes', () => {
    const ac = new AbortController();
    ac.abort();
    const noConfig = (): Promise<never> => Promise.reject(new Error('unused'));
    assert.equal(startKubelets({}, noConfig, tmpdir(), capturingLogger([]), ac.signal).length, 0);
    // Simulated nodes stand in for this machine: only the fleet runs (it fails here, with no client config).
    const running = startKubelets({ 'simulate-nodes': '1' }, noConfig, tmpdir(), capturingLogger([]), ac.signal, { builtInRuntime: true });
    assert.equal(running.length, 1);
    return assert.rejects(running[0]!, /unused/);
  });
});
