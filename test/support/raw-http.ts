/** Raw HTTP over a socket, for requests fetch() refuses to send (malformed, oversized, slow). */
import * as net from 'node:net';

export interface RawAnswer {
  readonly status: number | undefined;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** True when the server closed the connection. */
  readonly closed: boolean;
}

/** Parses the first response in `text` (Content-Length bodies only). */
export function parseAnswer(text: string, closed: boolean): RawAnswer {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const [statusLine, ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  const length = headers['content-length'] === undefined ? body.length : Number(headers['content-length']);
  return { status: status === undefined ? undefined : Number(status), headers, body: body.slice(0, length), closed };
}

/**
 * Sends `parts` (with `pauseMs` between them) and collects what comes back until the server
 * closes the connection or `waitMs` passes after the last part.
 */
export function rawExchange(port: number, parts: ReadonlyArray<string | Buffer>, options: { pauseMs?: number; waitMs?: number } = {}): Promise<RawAnswer> {
  const { pauseMs = 0, waitMs = 3000 } = options;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks).toString('latin1'), closed));
    };
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      timer = setTimeout(() => finish(false), waitMs);
    });
  });
}
