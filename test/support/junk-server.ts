/**
 * Hostile TCP servers on loopback: each accepted connection is answered by a script (garbage,
 * half replies, wrong lengths, sudden close), so the runtime's clients can be shown to fail
 * fast with a clear error instead of hanging or mixing up replies.
 */
import * as net from 'node:net';

/** What the server does with each chunk a client sends. */
export type JunkBehaviour = (request: Buffer, socket: net.Socket, connection: number) => void;

export interface JunkServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: () => number;
  /** Connections open right now. */
  readonly open: () => number;
  /** Replaces the script for connections accepted from now on. */
  setBehaviour(behaviour: JunkBehaviour | { readonly forwardTo: number }): void;
  close(): Promise<void>;
}

export function startJunkServer(initial: JunkBehaviour): Promise<JunkServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let current: JunkBehaviour | { readonly forwardTo: number } = initial;
  const server = net.createServer((socket) => {
    const connection = ++accepted;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    const behaviour = current;
    if (typeof behaviour !== 'function') {
      // Pointed back at a real server: a plain forwarder.
      const upstream = net.connect(behaviour.forwardTo, '127.0.0.1');
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      upstream.on('close', () => {
        sockets.delete(upstream);
        socket.destroy();
      });
      socket.on('close', () => upstream.destroy());
      socket.pipe(upstream).pipe(socket);
      return;
    }
    socket.on('data', (chunk) => {
      if (!socket.destroyed) behaviour(chunk, socket, connection);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        host: '127.0.0.1',
        port,
        connections: () => accepted,
        open: () => sockets.size,
        setBehaviour: (next) => {
          current = next;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Answers every chunk with the same bytes. */
export function answerWith(reply: string | Buffer): JunkBehaviour {
  return (_request, socket) => socket.write(reply);
}

/** Answers with `reply`, then closes the connection. */
export function answerThenClose(reply: string | Buffer): JunkBehaviour {
  return (_request, socket) => socket.end(reply);
}
