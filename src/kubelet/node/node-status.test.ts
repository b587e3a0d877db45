import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pressure, readPressureSignals, simulatedHostInfo } from './host-info.js';
import { microTime } from './node-agent.js';
import { nodeConditions, nodeResources, nodeStatus, nodeStatusChanged } from './node-status.js';

const healthy = { notReadyMessage: '', memoryPressure: false, diskPressure: false, pidPressure: false };

describe('node status', () => {
  it('subtracts the default eviction thresholds from capacity', () => {
    const host = { ...simulatedHostInfo('n', 0), memoryBytes: 8 * 1024 ** 3, ephemeralStorageBytes: 100 * 1024 ** 3, cpus: 4 };
    const { capacity, allocatable } = nodeResources(host);
    assert.equal(capacity.memory, '8Gi');
    assert.equal(allocatable.memory, '8092Mi');
    assert.equal(capacity['ephemeral-storage'], '100Gi');
    assert.equal(allocatable['ephemeral-storage'], '90Gi');
    assert.equal(allocatable.cpu, '4');
    assert.equal(allocatable.pods, '110');
  });

  it('gives upstream reasons and keeps transition times while a condition holds', () => {
    const t0 = Date.UTC(2026, 0, 1);
    const first = nodeConditions(healthy, undefined, t0);
    assert.deepEqual(
      first.map((c) => [c.type, c.status, c.reason]),
      [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID'],
        ['Ready', 'True', 'KubeletReady'],
      ],
    );
    const later = nodeConditions({ ...healthy, notReadyMessage: 'container runtime is down' }, first, t0 + 60_000);
    const ready = later.find((c) => c.type === 'Ready')!;
    assert.deepEqual([ready.status, ready.reason, ready.message, ready.lastTransitionTime], ['False', 'KubeletNotReady', 'container runtime is down', '2026-01-01T00:01:00Z']);
    assert.equal(later.find((c) => c.type === 'DiskPressure')?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('treats a heartbeat alone as no change', () => {
    const host = simulatedHostInfo('n', 3);
    const v = { kubeletVersion: 'v1.33.0', containerRuntimeVersion: 'simulated://0.1.0' };
    const a = nodeStatus(host, v, healthy, undefined, 1000);
    const b = nodeStatus(host, v, healthy, a, 61_000);
    assert.equal(nodeStatusChanged(a, b), false);
    assert.equal(nodeStatusChanged(a, nodeStatus(host, v, { ...healthy, diskPressure: true }, a, 61_000)), true);
  });

  it('reports pressure by the default hard eviction thresholds', () => {
    const ok = { memoryAvailableBytes: 2 * 1024 ** 3, nodefsAvailableBytes: 50, nodefsCapacityBytes: 100, pidsAvailable: 30000, pidMax: 32768 };
    assert.deepEqual(pressure(ok), { memoryPressure: false, diskPressure: false, pidPressure: false });
    assert.deepEqual(pressure({ ...ok, memoryAvailableBytes: 99 * 1024 * 1024, nodefsAvailableBytes: 9, pidsAvailable: 100 }), { memoryPressure: true, diskPressure: true, pidPressure: true });
    const here = readPressureSignals('/');
    assert.ok(here.memoryAvailableBytes > 0 && here.nodefsCapacityBytes > 0 && here.pidMax > 0);
  });

  it('formats lease times as MicroTime', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 1, 0, 0, 1, 234)), '2026-01-01T00:00:01.234000Z');
  });
});
