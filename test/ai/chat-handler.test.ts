/** The chat Lambda handler itself (streaming wire format), and its configuration paths. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { handler, consumerOf } from '../../lambda/ai/chat-completions';
import { chatDeps } from '../../lambda/ai/deps';
import { ChatDeps, serveChat } from '../../lambda/ai/chat';
import { MemoryCounter } from '../../lambda/ai/budget';
import { parseChatRequest } from '../../lambda/ai/format';
import { ResponseStream } from '../../lambda/ai/streaming';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { CacheServer, startRedis } from '../support/servers';
import { captureOutput } from './support/capture-output';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';

const LOCAL_MODELS = JSON.stringify({ m: { provider: 'local', defaults: { temperature: 0 } } });

function event(body: string | null, extra: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return { httpMethod: 'POST', headers: {}, body, isBase64Encoded: false, requestContext: { requestId: 'req-1', identity: { apiKeyId: 'key-id-1' } }, ...extra } as unknown as APIGatewayProxyEvent;
}

/** Runs the streaming handler and splits what it wrote into the prelude and the body. */
async function invoke(e: APIGatewayProxyEvent): Promise<{ meta: { statusCode: number; headers: Record<string, string> }; body: string }> {
  const parts: Buffer[] = [];
  const stream: ResponseStream = { write: (c) => parts.push(Buffer.from(c)), end: (c) => void (c !== undefined && parts.push(Buffer.from(c))) };
  await handler(e, stream);
  const all = Buffer.concat(parts);
  const at = all.indexOf(Buffer.alloc(8));
  return { meta: JSON.parse(all.subarray(0, at).toString()), body: all.subarray(at + 8).toString() };
}

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('handler', () => {
  beforeEach(() => {
    process.env.AI_MODELS = LOCAL_MODELS;
    process.env.AI_CACHE_STORE = 'memory';
  });

  test('malformed JSON: 400 in OpenAI error format, with the prelude', async () => {
    const { meta, body } = await invoke(event('{oops'));
    expect(meta).toMatchObject({ statusCode: 400, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } });
    expect(JSON.parse(body)).toEqual({ error: { message: 'The request body is not valid JSON', type: 'invalid_request_error', param: null, code: null } });
  });

  test('a body over 1 MiB: 413', async () => {
    const big = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024) }] });
    const { meta, body } = await invoke(event(big));
    expect(meta.statusCode).toBe(413);
    expect(JSON.parse(body).error.code).toBe('request_too_large');
  });

  test('a base64 body is decoded', async () => {
    const raw = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'encoded' }] });
    const { meta, body } = await invoke(event(Buffer.from(raw).toString('base64'), { isBase64Encoded: true }));
    expect(meta.statusCode).toBe(200);
    expect(JSON.parse(body).choices[0].message.content).toContain('encoded');
  });

  test('a misconfigured route (no alias table) answers 500 without details and logs why', async () => {
    delete process.env.AI_MODELS;
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      const { meta, body } = await invoke(event(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] })));
      expect(meta.statusCode).toBe(500);
      expect(JSON.parse(body).error).toMatchObject({ type: 'api_error', message: 'The model route is misconfigured' });
      expect(errors.join('\n')).toContain('AI_MODELS is required');
    } finally {
      spy.mockRestore();
    }
  });

  test('EMF lines per model and per consumer when AI_METRICS_NAMESPACE is set', async () => {
    process.env.AI_METRICS_NAMESPACE = 'Test/Models';
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
    try {
      await invoke(event(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'metrics please' }] })));
    } finally {
      spy.mockRestore();
    }
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => r._aws.CloudWatchMetrics[0].Dimensions[0][0])).toEqual(['Model', 'Consumer']);
    expect(records[1]).toMatchObject({ Consumer: 'key-id-1', model: 'm', CacheMiss: 1, outcome: 'miss', status: 200 });
    expect(records[1].OutputTokens).toBeGreaterThan(0);
  });
});

