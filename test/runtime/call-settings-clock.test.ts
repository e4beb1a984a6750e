import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';

// A call's settings are remembered (call-settings.ts), but memcached's limit on how long an entry
// can live (its 32-bit clock ends in January 2038) moves with the clock: a remembered policy that
// was valid must still be refused once the clock has moved so far that the store can no longer
// keep it.

afterEach(() => jest.restoreAllMocks());

function memcachedLikeStore(): MemoryStore {
  const store = new MemoryStore();
  Object.defineProperty(store, 'engine', { value: 'memcached' });
  return store;
}

test('a remembered policy is refused once the clock makes it outlive the memcached limit', async () => {
  const clock = jest.spyOn(Date, 'now').mockReturnValue(Date.UTC(2030, 0, 1));
  const cache = new CacheClient({ ttlSeconds: 60, jitter: 0, store: memcachedLikeStore() });
  const options = { ttlSeconds: 365 * 24 * 3600 }; // a year
  await expect(cache.get('k', async () => 'v', options)).resolves.toBe('v');
  clock.mockReturnValue(Date.UTC(2037, 6, 1)); // under a year before 2038-01-19
  await expect(cache.get('k2', async () => 'v', { ttlSeconds: 365 * 24 * 3600 })).rejects.toThrow(RangeError);
});
