import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { encodeEntry } from '../../lambda/runtime/cache/entry';
import { DEFAULT_KEY_PREFIX } from '../../lambda/runtime/cache/env';
import { entryKeys } from '../../lambda/runtime/cache/keys';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { emptyStats } from '../../lambda/runtime/cache/stats';
import { CacheClientOptions, FillLease } from '../../lambda/runtime/cache/types';
import { Engine, engineStore } from './engine-store';
import { cacheOver, FakeClock, gatedLoader, sleep, uniqueKey, waitUntil } from './helpers';
import { ScriptedStore } from './scripted-store';

// The CacheClient's error, release, reconnection and invalidation-replay paths, on each engine
// (real redis-server and memcached on loopback). Written from the mutants StrykerJS left alive in
// cache-aside.ts (docs/testing.md, "Mutation testing"): each test fails with its line changed.

const storeKey = (key: string) => entryKeys(DEFAULT_KEY_PREFIX, key).key;
const failing = (message: string) => async (): Promise<string> => {
  throw new Error(message);
};

describe.each<Engine>(['memory', 'redis', 'memcached'])('%s', (engine) => {
  const shared = engineStore(engine);
  /** A client over the engine's store with failures put in front (ScriptedStore). */
  function scripted(options: Partial<CacheClientOptions> = {}, sessions?: number): { store: ScriptedStore; cache: CacheClient } {
    const store = new ScriptedStore(shared());
    store.sessions = sessions;
    return { store, cache: cacheOver(store, options) };
  }
  /** Holds the fill lease of `key` as another container would, straight on the store. */
  async function holdLease(key: string): Promise<FillLease> {
    const lease = await shared().acquireLease(storeKey(key), 10_000, undefined);
    if (lease === undefined) throw new Error(`lease of ${key} already held`);
    return lease;
  }

  describe('invalidations the cache did not take', () => {
    test('counted and kept, read from the origin meanwhile, replayed by repair(); resetStats() zeroes every counter', async () => {
      const scheduled: number[] = [];
      const { store, cache } = scripted({ schedule: (_run, ms) => scheduled.push(ms) });
      const key = uniqueKey('deferred');
      expect(await cache.get(key, async () => 'v1')).toBe('v1');
      store.fail('invalidate', 2);
      expect(await cache.invalidate(key)).toBe(false);
      expect(cache.pendingInvalidations).toBe(1);
      expect(scheduled).toEqual([250]); // the default repair interval
      expect(await cache.getWithOutcome(key, async () => 'v2')).toEqual({ value: 'v2', outcome: 'bypass' });
      expect(await cache.repair()).toBe(false); // the replay fails too: an error, still pending
      expect(cache.pendingInvalidations).toBe(1);
      expect(await cache.repair()).toBe(true);
      expect(cache.pendingInvalidations).toBe(0);
      expect(await cache.getWithOutcome(key, async () => 'v3')).toEqual({ value: 'v3', outcome: 'miss' });
      expect(await cache.invalidate(key)).toBe(true);
      expect(cache.stats()).toEqual({
        ...emptyStats(),
        misses: 2,
        loads: 3,
        fills: 2,
        bypass: 1,
        errors: 2,
        invalidations: 1,
        invalidationsDeferred: 1,
        repairs: 1,
      });
      cache.resetStats();
      expect(cache.stats()).toEqual(emptyStats());
    });

    test('a group invalidation too: its keys bypass the cache until the replay bumps the counter', async () => {
      const { store, cache } = scripted({ schedule: () => undefined });
      const [key, group] = [uniqueKey('grouped'), uniqueKey('group')];
      expect(await cache.get(key, async () => 'v1', { group })).toBe('v1');
      store.fail('bumpGeneration', 1);
      expect(await cache.invalidateGroup(group)).toBe(false);
      expect(await cache.getWithOutcome(key, async () => 'v2', { group })).toEqual({ value: 'v2', outcome: 'bypass' });
      expect(await cache.repair()).toBe(true);
      expect(await cache.getWithOutcome(key, async () => 'v3', { group })).toEqual({ value: 'v3', outcome: 'miss' });
      expect(cache.stats()).toMatchObject({ invalidationsDeferred: 1, repairs: 1, errors: 1 });
      expect(store.count('bumpGeneration')).toBe(2); // replayed as a bump, not as a delete of the counter
      expect(store.count('invalidate')).toBe(0);
    });

    test('replayed by itself after repairIntervalMs (default scheduler)', async () => {
      const { store, cache } = scripted({ repairIntervalMs: 5 });
      store.fail('invalidate', 1);
      expect(await cache.invalidate(uniqueKey('auto'))).toBe(false);
      await waitUntil(() => cache.pendingInvalidations === 0, 'the scheduled replay');
      expect(cache.stats()).toMatchObject({ repairs: 1 });
    });

    test('after close(), no replay is scheduled any more; repair() still runs', async () => {
      const scheduled: number[] = [];
      const { store, cache } = scripted({ schedule: (_run, ms) => scheduled.push(ms), repairIntervalMs: 40 });
      await cache.close();
      store.fail('invalidate', 2);
      expect(await cache.invalidate(uniqueKey('closed'))).toBe(false);
      expect(await cache.repair()).toBe(false);
      expect(scheduled).toEqual([]);
      expect(await cache.repair()).toBe(true);
    });
  });

  describe('reconnections (the cache may have restarted from an old snapshot)', () => {
    test('an entry written before a reconnection is not served; one filled after it is, in the same millisecond', async () => {
      const clock = new FakeClock();
      const { store, cache } = scripted({ now: clock.now }, 1);
      const key = uniqueKey('restart');
      await cache.get(key, async () => 'before');
      clock.advance(1);
      store.sessions = 2;
      expect(await cache.getWithOutcome(key, async () => 'after')).toEqual({ value: 'after', outcome: 'miss' });
      expect(await cache.getWithOutcome(key, async () => 'again')).toEqual({ value: 'after', outcome: 'hit' });
      expect(cache.stats()).toMatchObject({ reconnections: 1 });
    });

    test('a reconnection seen while waiting for another fill: the restored entry it finds is not served', async () => {
      const clock = new FakeClock();
      const { store, cache } = scripted({ now: clock.now, leaseWaitMs: 100 }, 1);
      const key = uniqueKey('restart-wait');
      const lease = await holdLease(key);
      // At the waiter's first poll the cache has restarted with an old entry of the key in it.
      store.before = async (method) => {
        if (method !== 'read' || store.count('read') !== 2) return;
        store.sessions = 2;
        const old = clock.now() - 60_000;
        expect(await shared().fill(storeKey(key), encodeEntry(old, old + 3_600_000, '', '"restored"'), 3_600_000, lease)).toBe(true);
      };
      expect(await cache.get(key, async () => 'origin')).toBe('origin');
      expect(cache.stats()).toMatchObject({ reconnections: 1, leaseWaits: 0 });
    });

    test('a reconnection seen during a replay pass is taken into account at once', async () => {
      const { store, cache } = scripted({ schedule: () => undefined }, 1);
      store.fail('invalidate', 1);
      expect(await cache.invalidate(uniqueKey('replay'))).toBe(false);
      store.sessions = 2; // reconnected before the replay
      expect(await cache.repair()).toBe(true);
      expect(cache.stats()).toMatchObject({ reconnections: 1 });
    });
  });

  describe('cache failures on the lease paths fall back to the load, counted as errors', () => {
    test('the lease of a miss', async () => {
      const { store, cache } = scripted();
      store.fail('acquireLease', 1);
      expect(await cache.getWithOutcome(uniqueKey('lease'), async () => 'v')).toEqual({ value: 'v', outcome: 'error' });
      expect(cache.stats()).toMatchObject({ errors: 1, loads: 1, fills: 0 });
    });

    test('a poll read while another container fills', async () => {
      const { store, cache } = scripted({ leaseWaitMs: 60_000 });
      const key = uniqueKey('poll');
      const lease = await holdLease(key);
      store.before = (method) => {
        if (method === 'read' && store.count('read') === 2) store.fail('read', 1); // the first poll
      };
      // "error: the cache failed; loaded" (getWithOutcome), as on every other lease path.
      expect(await cache.getWithOutcome(key, async () => 'origin')).toEqual({ value: 'origin', outcome: 'error' });
      expect(cache.stats()).toMatchObject({ errors: 1, loads: 1, fills: 0 });
      await shared().releaseLease(storeKey(key), lease);
    });

    test('the lease at the end of a wait', async () => {
      const { store, cache } = scripted({ leaseWaitMs: 20 });
      const key = uniqueKey('late-lease');
      const lease = await holdLease(key);
      store.before = (method) => {
        if (method === 'read' && store.count('read') === 2) store.fail('acquireLease', 1);
      };
      expect(await cache.getWithOutcome(key, async () => 'origin')).toEqual({ value: 'origin', outcome: 'error' });
      expect(cache.stats()).toMatchObject({ errors: 1, loads: 1, fills: 0 });
      await shared().releaseLease(storeKey(key), lease);
    });

    test('the refresh lease of a stale entry: the stale value is served', async () => {
      const clock = new FakeClock();
      const { store, cache } = scripted({ now: clock.now, staleWhileRevalidateSeconds: 60 });
      const key = uniqueKey('refresh-lease');
      await cache.get(key, async () => 'v1');
      clock.advance(61_000);
      store.fail('acquireLease', 1);
      expect(await cache.getWithOutcome(key, async () => 'v2')).toEqual({ value: 'v1', outcome: 'stale' });
      expect(cache.stats()).toMatchObject({ errors: 1, loads: 1 });
    });

    test('the fill: the loaded value is returned', async () => {
      const { store, cache } = scripted();
      store.fail('fill', 1);
      expect(await cache.get(uniqueKey('fill'), async () => 'v')).toBe('v');
      expect(cache.stats()).toMatchObject({ errors: 1, fills: 0, fillsRejected: 0 });
    });

    test("the release after a failing load: the caller gets the load's error", async () => {
      const { store, cache } = scripted();
      store.fail('releaseLease', 1);
      await expect(cache.get(uniqueKey('release'), failing('origin down'))).rejects.toThrow('origin down');
      expect(cache.stats()).toMatchObject({ errors: 1, loadErrors: 1 });
    });
  });

  describe('a lease is given back when nothing is written, so the next caller fills at once', () => {
    /** The next caller (another container) fills without waiting for the lease to expire. */
    async function nextCallerFills(key: string): Promise<void> {
      const other = cacheOver(shared(), { leaseWaitMs: 1 });
      expect(await other.get(key, async () => 'small')).toBe('small');
      expect(other.stats()).toMatchObject({ fills: 1, leaseWaits: 0 });
    }

    test('after a failing load', async () => {
      const key = uniqueKey('released-error');
      await expect(cacheOver(shared()).get(key, failing('origin down'))).rejects.toThrow('origin down');
      await nextCallerFills(key);
    });

    test('after a value the serializer refuses', async () => {
      const key = uniqueKey('released-serializer');
      const serializer = { serialize: () => '', deserialize: JSON.parse };
      await expect(cacheOver(shared(), { serializer }).get(key, async () => 'x')).rejects.toThrow('empty string');
      await nextCallerFills(key);
    });

    test('after a value over maxValueBytes', async () => {
      const key = uniqueKey('released-oversize');
      expect(await cacheOver(shared(), { maxValueBytes: 40 }).get(key, async () => 'x'.repeat(100))).toBe('x'.repeat(100));
      await nextCallerFills(key);
    });
  });

  describe('waiting for another fill', () => {
    test('a miss with no lease held loads at once: one read and one lease before the load, no poll', async () => {
      const { store, cache } = scripted({ leaseWaitMs: 60_000 });
      let before: string[] = [];
      expect(
        await cache.get(uniqueKey('no-wait'), async () => {
          before = store.calls.map((c) => c.method);
          return 'v';
        }),
      ).toBe('v');
      expect(before).toEqual(['read', 'acquireLease']);
    });

    test('an entry found during the wait that expires at that very millisecond is not served; the waiter fills', async () => {
      const clock = new FakeClock();
      const { store, cache } = scripted({ now: clock.now, leaseWaitMs: 100 });
      const key = uniqueKey('expired-in-wait');
      const lease = await holdLease(key);
      // The other container fills at the first poll, with an entry fresh until now exactly.
      store.before = async (method) => {
        if (method !== 'read' || store.count('read') !== 2) return;
        const now = clock.now();
        expect(await shared().fill(storeKey(key), encodeEntry(now - 1, now, '', '"expired"'), 3_600_000, lease)).toBe(true);
      };
      expect(await cache.get(key, async () => 'origin')).toBe('origin');
      expect(cache.stats()).toMatchObject({ leaseWaits: 0, loads: 1, fills: 1 });
      expect(await cache.getWithOutcome(key, async () => 'again')).toEqual({ value: 'origin', outcome: 'hit' });
    });
  });
});

