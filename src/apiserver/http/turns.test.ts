import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Turns } from './turns.js';

describe('Turns', () => {
  for (const [perTurn, expected] of [
    [1, ['write 1', 'read', 'write 2', 'write 3']],
    [2, ['write 1', 'write 2', 'read', 'write 3']],
  ] as const) {
    it(`gives ${perTurn} turn(s) per event-loop iteration, in order, and lets I/O that arrived meanwhile in between`, async () => {
      // A loopback connection stands for a client whose read request arrives while writes wait for turns.
      const server = createServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      const client = connect(port, '127.0.0.1');
      await once(client, 'connect');
      const [peer] = await accepted;
      const log: string[] = [];
      peer.on('data', () => log.push('read'));
      try {
        const turns = new Turns(perTurn);
        const writers = [1, 2, 3].map(async (i) => {
          await turns.next();
          log.push(`write ${i}`);
          if (i === 1) client.write('GET');
        });
        assert.equal(turns.pending, 3);
        await Promise.all(writers);
        assert.deepEqual(log, expected);
        assert.equal(turns.pending, 0);
      } finally {
        client.destroy();
        peer.destroy();
        server.close();
      }
    });
  }

  it('gives shorter turns while reads come in', async () => {
    const turns = new Turns(4, 2, 1000);
    const grantedIn = async (reading: boolean): Promise<number[]> => {
      const start = turns.taken;
      if (reading) turns.noteRead();
      return Promise.all(
        [1, 2, 3, 4, 5, 6].map(async () => {
          await turns.next();
          return turns.taken - start;
        }),
      );
    };
    assert.deepEqual(await grantedIn(false), [1, 1, 1, 1, 2, 2], 'four per turn with only writes');
    assert.deepEqual(await grantedIn(true), [1, 1, 2, 2, 3, 3], 'two per turn within the window after a read');
    await new Promise((r) => setTimeout(r, 1100));
    assert.deepEqual(await grantedIn(false), [1, 1, 1, 1, 2, 2], 'four again once the window has passed');
  });

  it('starts again after running dry', async () => {
    const turns = new Turns();
    await turns.next();
    await turns.next();
    assert.equal(turns.pending, 0);
  });
});
