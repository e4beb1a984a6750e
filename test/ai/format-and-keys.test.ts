/** Unit rules of the unified format, the cache key, cacheability, budgets, metrics and the streaming shim. */
import { budgetPeriod, checkBudget, charge, MemoryCounter } from '../../lambda/ai/budget';
import { chatCacheKey, isCacheable } from '../../lambda/ai/chat';
import { parseModelTable, resolveChain, withAliasDefaults } from '../../lambda/ai/config';
import { AiError, parseChatRequest } from '../../lambda/ai/format';
import { aiMetricLines } from '../../lambda/ai/metrics';
import { httpResponseStream, isStreamingHandler, PreludeParser, streamifyResponse } from '../../lambda/ai/streaming';

const req = (o: Record<string, unknown>) => parseChatRequest(JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: 'Hi there' }], ...o }));
const target = { alias: 'fast', target: { provider: 'local' as const }, id: 'local:echo' };

function errorOf(fn: () => unknown): AiError {
  try {
    fn();
  } catch (e) {
    return e as AiError;
  }
  throw new Error('no error');
}

describe('parseChatRequest', () => {
  test.each([
    ['not json', '{', 'The request body is not valid JSON', null],
    ['no model', '{"messages":[{"role":"user","content":"x"}]}', 'model must be a non-empty string', 'model'],
    ['empty messages', '{"model":"m","messages":[]}', 'messages must be a non-empty array', 'messages'],
    ['bad role', '{"model":"m","messages":[{"role":"robot","content":"x"}]}', 'messages[0].role must be one of', 'messages[0].role'],
    ['image part', '{"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]}', 'only text parts', 'messages[0].content[0]'],
    ['unknown field', '{"model":"m","messages":[{"role":"user","content":"x"}],"frobnicate":1}', 'Unrecognized request argument supplied: frobnicate', 'frobnicate'],
    ['n > 1', '{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}', 'Only n=1', 'n'],
    ['max_tokens fraction', '{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5}', 'max_tokens must be an integer', 'max_tokens'],
    ['five stops', '{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}', 'stop must be', 'stop'],
  ])('%s → 400 invalid_request_error naming the field', (_name, body, message, param) => {
    const e = errorOf(() => parseChatRequest(body));
    expect(e).toBeInstanceOf(AiError);
    expect(e.status).toBe(400);
    expect(e.body().error).toMatchObject({ type: 'invalid_request_error', param });
    expect(e.message).toContain(message);
  });

  test('text parts are joined, a single stop becomes a list, max_completion_tokens wins', () => {
    const r = parseChatRequest(
      JSON.stringify({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }], stop: 'END', max_tokens: 5, max_completion_tokens: 9 }),
    );
    expect(r.messages[0].content).toBe('ab');
    expect(r.stop).toEqual(['END']);
    expect(r.max_tokens).toBe(9);
  });
});

describe('answer cache key and cacheability', () => {
  test('whitespace, stream flags, user and metadata do not change the key; content, model and settings do', () => {
    const base = chatCacheKey(req({ temperature: 0 }), target);
    expect(chatCacheKey(parseChatRequest(JSON.stringify({ model: 'fast', messages: [{ role: 'user', content: '  Hi \n\t there ' }], temperature: 0, stream: true, user: 'u1', metadata: { a: 1 } })), target)).toBe(base);
    expect(chatCacheKey(req({ temperature: 0, max_tokens: 10 }), target)).not.toBe(base);
    expect(chatCacheKey(req({ temperature: 0, messages: [{ role: 'user', content: 'Hi there!' }] }), target)).not.toBe(base);
    expect(chatCacheKey(req({ temperature: 0 }), { ...target, id: 'bedrock:other' })).not.toBe(base);
    expect(chatCacheKey(req({ temperature: 0, messages: [{ role: 'system', content: 'Hi there' }] }), target)).not.toBe(base);
  });

  test('only temperature 0 is cached by default; the header opts in or out', () => {
    expect(isCacheable(req({ temperature: 0 }), undefined)).toBe(true);
    expect(isCacheable(req({}), undefined)).toBe(false); // OpenAI's default temperature is 1
    expect(isCacheable(req({ temperature: 0.2 }), undefined)).toBe(false);
    expect(isCacheable(req({ temperature: 0.2 }), 'cache')).toBe(true);
    expect(isCacheable(req({ temperature: 0 }), 'no-store')).toBe(false);
    expect(isCacheable(withAliasDefaults(req({}), { temperature: 0 }), undefined)).toBe(true);
    expect(isCacheable(withAliasDefaults(req({ temperature: 1 }), { temperature: 0 }), undefined)).toBe(false);
  });
});

