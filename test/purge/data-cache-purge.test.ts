import { CATALOG_DATA_PURGE, ITEM_LIST_GROUP, itemKey, itemListPageKey } from '../../lambda/catalog/cache-keys';
import { createCacheClient, CacheClient, readDataCacheSettings, resetCacheClient } from '../../lambda/runtime/cache';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createDataCachePurgeHandler,
  DATA_PURGE_RESERVE_MS,
  DataPurgeDeps,
  dataPurgeSettingsFromEnv,
  handler,
  planDataPurge,
} from '../../lambda/purge/data-cache-purge';
import { CacheServer, freePort, startRedis } from '../support/servers';
import { insert, modify, remove, streamEvent } from './stream-events';

const PREFIX = 'CatalogStack';
const PURGE_ENV = { DATA_PURGE_KEYS: CATALOG_DATA_PURGE.keys.join(','), DATA_PURGE_GROUPS: CATALOG_DATA_PURGE.groups.join(',') };

let server: CacheServer;
const caches: CacheClient[] = [];
/** A CacheClient over the test's redis-server, configured as a deployed function's environment would. */
function cacheFor(port: number, extra: Record<string, string> = {}): CacheClient {
  const cache = createCacheClient(
    readDataCacheSettings({
      DATA_CACHE_ENGINE: 'redis',
      DATA_CACHE_ENDPOINT: `127.0.0.1:${port}`,
      DATA_CACHE_KEY_PREFIX: PREFIX,
      DATA_CACHE_TTL_SECONDS: '300',
      DATA_CACHE_JITTER: '0',
      ...extra,
    }),
  );
  caches.push(cache);
  return cache;
}

let reader: CacheClient; // a GET handler's container
let purger: CacheClient; // the purge function's container
let sleeps: number[];
const purge = (cache: DataPurgeDeps['cache'] = purger) =>
  createDataCachePurgeHandler(() => ({ cache, settings: dataPurgeSettingsFromEnv(PURGE_ENV), sleep: async (ms) => void sleeps.push(ms), random: () => 1 }));

/** Reads through the cache like the GET handlers: the loader runs only on a miss. */
async function read(key: string, value: unknown, group?: string): Promise<{ value: unknown; loaded: boolean }> {
  let loaded = false;
  const got = await reader.get(key, async () => ((loaded = true), value), group ? { group } : undefined);
  return { value: got, loaded };
}

