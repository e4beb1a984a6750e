import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { CacheStore } from '../../lambda/runtime/cache/types';
import { CacheServer, startMemcached, startRedis } from '../support/servers';
import { cacheOver, countingLoader, uniqueKey } from './helpers';

/** In-transit encryption, as ElastiCache Serverless requires: both stores against TLS-only servers. */
let redis: CacheServer;
let memcached: CacheServer;
beforeAll(async () => {
  [redis, memcached] = await Promise.all([startRedis({ tls: true }), startMemcached({ tls: true })]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), memcached?.stop()]);
});

const stores: Record<string, () => CacheStore> = {
  redis: () => new RedisStore({ host: redis.host, port: redis.port, tls: { ca: redis.tls!.ca }, connectTimeoutMs: 1000 }),
  memcached: () => new MemcachedStore({ servers: [{ host: memcached.host, port: memcached.port }], tls: { ca: memcached.tls!.ca }, connectTimeoutMs: 1000 }),
};

describe.each(Object.keys(stores))('%s over TLS', (name) => {
  test('miss, fill, hit and invalidate over an encrypted connection', async () => {
    const store = stores[name]();
    try {
      const cache = cacheOver(store);
      const key = uniqueKey('tls');
      const loader = countingLoader({ secret: 'value' });
      expect(await cache.get(key, loader.load)).toEqual({ secret: 'value' });
      expect(await cache.get(key, loader.load)).toEqual({ secret: 'value' });
      expect(await cache.invalidate(key)).toBe(true);
      expect(await cache.get(key, loader.load)).toEqual({ secret: 'value' });
      expect(loader.calls()).toBe(2);
      expect(cache.stats()).toMatchObject({ hits: 1, errors: 0 });
    } finally {
      await store.close();
    }
  });

  test('a certificate the client does not trust is a counted failure, never a throw', async () => {
    const server = name === 'redis' ? redis : memcached;
    const store =
      name === 'redis'
        ? new RedisStore({ host: server.host, port: server.port, tls: true, connectTimeoutMs: 1000 })
        : new MemcachedStore({ servers: [{ host: server.host, port: server.port }], tls: true, connectTimeoutMs: 1000 });
    try {
      const cache = cacheOver(store);
      expect(await cache.get(uniqueKey('untrusted'), async () => 'origin')).toBe('origin');
      expect(cache.stats()).toMatchObject({ errors: 1, hits: 0 });
    } finally {
      await store.close();
    }
  });
});
