// A child process for crash-safety tests: opens the store named by argv[2] (a datastore endpoint) and
// writes keys /crash/0, /crash/1, ... as fast as it can, printing each key's number on stdout once the
// store acknowledged the write. The test kills it with SIGKILL and checks every printed write survived.
// With argv[4] "checkpoint-always", a SQLite store asks its checkpoint worker for a checkpoint after every
// commit, so that the kill most likely lands in the middle of one.
import { openStore, parseDatastoreEndpoint } from '../open.js';
import { SqliteStore } from '../sqlite/sqlite-store.js';

const endpoint = parseDatastoreEndpoint(process.argv[2] ?? '', process.argv[3] ?? '.');
const store =
  process.argv[4] === 'checkpoint-always' && endpoint.kind === 'sqlite'
    ? new SqliteStore({ path: endpoint.path, compactIntervalMs: 0, checkpointEveryWrites: 1 })
    : await openStore(endpoint, { dataDir: process.argv[3] ?? '.', compactIntervalMs: 0 });
const payload = new TextEncoder().encode('x'.repeat(200));
for (let i = 0; ; i++) {
  await store.create(`/crash/${String(i).padStart(8, '0')}`, payload);
  // Wait until the line is out: an embedded store acknowledges without yielding to the event loop, and a
  // loop that never yields leaves its output queued forever once the pipe to the test is full.
  await new Promise((resolve) => process.stdout.write(`${i}\n`, resolve));
}
