/**
 * Edges of the runtime's API: every async call rejects rather than throws, a connection is
 * closed once however many of its commands time out, a failed open leaves nothing connected,
 * and close() leaves no server connection behind.
 */
import Redis from 'iovalkey';
import { cacheAside, cacheAsideWithOutcome, resetCacheClient } from '../../lambda/runtime/cache/from-env';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { startJunkServer } from '../support/junk-server';
import { CacheServer, startRedis } from '../support/servers';
import { cacheOver, sleep, uniqueKey } from './helpers';

let redis: CacheServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** Client connections the redis server has, not counting the redis-cli asking. */
function redisClients(): number {
  const info = redis.cliSync('INFO', 'clients');
  return Number(/connected_clients:(\d+)/.exec(info)?.[1]) - 1;
}

/** Polls until `read()` equals `expected` (the server notices closed sockets a moment later). */
async function settlesAt(read: () => number, expected: number): Promise<number> {
  let value = read();
  for (let i = 0; i < 100 && value !== expected; i++) {
    await sleep(20);
    value = read();
  }
  return value;
}

test('get() with an invalid per-call policy rejects instead of throwing', async () => {
  const cache = cacheOver(new MemoryStore());
  let returned: Promise<unknown> | undefined;
  expect(() => {
    returned = cache.get('k', async () => 1, { ttlSeconds: -1 });
  }).not.toThrow();
  await expect(returned).rejects.toThrow(/ttlSeconds/);
  await expect(cache.get('k', async () => 1, { jitter: 2 })).rejects.toThrow(/jitter/);
  await expect(cache.getWithOutcome('k', async () => 1, { staleIfErrorSeconds: NaN })).rejects.toThrow(/staleIfErrorSeconds/);
});

test('a connection whose commands all time out is disconnected once, without a listener warning', async () => {
  const silent = await startJunkServer(() => undefined);
  const store = new RedisStore({ host: silent.host, port: silent.port, commandTimeoutMs: 50 });
  const disconnect = jest.spyOn(Redis.prototype, 'disconnect');
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    await store.read('warm-up').catch(() => undefined); // opens the connection (the read times out)
    disconnect.mockClear();
    const reads = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.read(`k${i}`)));
    expect(reads.every((r) => r.status === 'rejected')).toBe(true);
    expect(disconnect).toHaveBeenCalledTimes(1);
    await sleep(10);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
    disconnect.mockRestore();
    await store.close();
    await silent.close();
  }
});

test('RedisStore: a password provider that throws leaves no connection behind', async () => {
  const before = await settlesAt(redisClients, 0);
  const store = new RedisStore({
    host: redis.host,
    port: redis.port,
    password: () => {
      throw new Error('no token today');
    },
  });
  for (let i = 0; i < 5; i++) await expect(store.read('k')).rejects.toThrow('no token today');
  await store.close();
  expect(await settlesAt(redisClients, before)).toBe(before);
});

test('close() while a connection is being opened leaves zero server connections', async () => {
  const before = await settlesAt(redisClients, 0);
  const store = new RedisStore({ host: redis.host, port: redis.port });
  const reading = store.read(uniqueKey('k')).catch(() => undefined);
  await store.close();
  await reading;
  expect(await settlesAt(redisClients, before)).toBe(before);

  const junk = await startJunkServer(() => undefined);
  const memcached = new MemcachedStore({ servers: [{ host: junk.host, port: junk.port }] });
  const pending = memcached.read('cca:{k:x}').catch(() => undefined);
  await memcached.close();
  await pending;
  expect(await settlesAt(junk.open, 0)).toBe(0);
  await junk.close();
});

describe('cacheAside with a malformed environment', () => {
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await resetCacheClient();
  });

  test('rejects naming the variable, instead of throwing', async () => {
    process.env.DATA_CACHE_TTL_SECONDS = 'soon';
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = cacheAside('k', async () => 1);
    }).not.toThrow();
    await expect(returned).rejects.toThrow(/DATA_CACHE_TTL_SECONDS/);
    process.env.DATA_CACHE_TTL_SECONDS = '60';
    process.env.DATA_CACHE_ENGINE = 'floppy-disk';
    await resetCacheClient();
    let withOutcome: Promise<unknown> | undefined;
    expect(() => {
      withOutcome = cacheAsideWithOutcome('k', async () => 1);
    }).not.toThrow();
    await expect(withOutcome).rejects.toThrow(/DATA_CACHE_ENGINE/);
  });
});
