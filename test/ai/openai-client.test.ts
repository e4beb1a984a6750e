/**
 * The model routes end to end: the official `openai` npm client pointed at the dev server
 * (real HTTP, the real streaming handler), the deterministic local model and an
 * OpenAI-compatible fake upstream on loopback.
 */
import OpenAI from 'openai';
import { devModelRoutes } from '../../dev/model-routes';
import { createDevServer, DevServer } from '../../dev/server';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';

let upstream: FakeUpstream;
let server: DevServer;
const lines: string[] = [];

beforeAll(async () => {
  (require('tsx/cjs/api') as { register: () => unknown }).register();
  // The dev server copies the environment into each route's at start, as Lambda does at deploy.
  process.env.MODEL_UPSTREAM_API_KEY = 'sk-test-upstream';
  upstream = await startFakeUpstream();
  server = await createDevServer({
    routes: devModelRoutes({
      upstream: upstream.baseUrl,
      upstreamModel: 'fake-model',
      budgets: { consumers: [{ consumer: 'tight-key', tokens: 10, period: 'day' }] },
      extraModels: {
        primary: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'primary-model', fallbacks: ['backup'] },
        backup: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'backup-model' },
      },
    }),
    port: 0,
    keyPrefix: 'aitest',
    log: (l) => lines.push(l),
  });
});

afterAll(async () => {
  await server?.close();
  await upstream?.close();
});

beforeEach(() => upstream.reset());

const client = (apiKey = 'dev-key') => new OpenAI({ baseURL: `${server.url}/v1`, apiKey, maxRetries: 0 });
let unique = 0;
/** A prompt no other test sends, so cache state never leaks between tests. */
const fresh = (text: string) => `${text} #${++unique}-${Date.now()}`;

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; chunks: number; finish?: string | null; usage?: unknown }> {
  let text = '';
  let chunks = 0;
  let finish: string | null | undefined;
  let usage: unknown;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, chunks, finish, usage };
}

test('GET /v1/models lists the aliases in the OpenAI format', async () => {
  const ids = [];
  for await (const model of client().models.list()) ids.push(model.id);
  expect(ids).toEqual(['local', 'upstream', 'primary', 'backup']);
});

test('local model: a plain completion, then the same request is a cache hit with the same answer', async () => {
  const messages = [{ role: 'user' as const, content: fresh('What is a cache?') }];
  const first = await client().chat.completions.create({ model: 'local', messages }).withResponse();
  expect(first.response.headers.get('x-ai-cache')).toBe('miss');
  expect(first.data.object).toBe('chat.completion');
  expect(first.data.choices[0].message.content).toContain('Local model');
  expect(first.data.choices[0].finish_reason).toBe('stop');
  expect(first.data.usage!.total_tokens).toBeGreaterThan(0);
  // Whitespace differences normalise to the same key.
  const second = await client()
    .chat.completions.create({ model: 'local', messages: [{ role: 'user', content: `  ${messages[0].content.replace(' ', '   ')} ` }] })
    .withResponse();
  expect(second.response.headers.get('x-ai-cache')).toBe('hit');
  expect(second.response.headers.get('x-ai-tokens-saved')).toBe(String(first.data.usage!.total_tokens));
  expect(second.data.choices[0].message.content).toBe(first.data.choices[0].message.content);
});

test('local model: a streamed completion arrives in chunks, equal to the plain answer, and is replayed as a stream on a hit', async () => {
  const content = fresh('Stream me an answer');
  const plain = await client().chat.completions.create({ model: 'local', messages: [{ role: 'user', content }], temperature: 0, stream: false, max_tokens: 500 });
  const streamed = await client().chat.completions.create({ model: 'local', messages: [{ role: 'user', content }], temperature: 0, stream: true, max_tokens: 500, stream_options: { include_usage: true } }).withResponse();
  expect(streamed.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(streamed.response.headers.get('x-ai-cache')).toBe('hit'); // the plain answer filled the cache
  const got = await collect(streamed.data);
  expect(got.text).toBe(plain.choices[0].message.content);
  expect(got.finish).toBe('stop');
  expect(got.usage).toEqual(plain.usage);
  expect(got.chunks).toBeGreaterThan(3);
});

test('errors come back in the OpenAI format: unknown model 404, invalid parameter 400', async () => {
  const unknown = await client().chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
  expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
  expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  const invalid = await client().chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }], temperature: 7 }).catch((e: unknown) => e);
  expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
  expect((invalid as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
  const empty = await client().chat.completions.create({ model: 'local', messages: [] }).catch((e: unknown) => e);
  expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
});

