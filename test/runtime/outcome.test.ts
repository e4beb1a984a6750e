import { CacheClient, MemoryStore } from '../../lambda/runtime/cache';
import type { CacheStore } from '../../lambda/runtime/cache';

// How each lookup was served, as handlers report it in X-Data-Cache and their metrics.
describe('CacheClient.getWithOutcome', () => {
  let clock = 1_000_000;
  const now = () => clock;

  test('miss, then hit, then stale inside the stale-while-revalidate window', async () => {
    const cache = new CacheClient({ store: new MemoryStore({ now }), ttlSeconds: 10, staleWhileRevalidateSeconds: 60, jitter: 0, now });
    let loads = 0;
    const load = async () => ({ n: ++loads });
    expect(await cache.getWithOutcome('k', load)).toEqual({ value: { n: 1 }, outcome: 'miss' });
    expect(await cache.getWithOutcome('k', load)).toEqual({ value: { n: 1 }, outcome: 'hit' });
    clock += 11_000;
    const stale = await cache.getWithOutcome('k', load);
    expect(stale.outcome).toBe('stale');
    await cache.close();
  });

  test('error when the store fails (the load still answers), then bypass once the breaker opens', async () => {
    const failing = new MemoryStore({ now }) as CacheStore;
    failing.read = async () => {
      throw new Error('connection reset');
    };
    const cache = new CacheClient({ store: failing, ttlSeconds: 10, now, breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const load = async () => 'origin';
    expect(await cache.getWithOutcome('k', load)).toEqual({ value: 'origin', outcome: 'error' });
    expect(await cache.getWithOutcome('k', load)).toEqual({ value: 'origin', outcome: 'error' });
    expect(await cache.getWithOutcome('k', load)).toEqual({ value: 'origin', outcome: 'bypass' });
    await cache.close();
  });

  test('callers that join a lookup in flight are told how it was served', async () => {
    const cache = new CacheClient({ store: new MemoryStore({ now }), ttlSeconds: 10, now });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      await gate;
      return 'v';
    };
    const calls = [cache.getWithOutcome('j', load), cache.getWithOutcome('j', load)];
    release();
    expect((await Promise.all(calls)).map((c) => c.outcome)).toEqual(['miss', 'miss']);
    expect(cache.stats().loads).toBe(1);
    await cache.close();
  });
});