describe('memcached: a key whose fill marker is there', () => {
  const shared = engineStore('memcached');
  test('is not leased again before the wait: the read already said it is being filled', async () => {
    const store = new ScriptedStore(shared());
    const cache = cacheOver(store, { leaseWaitMs: 20 });
    const key = uniqueKey('marker');
    const lease = await shared().acquireLease(storeKey(key), 10_000, undefined);
    expect(lease).toBeDefined();
    expect(await cache.get(key, async () => 'origin')).toBe('origin');
    expect(store.calls.map((c) => c.method).slice(0, 2)).toEqual(['read', 'read']);
    await shared().releaseLease(storeKey(key), lease!);
  });
});

describe('close()', () => {
  test('waits for a background refresh before closing the store', async () => {
    const clock = new FakeClock();
    const closed: string[] = [];
    const store = new (class extends ScriptedStore {
      async close() {
        closed.push('store');
      }
    })(new MemoryStore());
    const cache = cacheOver(store, { now: clock.now, staleWhileRevalidateSeconds: 60, refresh: 'background' });
    await cache.get('k', async () => 'v1');
    clock.advance(61_000);
    const refresh = gatedLoader('v2');
    expect(await cache.get('k', refresh.load)).toBe('v1');
    await waitUntil(() => refresh.calls() === 1, 'the refresh load starts');
    const closing = cache.close().then(() => closed.push('client'));
    await sleep(20);
    expect(closed).toEqual([]); // still refreshing
    refresh.open();
    await closing;
    expect(closed).toEqual(['store', 'client']);
    expect(store.count('fill')).toBe(2);
  });
});
