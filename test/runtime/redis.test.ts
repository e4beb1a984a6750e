import Redis from 'iovalkey';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { entryKeys, leaseKey } from '../../lambda/runtime/cache/keys';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { DEFAULT_ACCESS_STRING } from '../../lib/data-cache/data-cache-defaults';
import { CacheServer, startRedis } from '../support/servers';
import { describeDataCacheBehaviour } from './data-cache-behaviour';
import { cacheOver, countingLoader, sleep, uniqueKey } from './helpers';

// Transitive dependency of iovalkey: the slot function Redis Cluster uses.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keySlot = require('cluster-key-slot') as (key: string) => number;

let server: CacheServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describeDataCacheBehaviour('redis', {
  createStore: (options) => new RedisStore({ host: server.host, port: server.port, ...options }),
  server: () => server,
  killConnectionsSync: () => void server.cliSync('CLIENT', 'KILL', 'TYPE', 'normal'),
  shared: true,
});

// The same suite as the IAM-authenticated application user lib/ creates, with its exact ACL:
// proves the runtime sends nothing the kit's access string does not grant.
describeDataCacheBehaviour('redis as the kit\'s application user (DEFAULT_ACCESS_STRING)', {
  setup: async () => {
    const admin = new Redis({ host: server.host, port: server.port });
    await admin.call('ACL', 'SETUSER', 'kit-app', 'reset', '>app-secret', ...DEFAULT_ACCESS_STRING.split(' '));
    admin.disconnect();
  },
  createStore: (options) => new RedisStore({ host: server.host, port: server.port, username: 'kit-app', password: () => 'app-secret', ...options }),
  killConnectionsSync: () => void server.cliSync('CLIENT', 'KILL', 'USER', 'kit-app'),
  shared: true,
});

describe('redis store specifics', () => {
  const stores: RedisStore[] = [];
  const store = (extra: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}) => {
    const s = new RedisStore({ host: server.host, port: server.port, ...extra });
    stores.push(s);
    return s;
  };
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis({ host: server.host, port: server.port });
  });
  afterAll(async () => {
    raw.disconnect();
    await Promise.all(stores.map((s) => s.close()));
  });

  test('the store TTL covers the fresh lifetime plus the longest stale window, no more', async () => {
    const cache = cacheOver(store(), { ttlSeconds: 20, staleWhileRevalidateSeconds: 5, staleIfErrorSeconds: 40, jitter: 0 });
    const key = uniqueKey('pttl');
    await cache.get(key, async () => 1);
    const pttl = await raw.pttl(entryKeys('cca', key).key);
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  test('a value, its lease and its group counter share one hash slot (cluster and serverless safe)', () => {
    for (const [key, group] of [
      ['items/1', undefined],
      ['page=2', 'list:items'],
      ['x'.repeat(300), 'g'.repeat(300)],
    ] as const) {
      const keys = entryKeys('cca', key, group);
      const slot = keySlot(keys.key);
      expect(keySlot(leaseKey(keys.key))).toBe(slot);
      if (keys.generationKey !== undefined) expect(keySlot(keys.generationKey)).toBe(slot);
    }
  });

  test('every (re)connection authenticates with a freshly asked password, and old connections are replaced', async () => {
    await raw.call('ACL', 'SETUSER', 'app-user', 'on', '>s3cret', '~*', '+@all');
    let asked = 0;
    const s = store({
      username: 'app-user',
      password: () => {
        asked += 1;
        return 's3cret';
      },
      maxConnectionAgeMs: 1000,
    });
    const cache = cacheOver(s);
    const key = uniqueKey('auth');
    await cache.get(key, async () => 'v');
    expect(await cache.get(key, async () => 'reloaded')).toBe('v');
    expect(asked).toBe(1);
    const before = Number(((await raw.info('stats')).match(/total_connections_received:(\d+)/) ?? [])[1]);
    await sleep(1050);
    expect(await cache.get(key, async () => 'reloaded')).toBe('v');
    expect(asked).toBe(2);
    const after = Number(((await raw.info('stats')).match(/total_connections_received:(\d+)/) ?? [])[1]);
    expect(after - before).toBe(1);
    // The replaced connection is closed, not left open beside the new one.
    const appConnections = async () => ((await raw.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string).split('\n').filter((l) => l.includes('user=app-user')).length;
    for (let i = 0; i < 50 && (await appConnections()) > 1; i++) await sleep(10);
    expect(await appConnections()).toBe(1);
    // A wrong password fails open: the load is served, the failure counted.
    const wrong = cacheOver(store({ username: 'app-user', password: 'nope' }));
    expect(await wrong.get(key, async () => 'from origin')).toBe('from origin');
    expect(wrong.stats().errors).toBe(1);
  });

  test('scripts are re-sent after the server forgets them (restart, failover)', async () => {
    const cache = cacheOver(store());
    const key = uniqueKey('noscript');
    await cache.get(key, async () => 1);
    await raw.script('FLUSH');
    await cache.invalidate(key);
    expect(await cache.get(key, async () => 2)).toBe(2);
    expect(await cache.get(key, async () => 3)).toBe(2);
    expect(cache.stats()).toMatchObject({ fills: 2, errors: 0 });
  });

  test('idle connections are few: one per store, reused across calls', async () => {
    const s = store();
    const cache = new CacheClient({ ttlSeconds: 60, store: s });
    const name = uniqueKey('conn');
    for (let i = 0; i < 50; i++) await cache.get(`${name}-${i % 5}`, async () => i);
    const before = Number(((await raw.info('stats')).match(/total_connections_received:(\d+)/) ?? [])[1]);
    for (let i = 0; i < 50; i++) await cache.get(`${name}-${i % 5}`, async () => i);
    const after = Number(((await raw.info('stats')).match(/total_connections_received:(\d+)/) ?? [])[1]);
    expect(after).toBe(before);
  });

  test('a refused connection fails fast and is counted, never thrown', async () => {
    // A connect timeout far past jest's 60 s: only the refusal itself can end this read in time.
    const cache = cacheOver(new RedisStore({ host: '127.0.0.1', port: 1, connectTimeoutMs: 600_000 }));
    const loader = countingLoader('origin');
    expect(await cache.get('k', loader.load)).toBe('origin');
    expect(cache.stats()).toMatchObject({ errors: 1, loads: 1 });
  });
});
