import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { describeDataCacheBehaviour } from './data-cache-behaviour';
import { cacheOver, FakeClock } from './helpers';

describeDataCacheBehaviour('memory', { createStore: () => new MemoryStore(), shared: false });

describe('memory store specifics', () => {
  test('bounded by an LRU on entry count', async () => {
    const store = new MemoryStore({ maxEntries: 50 });
    const cache = cacheOver(store);
    for (let i = 0; i < 40; i++) await cache.get(`k${i}`, async () => i);
    await cache.get('k0', async () => -1); // touch k0: most recently used
    for (let i = 40; i < 80; i++) await cache.get(`k${i}`, async () => i);
    expect(store.size).toBeLessThanOrEqual(50);
    expect(await cache.get('k0', async () => -1)).toBe(0);
    expect(await cache.get('k1', async () => -1)).toBe(-1);
  });

  test('honours the store TTL on read', async () => {
    const clock = new FakeClock();
    const store = new MemoryStore({ now: clock.now });
    const lease = await store.acquireLease('k', 1000);
    expect(await store.fill('k', 'text', 1000, lease!)).toBe(true);
    expect((await store.read('k')).item?.text).toBe('text');
    clock.advance(1000);
    expect((await store.read('k')).item).toBeUndefined();
  });
});