test('upstream: a streamed answer is relayed chunk by chunk, sent with the upstream model name and key', async () => {
  upstream.script({ content: 'Streaming from the fake upstream, in several chunks.', chunkDelayMs: 2 });
  const got = await collect(await client().chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: fresh('hi') }], stream: true }));
  expect(got.text).toBe('Streaming from the fake upstream, in several chunks.');
  expect(upstream.calls).toHaveLength(1);
  expect(upstream.calls[0].body).toMatchObject({ model: 'fake-model', stream: true });
  expect(upstream.calls[0].authorization).toBe('Bearer sk-test-upstream');
});

test('a non-deterministic request is never cached', async () => {
  const messages = [{ role: 'user' as const, content: fresh('Write a poem') }];
  for (let i = 0; i < 3; i++) {
    const { response } = await client().chat.completions.create({ model: 'upstream', messages, temperature: 0.8 }).withResponse();
    expect(response.headers.get('x-ai-cache')).toBe('bypass');
  }
  expect(upstream.calls).toHaveLength(3);
  // Unless the caller opts in explicitly.
  const optIn = { headers: { 'x-ai-cache-control': 'cache' } };
  await client().chat.completions.create({ model: 'upstream', messages, temperature: 0.8 }, optIn);
  const { response } = await client().chat.completions.create({ model: 'upstream', messages, temperature: 0.8 }, optIn).withResponse();
  expect(response.headers.get('x-ai-cache')).toBe('hit');
  expect(upstream.calls).toHaveLength(4);
});

test('50 concurrent identical deterministic requests make one upstream call', async () => {
  upstream.script({ delayMs: 300, content: 'One answer for everyone.' });
  const messages = [{ role: 'user' as const, content: fresh('Same question') }];
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => client().chat.completions.create({ model: 'upstream', messages, temperature: 0 }).withResponse()),
  );
  expect(upstream.calls).toHaveLength(1);
  expect(new Set(answers.map((a) => a.data.choices[0].message.content))).toEqual(new Set(['One answer for everyone.']));
  const outcomes = answers.map((a) => a.response.headers.get('x-ai-cache'));
  expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'coalesced' || o === 'hit')).toHaveLength(49);
});

test('a consumer over its token budget gets 429 with Retry-After and no upstream call', async () => {
  // The first call spends 17 tokens of a 10-token budget; the next is refused before any upstream call.
  const first = await client('tight-key').chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: fresh('a') }] }).withResponse();
  expect(first.response.headers.get('x-budget-limit-tokens')).toBe('10');
  expect(upstream.calls).toHaveLength(1);
  const refused = await client('tight-key').chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: fresh('b') }] }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
  const error = refused as InstanceType<typeof OpenAI.RateLimitError>;
  expect(error.code).toBe('budget_exceeded');
  expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
  expect(Number(error.headers?.get('retry-after'))).toBeLessThanOrEqual(86_400);
  expect(upstream.calls).toHaveLength(1);
  // Other consumers are not affected.
  await client('other-key').chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: fresh('c') }] });
  expect(upstream.calls).toHaveLength(2);
});

test('a throttled alias falls back to the next one; a 5xx without fallback is a 502 api_error', async () => {
  upstream.script({ status: 429 }, { content: 'from the backup' });
  const { data, response } = await client().chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: fresh('x') }] }).withResponse();
  expect(data.choices[0].message.content).toBe('from the backup');
  expect(response.headers.get('x-ai-served-by')).toBe('openai:backup-model');
  expect(upstream.calls.map((c) => c.body.model)).toEqual(['primary-model', 'backup-model']);

  upstream.script({ status: 500 });
  const failed = await client().chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: fresh('y') }] }).catch((e: unknown) => e);
  expect(failed).toBeInstanceOf(OpenAI.APIError);
  expect((failed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  expect((failed as InstanceType<typeof OpenAI.APIError>).type).toBe('api_error');
});

test('a stream that breaks mid-way ends with an error event and is not cached', async () => {
  const messages = [{ role: 'user' as const, content: fresh('break') }];
  // Chunks spaced out so the first ones reach the gateway (and the caller) before the drop.
  upstream.script({ content: 'This answer will be cut off before it ends.', dropAfterChunks: 2, chunkDelayMs: 20 });
  let received = '';
  const broken = await (async () => {
    const stream = await client().chat.completions.create({ model: 'upstream', messages, temperature: 0, stream: true });
    for await (const chunk of stream) received += chunk.choices[0]?.delta?.content ?? '';
  })().catch((e: unknown) => e);
  expect(received).toBe('This answer will'); // two 8-character chunks, then the error event
  expect(broken).toBeInstanceOf(OpenAI.APIError);
  expect((broken as Error).message).toMatch(/model provider failed/);
  upstream.script({ content: 'Complete answer.' });
  const { response } = await client().chat.completions.create({ model: 'upstream', messages, temperature: 0 }).withResponse();
  expect(response.headers.get('x-ai-cache')).toBe('miss');
  expect(upstream.calls).toHaveLength(2);
});
