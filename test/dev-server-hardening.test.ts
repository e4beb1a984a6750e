/**
 * The dev server's listener under requests Node's parser rejects, slow clients, too many
 * connections, and HEAD: every answer is a JSON error (or the GET's headers), sockets are not
 * held, and the server keeps serving.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseDevArgs } from '../dev/main';
import { createDevServer, DevServer } from '../dev/server';
import { rawExchange, RawAnswer } from './support/raw-http';

let dir: string;
let server: DevServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'cca-harden-'));
  writeFileSync(path.join(dir, 'hello.js'), `exports.handler = async () => ({ statusCode: 200, headers: { 'Content-Type': 'text/plain', ETag: '"v1"' }, body: 'hello body' });\n`);
  server = await createDevServer({
    routes: { 'GET /hello': { entry: path.join(dir, 'hello.js') }, 'PUT /hello': { entry: path.join(dir, 'hello.js') } },
    port: 0,
    log: () => undefined,
    edgeCache: false,
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    maxConnections: 20,
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function expectJsonError(answer: RawAnswer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/json');
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  expect(body).toEqual({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(answer.body).not.toMatch(/\bat .*\.(js|ts):\d+|Error:|HPE_/);
}

async function stillServes(): Promise<void> {
  const res = await fetch(`${server.url}/hello`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe('hello body');
}

test.each([
  ['a malformed request line', 'GARBAGE\r\n\r\n', 400, 'BAD_REQUEST'],
  ['a header without a colon', 'GET /hello HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400, 'BAD_REQUEST'],
  ['bad chunked encoding', 'PUT /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'BAD_REQUEST'],
  ['both Content-Length and chunked', 'PUT /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'BAD_REQUEST'],
  ['headers over 16 KB', `GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
  ['a URL over 16 KB', `GET /hello?${'q'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431, 'REQUEST_HEADER_FIELDS_TOO_LARGE'],
])('%s gets a JSON error body', async (_label, request, status, code) => {
  expectJsonError(await rawExchange(server.port, [request]), status, code);
  await stillServes();
});

test('a client that sends its headers slowly is answered 408 and disconnected', async () => {
  const parts = ['GET /hello HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: 1\r\n', 'X-B: 2\r\n', 'X-C: 3\r\n', 'X-D: 4\r\n', 'X-E: 5\r\n', 'X-F: 6\r\n'];
  const answer = await rawExchange(server.port, parts, { pauseMs: 250, waitMs: 5000 });
  expect(answer.closed).toBe(true);
  expectJsonError(answer, 408, 'REQUEST_TIMEOUT');
  await stillServes();
});

test('connections over the cap get a JSON 503; the server keeps serving the others', async () => {
  const idle = await Promise.all(
    Array.from({ length: 20 }, () => new Promise<net.Socket>((resolve) => {
      const s = net.connect(server.port, '127.0.0.1', () => resolve(s));
      s.on('error', () => undefined);
    })),
  );
  try {
    expectJsonError(await rawExchange(server.port, ['GET /hello HTTP/1.1\r\nHost: x\r\n\r\n']), 503, 'TOO_MANY_CONNECTIONS');
  } finally {
    for (const s of idle) s.destroy();
  }
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${server.url}/hello`).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the server did not serve again once the idle connections closed');
});

test('HEAD on a GET route answers like GET, without the body', async () => {
  const get = await fetch(`${server.url}/hello`);
  const head = await fetch(`${server.url}/hello`, { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(await head.text()).toBe('');
  expect(head.headers.get('content-length')).toBe(get.headers.get('content-length'));
  expect(head.headers.get('etag')).toBe('"v1"');
  const raw = await rawExchange(server.port, ['HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
  expect(raw.status).toBe(200);
  expect(raw.body).toBe('');
});

test('dev CLI flags set the limits, and bad values are refused naming the flag', () => {
  expect(parseDevArgs(['--headers-timeout-ms', '500', '--request-timeout-ms', '900', '--max-connections', '64'])).toMatchObject({
    headersTimeoutMs: 500,
    requestTimeoutMs: 900,
    maxConnections: 64,
  });
  expect(() => parseDevArgs(['--max-connections', '0'])).toThrow('--max-connections must be a whole number >= 1, got "0"');
  const routes = { 'GET /hello': { entry: path.join(dir, 'hello.js') } };
  return expect(createDevServer({ routes, port: 0, log: () => undefined, headersTimeoutMs: 1000, requestTimeoutMs: 10 })).rejects.toThrow(/requestTimeoutMs/);
});
