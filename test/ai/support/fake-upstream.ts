/**
 * An OpenAI-compatible server on loopback for tests and benchmarks: scripted answers, delays,
 * error statuses and streamed chunks, and a count of the calls it received.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  /** HTTP status; anything but 200 answers an OpenAI error body. @default 200 */
  readonly status?: number;
  /** Answer text. @default 'Hello from the fake upstream.' */
  readonly content?: string;
  /** Wait before answering (before the first chunk when streamed), ms. @default 0 */
  readonly delayMs?: number;
  /** Wait between streamed chunks, ms. @default 0 */
  readonly chunkDelayMs?: number;
  /** Stream this many chunks then drop the connection (a failure mid-stream). */
  readonly dropAfterChunks?: number;
  readonly usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface RecordedCall {
  readonly body: Record<string, any>;
  readonly authorization?: string;
}

export interface FakeUpstream {
  /** Base URL, e.g. http://127.0.0.1:1234/v1. */
  readonly baseUrl: string;
  readonly calls: RecordedCall[];
  /** Answers for the next calls, in order; when empty, `fallback` answers. */
  script(...answers: ScriptedAnswer[]): void;
  /** Forgets scripted answers not yet used and the recorded calls. */
  reset(): void;
  fallback: ScriptedAnswer;
  close(): Promise<void>;
}

// Unref'd: a scripted delay still pending when a test ends must not hold the process open.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

export async function startFakeUpstream(fallback: ScriptedAnswer = {}): Promise<FakeUpstream> {
  const queue: ScriptedAnswer[] = [];
  const calls: RecordedCall[] = [];
  const state = { fallback };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse, raw: string) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const body = JSON.parse(raw) as Record<string, any>;
    calls.push({ body, authorization: req.headers.authorization });
    const a = queue.shift() ?? state.fallback;
    const content = a.content ?? 'Hello from the fake upstream.';
    const usage = a.usage ?? { prompt_tokens: 10, completion_tokens: 7 };
    if (a.delayMs) await sleep(a.delayMs);
    const status = a.status ?? 200;
    if (status !== 200) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `scripted ${status}`, type: status === 429 ? 'rate_limit_error' : 'server_error', code: null } }));
      return;
    }
    const base = { id: 'chatcmpl-fake', created: 1_700_000_000, model: body.model };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const pieces = content.match(/.{1,8}/gs) ?? [];
    const event = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    for (const [i, piece] of pieces.entries()) {
      if (a.chunkDelayMs) await sleep(a.chunkDelayMs);
      if (a.dropAfterChunks !== undefined && i >= a.dropAfterChunks) {
        res.destroy();
        return;
      }
      event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
    }
    event({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    event({ ...base, object: 'chat.completion.chunk', choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } });
    res.end('data: [DONE]\n\n');
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls,
    script: (...answers) => void queue.push(...answers),
    reset: () => {
      queue.length = 0;
      calls.length = 0;
    },
    get fallback() {
      return state.fallback;
    },
    set fallback(a: ScriptedAnswer) {
      state.fallback = a;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
