/**
 * Protections of the dev server's HTTP listener, kept apart from the request handling:
 * - requests Node's HTTP parser rejects (malformed request line, oversized headers, bad
 *   chunking, header timeout...) get the same JSON error body as every other error, instead of
 *   Node's bare `400`/`431`/`408` with an empty body;
 * - header and whole-request timeouts, so a slow client cannot hold a socket for minutes;
 * - a cap on open connections: connections over it get a JSON 503 and are closed;
 * - `HEAD` is served by a route's `GET` (as CloudFront and API Gateway do), without a body.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';

export interface HttpHardeningOptions {
  /** Longest wait for a request's headers, in ms. @default 10000 */
  readonly headersTimeoutMs?: number;
  /** Longest wait for a whole request (headers and body), in ms. @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Open connections served at once; more are answered 503 and closed. @default 256 */
  readonly maxConnections?: number;
}

export const HTTP_HARDENING_DEFAULTS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 256,
} as const;

/** Node's parser error codes, and the status API Gateway / CloudFront would answer with. */
const PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'REQUEST_HEADER_FIELDS_TOO_LARGE', message: 'Request header fields too large' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'Request timed out' },
  ERR_HTTP_HEADERS_TIMEOUT: { status: 408, code: 'REQUEST_TIMEOUT', message: 'Request timed out' },
};
const MALFORMED = { status: 400, code: 'BAD_REQUEST', message: 'Malformed HTTP request' };

/** Checks the options; throws naming the option and the allowed values. */
export function resolveHardening(options: HttpHardeningOptions = {}): Required<HttpHardeningOptions> {
  const { headersTimeoutMs, requestTimeoutMs, maxConnections } = options;
  const resolved = { ...HTTP_HARDENING_DEFAULTS, ...definedOnly({ headersTimeoutMs, requestTimeoutMs, maxConnections }) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`DevServerOptions.${name} must be a whole number >= 1, got ${value}`);
  }
  if (resolved.requestTimeoutMs < resolved.headersTimeoutMs) {
    throw new Error(`DevServerOptions.requestTimeoutMs (${resolved.requestTimeoutMs}) must be >= headersTimeoutMs (${resolved.headersTimeoutMs})`);
  }
  return resolved;
}

/** Options for `http.createServer`: Node checks timeouts every `connectionsCheckingInterval` ms (30 s by default). */
export function serverOptions(options: Required<HttpHardeningOptions>): http.ServerOptions {
  return {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(options.headersTimeoutMs / 4))),
  };
}

/** Connections over the cap: already answered 503, their requests are not served. */
const refused = new WeakSet<object>();

/** Installs the JSON parser-error answers and the connection cap on `server`. */
export function hardenServer(server: http.Server, options: Required<HttpHardeningOptions>): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  let open = 0;
  server.on('connection', (socket: Duplex) => {
    open++;
    socket.once('close', () => open--);
    if (open > options.maxConnections) {
      refused.add(socket);
      rawJsonError(socket, 503, 'TOO_MANY_CONNECTIONS', `More than ${options.maxConnections} open connections; try again`);
    }
  });
}

/** True for a request on a connection over the cap (it has had its 503). */
export function isRefused(req: http.IncomingMessage): boolean {
  return refused.has(req.socket);
}

/** The method a request is routed by: `HEAD` goes to the `GET` route when there is no `HEAD` one. */
export function routingMethod(method: string, hasRoute: (method: string) => boolean): string {
  return method === 'HEAD' && !hasRoute('HEAD') && hasRoute('GET') ? 'GET' : method;
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A reset or a half-written response: nobody to answer.
  if (err.code === 'ECONNRESET' || !socket.writable || (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const known = PARSER_ERRORS[err.code ?? ''] ?? MALFORMED;
  rawJsonError(socket, known.status, known.code, known.message);
}

/** Writes a complete JSON error response straight to the socket, then closes it. */
function rawJsonError(socket: Duplex, status: number, code: string, message: string): void {
  const requestId = randomUUID();
  const body = JSON.stringify({ code, message, requestId });
  const head = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-amzn-RequestId: ${requestId}`,
    'Connection: close',
  ].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
  // A client that never reads must not keep the socket: give it a moment, then drop it.
  setTimeout(() => socket.destroy(), 1000).unref();
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
