import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { CacheStore } from '../../lambda/runtime/cache/types';
import { CacheServer, startMemcached, startRedis } from '../support/servers';

export type Engine = 'memory' | 'redis' | 'memcached';

/**
 * A store on `engine` for the enclosing describe block: a real redis-server or memcached on
 * loopback started before its tests and stopped after them. Call inside `describe`.
 */
export function engineStore(engine: Engine): () => CacheStore {
  let server: CacheServer | undefined;
  let store: CacheStore | undefined;
  beforeAll(async () => {
    if (engine === 'redis') server = await startRedis();
    if (engine === 'memcached') server = await startMemcached();
    store =
      engine === 'memory'
        ? new MemoryStore()
        : engine === 'redis'
          ? new RedisStore({ host: server!.host, port: server!.port })
          : new MemcachedStore({ servers: [{ host: server!.host, port: server!.port }] });
  });
  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });
  return () => {
    if (!store) throw new Error('engineStore: the store exists only inside the describe block\'s tests');
    return store;
  };
}
