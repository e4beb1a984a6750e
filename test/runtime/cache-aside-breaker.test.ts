import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { DEFAULT_KEY_PREFIX } from '../../lambda/runtime/cache/env';
import { entryKeys } from '../../lambda/runtime/cache/keys';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { maxStoreTtlMs } from '../../lambda/runtime/cache/store';
import { engineStore } from './engine-store';
import { cacheOver, FakeClock, gatedLoader, uniqueKey, waitUntil } from './helpers';
import { ScriptedStore } from './scripted-store';

// The CacheClient's invalidation hand-over to lookups in flight, its circuit breaker, stale-if-error
// without a lease, foreign data and the store's TTL limit, over a real redis-server on loopback
// (or the in-memory store where only the engine's name matters). Written from the mutants
// StrykerJS left alive in cache-aside.ts (docs/testing.md): each test fails with its line changed.

const storeKey = (key: string) => entryKeys(DEFAULT_KEY_PREFIX, key).key;
const failing = (message: string) => async (): Promise<string> => {
  throw new Error(message);
};

describe('invalidate() and lookups in flight', () => {
  const shared = engineStore('redis');

  test('a read that starts while the invalidation is on its way does not join the lookup started before it', async () => {
    const store = new ScriptedStore(shared());
    const cache = cacheOver(store);
    const key = uniqueKey('in-flight');
    const old = gatedLoader('old');
    const before = cache.get(key, old.load);
    await waitUntil(() => old.calls() === 1, 'the first load starts');
    let during: Promise<{ value: unknown; outcome: string }> | undefined;
    store.before = (method) => {
      if (method === 'invalidate') during = cache.getWithOutcome(key, async () => 'new');
    };
    expect(await cache.invalidate(key)).toBe(true);
    old.open();
    expect(await before).toBe('old');
    expect(await during).toEqual({ value: 'new', outcome: 'bypass' });
    expect(cache.stats()).toMatchObject({ coalesced: 0 });
  });

  test('a lookup started while the invalidation was on its way is not shared after it either', async () => {
    const store = new ScriptedStore(shared());
    const cache = cacheOver(store);
    const key = uniqueKey('started-during');
    const during = gatedLoader('during');
    let first: Promise<unknown> | undefined;
    store.before = (method) => {
      if (method === 'invalidate') first = cache.get(key, during.load);
    };
    expect(await cache.invalidate(key)).toBe(true);
    store.before = undefined;
    expect(await cache.getWithOutcome(key, async () => 'after')).toEqual({ value: 'after', outcome: 'miss' });
    during.open();
    expect(await first).toBe('during');
    expect(cache.stats()).toMatchObject({ coalesced: 0 });
  });
  test("a group invalidation leaves the lookups of other keys shared", async () => {
    const cache = cacheOver(shared());
    const [key, group] = [uniqueKey('other-key'), uniqueKey('group')];
    const slow = gatedLoader('shared');
    const first = cache.get(key, slow.load);
    await waitUntil(() => slow.calls() === 1, 'the load starts');
    expect(await cache.invalidateGroup(group)).toBe(true);
    const joiner = cache.get(key, async () => 'a second load');
    slow.open();
    expect([await first, await joiner]).toEqual(['shared', 'shared']);
    expect(cache.stats()).toMatchObject({ coalesced: 1, loads: 1 });
  });
});

describe('the circuit breaker', () => {
  const shared = engineStore('redis');
  const breaker = { failureThreshold: 2, cooldownMs: 60_000 };
  /** A failing read of a key of its own: one failure of the cache. */
  async function oneFailure(store: ScriptedStore, cache: CacheClient): Promise<void> {
    store.fail('read', 1);
    expect((await cache.getWithOutcome(uniqueKey('broken'), async () => 'x')).outcome).toBe('error');
  }

  test.each(['acquireLease', 'fill', 'invalidate'] as const)(
    'a successful %s resets the failure count (a failure just before it does not add up with the next)',
    async (method) => {
      const store = new ScriptedStore(shared());
      const cache = cacheOver(store, { breaker });
      const key = uniqueKey(method);
      let armed = true;
      store.before = async (called, calledKey) => {
        if (called !== method || calledKey !== storeKey(key) || !armed) return;
        armed = false;
        await oneFailure(store, cache); // between the lookup's successful read and this call
      };
      if (method === 'invalidate') expect(await cache.invalidate(key)).toBe(true);
      // A failing load after the lease: no fill, whose own success would hide the lease's.
      else if (method === 'acquireLease') await expect(cache.get(key, failing('origin down'))).rejects.toThrow('origin down');
      else expect(await cache.get(key, async () => 'v')).toBe('v');
      await oneFailure(store, cache);
      expect(cache.stats()).toMatchObject({ errors: 2, breakerOpened: 0 });
    },
  );

  test('a successful replay of an invalidation resets the failure count', async () => {
    const store = new ScriptedStore(shared());
    const cache = cacheOver(store, { breaker, schedule: () => undefined });
    store.fail('invalidate', 1);
    expect(await cache.invalidate(uniqueKey('replayed'))).toBe(false); // failure 1
    expect(await cache.repair()).toBe(true);
    await oneFailure(store, cache);
    expect(cache.stats()).toMatchObject({ errors: 2, breakerOpened: 0 });
  });

  test.each([
    ['given', { failureThreshold: 1, cooldownMs: 10_000 }, 10_000],
    ['5 s by default', { failureThreshold: 1 }, 5_000],
  ])('the cool-down, %s, to the millisecond', async (_, options, cooldownMs) => {
    const clock = new FakeClock();
    const store = new ScriptedStore(shared());
    const cache = cacheOver(store, { now: clock.now, breaker: options });
    await oneFailure(store, cache);
    expect(cache.stats()).toMatchObject({ breakerOpened: 1 });
    clock.advance(cooldownMs - 1);
    expect((await cache.getWithOutcome(uniqueKey('open'), async () => 'x')).outcome).toBe('bypass');
    clock.advance(1);
    expect((await cache.getWithOutcome(uniqueKey('probe'), async () => 'x')).outcome).toBe('miss');
  });
});

