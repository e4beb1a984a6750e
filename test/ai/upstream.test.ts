/** The OpenAI-compatible provider's failure handling against the fake upstream: timeouts, fallbacks, bad keys. */
import { MemoryCounter } from '../../lambda/ai/budget';
import { ChatDeps, serveChat } from '../../lambda/ai/chat';
import { ModelTable } from '../../lambda/ai/config';
import { parseChatRequest } from '../../lambda/ai/format';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { captureOutput } from './support/capture-output';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream.close());
// A request aborted by the gateway's timeout may never reach the fake: scripts must not leak into the next test.
beforeEach(() => upstream.reset());

function deps(models: ModelTable, upstreamTimeoutMs = 5_000): ChatDeps {
  return { models, cache: new CacheClient({ store: new MemoryStore(), ttlSeconds: 60 }), cacheTtlSeconds: 60, counter: new MemoryCounter(), upstreamTimeoutMs, env: {} };
}
const ask = (model: string, extra: Record<string, unknown> = {}) => parseChatRequest(JSON.stringify({ model, messages: [{ role: 'user', content: 'q' }], temperature: 0, ...extra }));

test('an upstream slower than the timeout is a 504; with a fallback, the fallback answers', async () => {
  const models: ModelTable = {
    slow: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'slow' },
    guarded: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'slow', fallbacks: ['local'] },
    local: { provider: 'local' },
  };
  const usual = upstream.fallback;
  upstream.fallback = { delayMs: 2_000 };
  const timedOut = captureOutput();
  const rescued = captureOutput();
  try {
    await serveChat({ request: ask('slow'), consumer: 'c' }, timedOut, deps(models, 100));
    await serveChat({ request: ask('guarded'), consumer: 'c' }, rescued, deps(models, 100));
  } finally {
    upstream.fallback = usual;
  }
  expect(timedOut.status).toBe(504);
  expect(timedOut.body.error.code).toBe('upstream_timeout');
  expect(rescued.status).toBe(200);
  expect(rescued.headers!['X-AI-Served-By']).toBe('local:echo');
});

test('a streamed answer that stalls past the timeout ends the stream with an error event', async () => {
  const models: ModelTable = { slow: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'slow' } };
  upstream.script({ content: 'one two three four five six', chunkDelayMs: 150 });
  const out = captureOutput();
  await serveChat({ request: ask('slow', { stream: true }), consumer: 'c' }, out, deps(models, 200));
  expect(out.started).toBe(true);
  expect(out.events.at(-1)).toMatch(/"code":"upstream_timeout"/);
  expect(out.ended).toBe(true);
});

test('a refused upstream key is the gateway\'s problem: 502, not the caller\'s 401', async () => {
  const models: ModelTable = { up: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'm' } };
  upstream.script({ status: 401 });
  const out = captureOutput();
  await serveChat({ request: ask('up'), consumer: 'c' }, out, deps(models));
  expect(out.status).toBe(502);
  expect(out.body.error.type).toBe('api_error');
});

test('an upstream 400 is passed on as a 400 and not retried on the fallback', async () => {
  const models: ModelTable = { up: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'm', fallbacks: ['other'] }, other: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'o' } };
  upstream.script({ status: 400 });
  const out = captureOutput();
  await serveChat({ request: ask('up'), consumer: 'c' }, out, deps(models));
  expect(out.status).toBe(400);
  expect(upstream.calls).toHaveLength(1);
});

test.each([
  ['the budget check', { counter: async () => Promise.reject(new Error('down')), increment: async () => Promise.reject(new Error('down')) }, 'Budget check failed; request served without it'],
  ['the charge after the answer', { counter: async () => 0, increment: async () => Promise.reject(new Error('down')) }, 'Budget charge of 17 tokens for c failed'],
])('a counter store failing in %s neither blocks the request nor fails the paid-for answer; it is logged', async (_when, counter, logged) => {
  const models: ModelTable = { up: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'm' } };
  const warnings: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void warnings.push(line));
  const out = captureOutput();
  try {
    await serveChat({ request: ask('up'), consumer: 'c' }, out, { ...deps(models), counter, budgets: { default: { tokens: 100, period: 'day' } } });
  } finally {
    spy.mockRestore();
  }
  expect(out.status).toBe(200);
  expect(upstream.calls).toHaveLength(1);
  expect(warnings.map((w) => JSON.parse(w).message)).toEqual([logged]);
});
