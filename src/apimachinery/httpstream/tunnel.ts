// A WebSocket as a byte stream, for SPDY tunnelled in a WebSocket (subprotocol SPDY/3.1+portforward.k8s.io,
// client-go's tools/portforward tunneling connection): each binary message carries the next bytes of the
// SPDY connection, and each write is one binary message.
import { Duplex } from 'node:stream';
import type { WebSocketConnection } from './websocket.js';

/** Wraps a WebSocket connection as a Duplex of the bytes its binary messages carry. */
export function websocketByteStream(ws: WebSocketConnection): Duplex {
  const duplex = new Duplex({
    // Reading resumes the WebSocket that a full buffer paused.
    read: () => ws.resume(),
    write(chunk: Buffer, _enc, cb) {
      if (ws.send(chunk, true)) cb();
      else ws.onDrain(() => cb());
    },
    final(cb) {
      ws.close(1000);
      cb();
    },
    destroy(err, cb) {
      ws.close(1000);
      cb(err);
    },
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary && !duplex.push(data)) ws.pause();
  });
  ws.on('close', () => duplex.push(null));
  return duplex;
}