describe('stale-if-error when the value is loaded without a lease', () => {
  const shared = engineStore('redis');

  test('another container holds the lease: a failing load serves the old value inside the window, rethrows after it', async () => {
    const clock = new FakeClock();
    const cache = cacheOver(shared(), { now: clock.now, staleIfErrorSeconds: 60, leaseWaitMs: 1 });
    const key = uniqueKey('sie-no-lease');
    await cache.get(key, async () => 'old');
    const lease = await shared().acquireLease(storeKey(key), 10_000, undefined);
    clock.advance(60_000 + 59_999);
    expect(await cache.get(key, failing('origin down'))).toBe('old');
    expect(cache.stats()).toMatchObject({ staleIfError: 1, loadErrors: 1, fills: 1 });
    clock.advance(1);
    await expect(cache.get(key, failing('origin down'))).rejects.toThrow('origin down');
    expect(cache.stats()).toMatchObject({ staleIfError: 1, loadErrors: 2 });
    await shared().releaseLease(storeKey(key), lease!);
  });
});

describe('entry checks', () => {
  const shared = engineStore('redis');

  test('data in the key that is not an entry of this format is a miss, not an error', async () => {
    const key = uniqueKey('foreign');
    const lease = await shared().acquireLease(storeKey(key), 10_000, undefined);
    expect(await shared().fill(storeKey(key), 'written by something else', 60_000, lease!)).toBe(true);
    const cache = cacheOver(shared());
    expect(await cache.getWithOutcome(key, async () => 'loaded')).toEqual({ value: 'loaded', outcome: 'miss' });
  });
});

describe('values the serializer cannot read back', () => {
  test('are a miss, loaded and written again', async () => {
    const serializer = { serialize: JSON.stringify, deserialize: (json: string) => (json.includes('bad') ? (() => { throw new SyntaxError('unreadable'); })() : JSON.parse(json)) };
    const cache = cacheOver(new MemoryStore(), { serializer });
    await cache.get('k', async () => 'bad');
    expect(await cache.getWithOutcome('k', async () => 'good')).toEqual({ value: 'good', outcome: 'miss' });
    expect(await cache.getWithOutcome('k', async () => 'other')).toEqual({ value: 'good', outcome: 'hit' });
  });
});

describe("the store's TTL limit (memcached: 2038)", () => {
  /** The in-memory store under memcached's name: the limit is the engine's, no server needed. */
  const memcachedLike = () =>
    new (class extends ScriptedStore {
      readonly engine = 'memcached' as const;
    })(new MemoryStore());
  const maxSeconds = () => Math.floor(maxStoreTtlMs('memcached') / 1000);

  test('a client whose fresh lifetime plus its longest stale window is past it is refused at construction', () => {
    const staleIfErrorSeconds = maxSeconds() - 30;
    expect(() => new CacheClient({ store: memcachedLike(), ttlSeconds: 60, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds })).toThrow(
      'ttlSeconds plus the longest stale window',
    );
  });

  test('per-call lifetimes are checked at every call: the limit comes closer as time goes by', async () => {
    const cache = cacheOver(memcachedLike());
    const options = { ttlSeconds: maxSeconds() - 3_600 };
    expect(await cache.get(uniqueKey('far'), async () => 'v', options)).toBe('v');
    const now = Date.now();
    const later = jest.spyOn(Date, 'now').mockReturnValue(now + 7_200_000);
    try {
      await expect(cache.get(uniqueKey('far'), async () => 'v', options)).rejects.toThrow('ttlSeconds plus the longest stale window');
    } finally {
      later.mockRestore();
    }
  });
});
