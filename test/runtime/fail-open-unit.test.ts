import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { CacheTimeoutError } from '../../lambda/runtime/cache/store';
import { CacheStore } from '../../lambda/runtime/cache/types';
import { cacheOver } from './helpers';

/** A store whose every operation fails: what a handler sees of a dead cache, minus the network. */
function brokenStore(error: () => Error): CacheStore {
  const fail = async (): Promise<never> => {
    throw error();
  };
  return {
    engine: 'memory',
    read: fail,
    acquireLease: fail,
    fill: fail,
    releaseLease: fail,
    invalidate: fail,
    ensureGeneration: fail,
    bumpGeneration: fail,
    close: async () => undefined,
  };
}

describe('fail-open bookkeeping', () => {
  test('cache failures never reach the caller; every call runs its own load once the breaker is open', async () => {
    let now = 0;
    const cache = cacheOver(brokenStore(() => new CacheTimeoutError('command', 100)), { now: () => now, breaker: { failureThreshold: 2, cooldownMs: 1000 } });
    const results: number[] = [];
    for (let i = 0; i < 6; i++) results.push((await cache.get('k', async () => i))!);
    expect(results).toEqual([0, 1, 2, 3, 4, 5]); // no call is served a previous call's result
    expect(cache.stats()).toMatchObject({ errors: 2, timeouts: 2, bypass: 4, breakerOpened: 1, loads: 6 });
    expect(await cache.invalidate('k')).toBe(false);
    now = 1000; // cool-down over: one probe, which fails and re-opens the breaker
    expect(await cache.get('k', async () => 6)).toBe(6);
    expect(await cache.get('k', async () => 7)).toBe(7);
    expect(cache.stats()).toMatchObject({ errors: 3, bypass: 6, breakerOpened: 1 });
  });

  test('a load error reaches the caller, and the next call loads again', async () => {
    const cache = cacheOver(new MemoryStore());
    await expect(cache.get('k', async () => Promise.reject(new Error('origin down')))).rejects.toThrow('origin down');
    await expect(cache.get('k', () => {
      throw new Error('sync throw');
    })).rejects.toThrow('sync throw');
    expect(await cache.get('k', () => 'sync value')).toBe('sync value');
    expect(await cache.get('k', () => 'not loaded')).toBe('sync value');
    expect(cache.stats()).toMatchObject({ loadErrors: 2, loads: 3, hits: 1, errors: 0 });
  });

  test('values the serializer cannot carry are refused with a clear error, and nothing is cached', async () => {
    const cache = cacheOver(new MemoryStore());
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cache.get('cyclic', async () => cyclic)).rejects.toThrow(/cannot store the value .*a cycle at value\.self/);
    expect(await cache.get('cyclic', async () => 'second')).toBe('second');
  });
});