describe('alias table', () => {
  const table = parseModelTable(
    JSON.stringify({
      a: { provider: 'local', fallbacks: ['b', 'c'] },
      b: { provider: 'local', fallbacks: ['a'] },
      c: { provider: 'bedrock', model: 'm' },
    }),
  );
  test('the chain is the alias then its fallbacks, each once', () => {
    expect(resolveChain(table, 'a').map((s) => s.alias)).toEqual(['a', 'b', 'c']);
    expect(resolveChain(table, 'b').map((s) => s.alias)).toEqual(['b', 'a']);
  });
  test('an unknown alias is a 404 model_not_found listing the aliases; inherited object keys are not aliases', () => {
    for (const name of ['zzz', 'constructor', 'toString']) {
      const e = errorOf(() => resolveChain(table, name));
      expect(e.status).toBe(404);
      expect(e.code).toBe('model_not_found');
      expect(e.message).toContain('available: a, b, c');
    }
  });
  test('a fallback to an unknown alias is a configuration error', () => {
    expect(() => parseModelTable('{"a":{"provider":"local","fallbacks":["x"]}}')).toThrow('AI_MODELS.a.fallbacks names unknown alias "x"');
  });
});

describe('budgets', () => {
  test('periods are UTC days and months; Retry-After counts to the period end', async () => {
    const now = Date.UTC(2026, 10, 30, 23, 59, 0);
    expect(budgetPeriod({ tokens: 1, period: 'day' }, now)).toEqual({ label: '2026-11-30', endsAt: Date.UTC(2026, 11, 1) });
    expect(budgetPeriod({ tokens: 1, period: 'month' }, now)).toEqual({ label: '2026-11', endsAt: Date.UTC(2026, 11, 1) });
    const counter = new MemoryCounter(() => now);
    const config = { consumers: [{ consumer: 'k', tokens: 100, period: 'day' as const }] };
    const state = await checkBudget(counter, config, 'k', now);
    await charge(counter, state!, 100);
    const e = await checkBudget(counter, config, 'k', now).catch((x: AiError) => x);
    expect(e).toBeInstanceOf(AiError);
    expect((e as AiError).status).toBe(429);
    expect((e as AiError).headers['Retry-After']).toBe('60');
    expect((e as AiError).headers['X-Budget-Remaining-Tokens']).toBe('0');
    // Unlisted consumers without a default budget are not limited.
    expect(await checkBudget(counter, config, 'other', now)).toBeUndefined();
  });
});

test('EMF: one record per model and one per consumer, with token, cache and latency metrics', () => {
  const [byModel, byConsumer] = aiMetricLines('NS', { alias: 'fast', consumer: 'key1', outcome: 'hit', status: 200, tokensSaved: 33, stream: false }, 1).map((l) => JSON.parse(l));
  expect(byModel._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'NS', Dimensions: [['Model']] });
  expect(byConsumer._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Consumer']]);
  expect(byModel).toMatchObject({ Model: 'fast', TokensSaved: 33, CacheHit: 1, CacheMiss: 0, InputTokens: 0 });
  expect(byModel.UpstreamLatency).toBeUndefined(); // no upstream call on a hit
});

describe('response streaming shim', () => {
  test('outside Lambda: the handler is marked as the runtime marks it, and the prelude is JSON + 8 NUL bytes', () => {
    const handler = streamifyResponse(async () => undefined);
    expect(isStreamingHandler(handler)).toBe(true);
    const written: Buffer[] = [];
    let contentType = '';
    const body = httpResponseStream({ write: (c) => written.push(Buffer.from(c)), end: () => undefined, setContentType: (t) => (contentType = t) }, { statusCode: 201, headers: { a: 'b' } });
    body.write('payload');
    const all = Buffer.concat(written);
    expect(contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(all.toString('utf8', 0, all.indexOf(0))).toBe('{"statusCode":201,"headers":{"a":"b"}}');
    expect(all.subarray(all.indexOf(0), all.indexOf(0) + 8)).toEqual(Buffer.alloc(8));
    const parts: string[] = [];
    const parser = new PreludeParser((m) => parts.push(`meta ${m.statusCode}`), (c) => parts.push(c.toString()));
    for (const byte of all) parser.push(Uint8Array.of(byte)); // split anywhere, even inside the delimiter
    expect(parts.join('')).toBe('meta 201payload');
  });

  test('in Lambda: the runtime global is used', () => {
    const g = globalThis as { awslambda?: unknown };
    const calls: string[] = [];
    g.awslambda = { streamifyResponse: (h: unknown) => (calls.push('streamify'), h), HttpResponseStream: { from: (s: unknown) => (calls.push('from'), s) } };
    try {
      const h = streamifyResponse(async () => undefined);
      httpResponseStream({ write: () => undefined, end: () => undefined }, { statusCode: 200 });
      expect(calls).toEqual(['streamify', 'from']);
      expect(isStreamingHandler(h)).toBe(false); // the real runtime marks it itself
    } finally {
      delete g.awslambda;
    }
  });
});