beforeAll(async () => {
  server = await startRedis();
  reader = cacheFor(server.port);
  purger = cacheFor(server.port);
});
afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  await server?.stop();
});
beforeEach(() => {
  sleeps = [];
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('against a real redis-server', () => {
  test('a MODIFY deletes that item and every list page, and leaves other items cached', async () => {
    await read(itemKey('a'), { id: 'a', price: 1 });
    await read(itemKey('b'), { id: 'b', price: 1 });
    await read(itemListPageKey(20), { items: ['a@1', 'b@1'] }, ITEM_LIST_GROUP);
    await read(itemListPageKey(2, 'b'), { items: [] }, ITEM_LIST_GROUP);
    expect(server.cliSync('EXISTS', `${PREFIX}:{k:item:a}`).trim()).toBe('1');

    const result = await purge()(streamEvent(modify({ id: 'a', price: 1 }, { id: 'a', price: 2 })));
    expect(result).toEqual({ batchItemFailures: [] });

    expect(server.cliSync('EXISTS', `${PREFIX}:{k:item:a}`).trim()).toBe('0');
    expect(await read(itemKey('a'), { id: 'a', price: 2 })).toEqual({ value: { id: 'a', price: 2 }, loaded: true });
    expect(await read(itemKey('b'), { id: 'b', price: 99 })).toEqual({ value: { id: 'b', price: 1 }, loaded: false });
    expect(await read(itemListPageKey(20), { items: ['a@2', 'b@1'] }, ITEM_LIST_GROUP)).toEqual({ value: { items: ['a@2', 'b@1'] }, loaded: true });
    expect((await read(itemListPageKey(2, 'b'), { items: ['fresh'] }, ITEM_LIST_GROUP)).loaded).toBe(true);
  });

  test('an INSERT clears a cached "not found"; a REMOVE clears the item', async () => {
    expect(await read(itemKey('new-1'), undefined)).toEqual({ value: undefined, loaded: true });
    expect((await read(itemKey('new-1'), { id: 'new-1' })).loaded).toBe(false); // negative hit
    await read(itemKey('gone-1'), { id: 'gone-1' });

    await purge()(streamEvent(insert({ id: 'new-1', price: 1 }), remove({ id: 'gone-1', price: 1 })));

    expect(await read(itemKey('new-1'), { id: 'new-1' })).toEqual({ value: { id: 'new-1' }, loaded: true });
    expect(await read(itemKey('gone-1'), undefined)).toEqual({ value: undefined, loaded: true });
  });

  test('a read that loaded the old value before the purge cannot put it back afterwards', async () => {
    await read(itemKey('race-1'), { v: 'old' });
    await purge()(streamEvent(modify({ id: 'race-1' }, { id: 'race-1', v: 'interim' }))); // empties the key

    // A reader misses and loads the old row; the write and its purge land while it loads.
    let finishLoad!: (value: { v: string }) => void;
    const loading = reader.get(itemKey('race-1'), () => new Promise<{ v: string }>((resolve) => (finishLoad = resolve)));
    await new Promise((r) => setTimeout(r, 50));
    await purge()(streamEvent(modify({ id: 'race-1', v: 'old' }, { id: 'race-1', v: 'new' })));
    finishLoad({ v: 'old' });
    expect(await loading).toEqual({ v: 'old' }); // this caller got what it read

    expect(await read(itemKey('race-1'), { v: 'new' })).toEqual({ value: { v: 'new' }, loaded: true });
  });

  test('an unreachable cache fails the batch from its first record', async () => {
    const nowhere = cacheFor(await freePort(), { DATA_CACHE_CONNECT_TIMEOUT_MS: '100' });
    const records = [insert({ id: 'x' }), insert({ id: 'y' })];
    const result = await purge(nowhere)(streamEvent(...records));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    expect(sleeps).toHaveLength(2); // three attempts
  });

  test('the deployed handler reads its cache and templates from the environment', async () => {
    const saved = { ...process.env };
    const restore = () => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    };
    Object.assign(process.env, {
      DATA_CACHE_ENGINE: 'redis',
      DATA_CACHE_ENDPOINT: `127.0.0.1:${server.port}`,
      DATA_CACHE_KEY_PREFIX: PREFIX,
      ...PURGE_ENV,
    });
    try {
      await read(itemKey('env-1'), { id: 'env-1' });
      const result = await handler(streamEvent(remove({ id: "env-1" })));
      expect(result).toEqual({ batchItemFailures: [] });
      expect((await read(itemKey('env-1'), undefined)).loaded).toBe(true);
    } finally {
      restore();
      await resetCacheClient();
    }
  });
});

describe('planning and partial failures', () => {
  /** A cache whose invalidations fail for the names in `failing` (`times` calls each, or always). */
  function fakeCache(failing: Record<string, number> = {}) {
    const calls: string[] = [];
    const attempt = (name: string) => {
      calls.push(name);
      if ((failing[name] ?? 0) > 0) {
        failing[name]--;
        return false;
      }
      return true;
    };
    return {
      calls,
      cache: { invalidate: async (key: string) => attempt(`key:${key}`), invalidateGroup: async (group: string) => attempt(`group:${group}`) },
    };
  }

  test('keys are deduplicated and the list group is bumped once per batch', async () => {
    const fake = fakeCache();
    await purge(fake.cache)(streamEvent(insert({ id: 'a' }), modify({ id: 'a' }, { id: 'a', p: 2 }), remove({ id: 'b' })));
    expect(fake.calls).toEqual(['group:items', 'key:item:a', 'key:item:b']);
  });

  test('keys the handlers cache under are what the purge derives', () => {
    const ops = planDataPurge([remove({ id: 'lamp-1' })], dataPurgeSettingsFromEnv(PURGE_ENV));
    expect(ops.map((o) => `${o.kind}:${o.name}`)).toEqual([`group:${ITEM_LIST_GROUP}`, `key:${itemKey('lamp-1')}`]);
  });

  test('a passing failure is retried with backoff within the invocation', async () => {
    const fake = fakeCache({ 'key:item:b': 2 });
    expect(await purge(fake.cache)(streamEvent(insert({ id: 'a' }), insert({ id: 'b' })))).toEqual({ batchItemFailures: [] });
    expect(fake.calls.filter((c) => c === 'key:item:b')).toHaveLength(3);
    expect(fake.calls.filter((c) => c === 'key:item:a')).toHaveLength(1);
    expect(sleeps).toEqual([100, 400]);
  });

  test('a lasting failure is reported from the first record that needed the failed invalidation', async () => {
    const records = [insert({ id: 'a' }), insert({ id: 'b' }), insert({ id: 'c' }), insert({ id: 'b' })];
    const fake = fakeCache({ 'key:item:b': 99, 'key:item:c': 99 });
    expect(await purge(fake.cache)(streamEvent(...records))).toEqual({ batchItemFailures: [{ itemIdentifier: records[1].dynamodb!.SequenceNumber }] });
  });

  test('a failed group bump fails the batch from its first record', async () => {
    const records = [insert({ id: 'a' }), insert({ id: 'b' })];
    const fake = fakeCache({ 'group:items': 99 });
    expect(await purge(fake.cache)(streamEvent(...records))).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
  });

  test('a record without the key attribute skips that key, and a purge naming nothing is refused', async () => {
    const fake = fakeCache();
    const settings = dataPurgeSettingsFromEnv({ DATA_PURGE_KEYS: 'category:{category}' });
    await createDataCachePurgeHandler(() => ({ cache: fake.cache, settings, sleep: async () => undefined, random: () => 0 }))(
      streamEvent(insert({ id: 'a' }), modify({ id: 'b', category: 'toys' }, { id: 'b', category: 'games' })),
    );
    expect(fake.calls).toEqual(['key:category:games', 'key:category:toys']);
    expect(() => dataPurgeSettingsFromEnv({})).toThrow(/DATA_PURGE_KEYS or DATA_PURGE_GROUPS/);
  });
});

describe('records that cannot be purged, time budget, chaining to the edge, replayable failures', () => {
  const sqsMock = mockClient(SQSClient);
  const EDGE_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/EdgePurgeRequests';
  const RETRY_QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/DataPurgeRetries';
  const env = { ...PURGE_ENV, EDGE_PURGE_PATHS: '/items/{id},/items,/items?*', EDGE_PURGE_QUEUE_URL: EDGE_QUEUE, DATA_PURGE_RETRY_QUEUE_URL: RETRY_QUEUE };
  let events: string[];
  const recordingCache = (fail = new Set<string>()) => ({
    invalidate: async (key: string) => (events.push(`key:${key}`), !fail.has(key)),
    invalidateGroup: async (group: string) => (events.push(`group:${group}`), !fail.has(group)),
  });
  const chained = (cache = recordingCache()) =>
    createDataCachePurgeHandler(() => ({ cache, settings: dataPurgeSettingsFromEnv(env), sleep: async () => undefined, random: () => 0, sqs: new SQSClient({}) }));
  const sent = (queue: string) =>
    sqsMock.commandCalls(SendMessageBatchCommand).filter((c) => c.args[0].input.QueueUrl === queue).flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.MessageBody!)));

  beforeEach(() => {
    events = [];
    sqsMock.reset();
    sqsMock.on(SendMessageBatchCommand).callsFake((input) => {
      events.push(`send:${input.QueueUrl === EDGE_QUEUE ? 'edge' : 'retry'}`);
      return { Successful: [], Failed: [] };
    });
  });

  test.each([
    ['B', { B: new Uint8Array([1]) }],
    ['NULL', { NULL: true }],
    ['BOOL', { BOOL: true }],
    ['M', { M: { a: { S: 'x' } } }],
  ])('a key attribute of type %s is a batch item failure, not a success with a warning (before: success)', async (_type, value) => {
    const good = insert({ id: 'a' });
    const odd = insert({ id: 'b' });
    odd.dynamodb!.Keys = { id: value as never };
    const result = await chained()(streamEvent(good, odd, insert({ id: 'c' })));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: odd.dynamodb!.SequenceNumber }] });
    expect(events.filter((e) => e.startsWith('key:'))).toEqual(['key:item:a']);
  });

  test('a non-key attribute of such a type stays "absent": its key is skipped, the record is purged', async () => {
    const settings = dataPurgeSettingsFromEnv({ DATA_PURGE_KEYS: 'item:{id},category:{category}' });
    const record = modify({ id: 'a', category: 'toys' }, { id: 'a' });
    record.dynamodb!.NewImage!.category = { NULL: true };
    const handler = createDataCachePurgeHandler(() => ({ cache: recordingCache(), settings, sleep: async () => undefined, random: () => 0 }));
    expect(await handler(streamEvent(record))).toEqual({ batchItemFailures: [] });
    expect(events).toEqual(['key:item:a', 'key:category:toys']);
  });

  test('a malformed record (no change data) is a batch item failure (before: success)', async () => {
    const malformed = { eventID: 'x', eventName: 'INSERT', eventSource: 'aws:dynamodb' } as never;
    expect((await chained()(streamEvent(malformed))).batchItemFailures).toHaveLength(1);
  });

  test('the edge paths are forwarded only after the data purge of their records succeeded', async () => {
    expect(await chained()(streamEvent(insert({ id: 'a' }), modify({ id: 'b' }, { id: 'b', price: 2 })))).toEqual({ batchItemFailures: [] });
    expect(events).toEqual(['group:items', 'key:item:a', 'key:item:b', 'send:edge']);
    expect(sent(EDGE_QUEUE)).toEqual([{ kind: 'edge-paths', paths: ['/items', '/items?*', '/items/a', '/items/b'] }]);
  });

  test('work the cache refused goes to the retry queue with its keys and edge paths; the purged records are forwarded', async () => {
    const result = await chained(recordingCache(new Set(['item:b'])))(streamEvent(insert({ id: 'a' }), insert({ id: 'b' }), insert({ id: 'c' })));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sent(RETRY_QUEUE)).toEqual([{ kind: 'data-purge', keys: ['item:b'], groups: [], edgePaths: ['/items', '/items?*', '/items/b', '/items/c'] }]);
    expect(sent(EDGE_QUEUE)).toEqual([{ kind: 'edge-paths', paths: ['/items', '/items?*', '/items/a'] }]);
  });

  test('a retry-queue message is purged, then its edge paths forwarded; a failing one is reported by message id', async () => {
    const body = JSON.stringify({ kind: 'data-purge', keys: ['item:b'], groups: ['items'], edgePaths: ['/items/b'] });
    const message = (messageId: string, b: string) => ({ messageId, body: b, eventSource: 'aws:sqs' }) as never;
    expect(await chained()({ Records: [message('m1', body), message('m2', '{"kind":"other"}')] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(events).toEqual(['group:items', 'key:item:b', 'send:edge']);
    events = [];
    expect(await chained(recordingCache(new Set(['item:b'])))({ Records: [message('m3', body)] })).toEqual({ batchItemFailures: [{ itemIdentifier: 'm3' }] });
    expect(events.filter((e) => e.startsWith('send'))).toEqual([]);
  });

  test('a 100,000-record batch answers within its time budget with a partial-batch response (before: ran to the end, 100 s of 30 s)', async () => {
    let clock = 0;
    const slowCache = { invalidate: async () => ((clock += 1), true), invalidateGroup: async () => true };
    const records = Array.from({ length: 100_000 }, (_, i) => insert({ id: `i${i}` }));
    const handler = createDataCachePurgeHandler(() => ({ cache: slowCache, settings: dataPurgeSettingsFromEnv(env), sleep: async () => undefined, random: () => 0, sqs: new SQSClient({}) }));
    // One simulated millisecond per key: 100 s of work for a 30 s function.
    const result = await handler(streamEvent(...records), { getRemainingTimeInMillis: () => 30_000 - clock });
    expect(30_000 - clock).toBeGreaterThanOrEqual(DATA_PURGE_RESERVE_MS - dataPurgeSettingsFromEnv(env).concurrency);
    expect(result.batchItemFailures).toHaveLength(1);
    const resumeAt = records.findIndex((r) => r.dynamodb!.SequenceNumber === result.batchItemFailures[0].itemIdentifier);
    expect(resumeAt).toBeGreaterThan(0);
    // Everything before the resume point was purged and forwarded to the edge; nothing after it.
    const forwarded = sent(EDGE_QUEUE).flatMap((m) => m.paths);
    expect(forwarded).toContain(`/items/i${resumeAt - 1}`);
    expect(forwarded).not.toContain(`/items/i${resumeAt}`);
  });
});

test('the data purge keeps one whole SQS attempt and one cache round (the runtime\'s own timeouts) in reserve', () => {
  const base = dataPurgeSettingsFromEnv(PURGE_ENV).reserveMs;
  expect(base).toBe(DATA_PURGE_RESERVE_MS);
  expect(base).toBe(1000 + 3000 + 200 + 100 + 1000);
  expect(dataPurgeSettingsFromEnv({ ...PURGE_ENV, DATA_CACHE_CONNECT_TIMEOUT_MS: '2000', DATA_CACHE_COMMAND_TIMEOUT_MS: '500' }).reserveMs).toBe(1000 + 3000 + 2000 + 500 + 1000);
});