describe('consumer identity', () => {
  const withHeaders = (headers: Record<string, string>, apiKeyId?: string) =>
    ({ headers, requestContext: { identity: { apiKeyId } } }) as unknown as APIGatewayProxyEvent;

  test('deployed: the API key API Gateway validated; an x-api-key header alone is never trusted', () => {
    expect(consumerOf(withHeaders({ 'x-api-key': 'forged' }, 'validated-id'), {})).toBe('validated-id');
    expect(consumerOf(withHeaders({ 'x-api-key': 'forged', Authorization: 'Bearer forged' }), {})).toBe('anonymous');
  });

  test('dev server (AI_CONSUMER_SOURCE=header): x-api-key, else the bearer key OpenAI clients send', () => {
    const env = { AI_CONSUMER_SOURCE: 'header' };
    expect(consumerOf(withHeaders({ 'X-Api-Key': 'k1', Authorization: 'Bearer k2' }), env)).toBe('k1');
    expect(consumerOf(withHeaders({ authorization: 'Bearer k2' }), env)).toBe('k2');
    expect(consumerOf(withHeaders({}), env)).toBe('anonymous');
  });
});

describe('answers shared while streaming', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(() => upstream.close());

  test('5 concurrent streamed identical requests: the leader streams live, the others replay the same text; one upstream call', async () => {
    upstream.script({ content: 'a streamed answer shared by five callers', delayMs: 200, chunkDelayMs: 5 });
    const deps: ChatDeps = {
      models: { up: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'm' } },
      cache: new CacheClient({ store: new MemoryStore(), ttlSeconds: 60 }),
      cacheTtlSeconds: 60,
      counter: new MemoryCounter(),
      upstreamTimeoutMs: 5_000,
      env: {},
    };
    const request = parseChatRequest(JSON.stringify({ model: 'up', messages: [{ role: 'user', content: 'q' }], temperature: 0, stream: true }));
    const outs = await Promise.all(Array.from({ length: 5 }, async () => {
      const out = captureOutput();
      await serveChat({ request, consumer: 'c' }, out, deps);
      return out;
    }));
    expect(upstream.calls).toHaveLength(1);
    expect(outs.map((o) => o.text())).toEqual(Array(5).fill('a streamed answer shared by five callers'));
    expect(outs.map((o) => o.headers!['X-AI-Cache']).sort()).toEqual(['coalesced', 'coalesced', 'coalesced', 'coalesced', 'miss']);
    expect(outs.every((o) => o.events.at(-1) === 'data: [DONE]\n\n' && o.ended)).toBe(true);
  });
});

describe('store selection', () => {
  let redis: CacheServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  test('AI_CACHE_STORE=data-cache uses the DATA_CACHE_* store, shared by containers', async () => {
    const env = { AI_MODELS: LOCAL_MODELS, AI_CACHE_STORE: 'data-cache', DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: `${redis.host}:${redis.port}`, AI_UPSTREAM_TIMEOUT_MS: '30000' };
    const deps = chatDeps(env);
    expect(deps.cache!.store.engine).toBe('redis');
    expect(chatDeps(env)).toBe(deps); // built once per environment
    const out = captureOutput();
    await serveChat({ request: parseChatRequest(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'in redis' }] })), consumer: 'c' }, out, deps);
    const again = captureOutput();
    await serveChat({ request: parseChatRequest(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'in redis' }] })), consumer: 'c' }, again, chatDeps({ ...env }));
    expect(again.headers!['X-AI-Cache']).toBe('hit'); // another "container" (new client) read it from redis
    await deps.cache!.close();
  });

  test('AI_CACHE_STORE=dynamodb needs AI_TABLE; an unknown store is named', () => {
    expect(() => chatDeps({ AI_MODELS: LOCAL_MODELS, AI_CACHE_STORE: 'dynamodb' })).toThrow('AI_CACHE_STORE=dynamodb needs AI_TABLE');
    expect(() => chatDeps({ AI_MODELS: LOCAL_MODELS, AI_CACHE_STORE: 'disk' })).toThrow('AI_CACHE_STORE must be one of dynamodb, data-cache, memory, none, got "disk"');
    expect(chatDeps({ AI_MODELS: LOCAL_MODELS, AI_CACHE_STORE: 'none' }).cache).toBeUndefined();
  });
});
