import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { storeConformance } from '../testing/conformance.js';
import { SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k8ts-sqlite-'));
storeConformance('sqlite (file)', {
  open: () => Promise.resolve(new SqliteStore({ path: path.join(dir, 'state.db'), ttlSweepIntervalMs: 100 })),
  teardown: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
});

storeConformance('sqlite (memory)', {
  open: () => Promise.resolve(new SqliteStore({ path: ':memory:', ttlSweepIntervalMs: 100 })),
});
