import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { encodeEntry } from '../../lambda/runtime/cache/entry';
import { DEFAULT_KEY_PREFIX } from '../../lambda/runtime/cache/env';
import { entryKeys, groupGenerationKey } from '../../lambda/runtime/cache/keys';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';

// Fill leases between containers (two clients over one store), the single-flight map, group
// generations and the size limit's edge. Written from the mutants StrykerJS left alive in
// cache-aside.ts (docs/testing.md): each test fails when its line is changed that way.

/** A load that does not finish until `release` is called; `started` resolves when it is called. */
function gatedLoad<T>(value: T) {
  let release!: () => void;
  let markStarted!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  let calls = 0;
  const load = async () => {
    calls += 1;
    markStarted();
    await gate;
    return value;
  };
  return { load, release, started, calls: () => calls };
}

describe('fill leases between two containers', () => {
  test('a waiter whose wait runs out while the lease is held loads without writing; the holder fills', async () => {
    const store = new MemoryStore();
    const holder = new CacheClient({ store, ttlSeconds: 60, jitter: 0 });
    const waiter = new CacheClient({ store, ttlSeconds: 60, jitter: 0, leaseWaitMs: 20 });
    const slow = gatedLoad('from holder');
    const held = holder.get('k', slow.load);
    await slow.started;
    expect(await waiter.get('k', async () => 'from waiter')).toBe('from waiter');
    expect(waiter.stats()).toMatchObject({ loads: 1, fills: 0, fillsRejected: 0, leaseWaits: 0 });
    slow.release();
    expect(await held).toBe('from holder');
    expect(holder.stats()).toMatchObject({ fills: 1 });
    // The holder's value is what the cache serves, not the waiter's.
    expect(await waiter.getWithOutcome('k', async () => 'again')).toEqual({ value: 'from holder', outcome: 'hit' });
  });

  test("a waiter for a grouped key gets the holder's value once it is filled, without loading", async () => {
    let refused!: () => void;
    const isWaiting = new Promise<void>((resolve) => (refused = resolve));
    const store = new (class extends MemoryStore {
      async acquireLease(key: string, ttlMs: number) {
        const lease = await super.acquireLease(key, ttlMs);
        if (lease === undefined) refused();
        return lease;
      }
    })();
    const holder = new CacheClient({ store, ttlSeconds: 60, jitter: 0 });
    const waiter = new CacheClient({ store, ttlSeconds: 60, jitter: 0, leaseWaitMs: 5_000 });
    const slow = gatedLoad('page from holder');
    const held = holder.get('page', slow.load, { group: 'items' });
    await slow.started;
    const waiting = waiter.get('page', async () => 'page from waiter', { group: 'items' });
    await isWaiting;
    slow.release();
    expect(await held).toBe('page from holder');
    expect(await waiting).toBe('page from holder');
    expect(waiter.stats()).toMatchObject({ leaseWaits: 1, loads: 0 });
  });

  test('a waiter takes over a lease that expired while it waited, and its fill is the one that counts', async () => {
    const clock = { now: Date.now() };
    let refused!: () => void;
    const waiting = new Promise<void>((resolve) => (refused = resolve));
    // Tells when the waiter found the lease held, so the clock moves only once it is waiting.
    const store = new (class extends MemoryStore {
      async acquireLease(key: string, ttlMs: number) {
        const lease = await super.acquireLease(key, ttlMs);
        if (lease === undefined) refused();
        return lease;
      }
    })({ now: () => clock.now });
    const holder = new CacheClient({ store, ttlSeconds: 60, jitter: 0, leaseTtlMs: 1000 });
    const waiter = new CacheClient({ store, ttlSeconds: 60, jitter: 0, leaseWaitMs: 20 });
    const stuck = gatedLoad('late holder');
    const held = holder.get('k', stuck.load);
    await stuck.started;
    const takeOver = waiter.get('k', async () => 'taken over');
    await waiting;
    clock.now += 1001; // the holder's lease runs out while the waiter polls
    expect(await takeOver).toBe('taken over');
    expect(waiter.stats()).toMatchObject({ misses: 1 });
    expect(waiter.stats()).toMatchObject({ loads: 1, fills: 1 });
    // The holder comes back after losing its lease: its fill is refused.
    stuck.release();
    expect(await held).toBe('late holder');
    expect(holder.stats()).toMatchObject({ fills: 0, fillsRejected: 1 });
    expect(await holder.getWithOutcome('k', async () => 'again')).toEqual({ value: 'taken over', outcome: 'hit' });
  });
});

describe('single-flight', () => {
  test('a lookup detached by an invalidation, finishing later, leaves the newer lookup of its key shared', async () => {
    const cache = new CacheClient({ store: new MemoryStore(), ttlSeconds: 60, jitter: 0 });
    const first = gatedLoad('old');
    const before = cache.get('k', first.load);
    await first.started;
    expect(await cache.invalidate('k')).toBe(true);
    const second = gatedLoad('new');
    const after = cache.get('k', second.load);
    await second.started;
    first.release();
    expect(await before).toBe('old');
    // The first lookup has finished; the second is still running and must still be joined.
    const joiner = cache.get('k', async () => 'a third load');
    second.release();
    expect(await after).toBe('new');
    expect(await joiner).toBe('new');
    expect(cache.stats()).toMatchObject({ coalesced: 1, loads: 2, leaseWaits: 0 });
  });
});

describe('group generations', () => {
  test('an entry written under another generation of its group is not served', async () => {
    const store = new MemoryStore();
    const cache = new CacheClient({ store, ttlSeconds: 60, jitter: 0 });
    expect(await cache.get('page', async () => 'current', { group: 'items' })).toBe('current');
    // A container that read the counter before an invalidation writes under the old generation.
    const { key } = entryKeys(DEFAULT_KEY_PREFIX, 'page', 'items');
    const generation = (await store.read(key, groupGenerationKey(DEFAULT_KEY_PREFIX, 'items'))).generation;
    await store.invalidate(key);
    const lease = await store.acquireLease(key, 1000);
    const now = Date.now();
    expect(await store.fill(key, encodeEntry(now, now + 60_000, `${generation}-old`, JSON.stringify('old generation')), 60_000, lease!)).toBe(true);
    expect(await cache.getWithOutcome('page', async () => 'reloaded', { group: 'items' })).toEqual({ value: 'reloaded', outcome: 'miss' });
  });
});

describe('size limit', () => {
  const T0 = 1_800_000_000_000;
  /** Text the client stores for `value` at T0 (same clock, so the same length every time). */
  async function storedText(value: unknown): Promise<string> {
    const store = new MemoryStore();
    const cache = new CacheClient({ store, ttlSeconds: 60, jitter: 0, now: () => T0 });
    await cache.get('k', async () => value);
    return (await store.read(entryKeys(DEFAULT_KEY_PREFIX, 'k').key)).item!.text;
  }
  async function outcomesWithLimit(value: unknown, maxValueBytes: number) {
    const cache = new CacheClient({ store: new MemoryStore(), ttlSeconds: 60, jitter: 0, now: () => T0, maxValueBytes });
    const first = await cache.getWithOutcome('k', async () => value);
    const second = await cache.getWithOutcome('k', async () => value);
    return [first.outcome, second.outcome, cache.stats().oversize];
  }

  test.each([
    ['ASCII', 'a'.repeat(500)],
    ['multi-byte (UTF-8 bytes between the length and 3 times it)', 'é'.repeat(300)],
  ])('an entry of exactly maxValueBytes is stored, one byte over is not (%s)', async (_, value) => {
    const bytes = Buffer.byteLength(await storedText(value));
    expect(await outcomesWithLimit(value, bytes)).toEqual(['miss', 'hit', 0]);
    expect(await outcomesWithLimit(value, bytes - 1)).toEqual(['miss', 'miss', 2]);
  });
});

describe('the circuit breaker counts successes on the lease paths too', () => {
  /**
   * Reads of keys starting with "broken" fail; `duringLease` runs inside an acquireLease of the
   * key "k" (after the lookup's own read succeeded), to put a failure just before that success.
   */
  class HookedStore extends MemoryStore {
    duringLease: Array<() => Promise<unknown>> = [];
    /** Called (once) at the next read of "k". */
    onReadOfK?: () => void;
    async read(key: string, generationKey?: string) {
      if (key.includes('broken')) throw new Error('read failed');
      if (key.includes('{k:k}')) this.onReadOfK?.();
      this.onReadOfK = undefined;
      return super.read(key, generationKey);
    }
    async acquireLease(key: string, ttlMs: number) {
      const lease = await super.acquireLease(key, ttlMs);
      if (key.includes('{k:k}')) await this.duringLease.shift()?.();
      return lease;
    }
  }
  const breaker = { failureThreshold: 2, cooldownMs: 60_000 };

  test('a successful poll read while waiting for another fill resets the failure count', async () => {
    const store = new HookedStore();
    const holder = new CacheClient({ store, ttlSeconds: 60, jitter: 0 });
    const waiter = new CacheClient({ store, ttlSeconds: 60, jitter: 0, breaker });
    const slow = gatedLoad('from holder');
    const held = holder.get('k', slow.load);
    await slow.started;
    let polling!: () => void;
    const isPolling = new Promise<void>((resolve) => (polling = resolve));
    // After the waiter's lease attempt (refused, then recorded as a success), its first poll.
    store.duringLease.push(async () => (store.onReadOfK = polling));
    const result = waiter.get('k', async () => 'from waiter');
    await isPolling;
    expect((await waiter.getWithOutcome('broken-1', async () => 'x')).outcome).toBe('error'); // 1 failure
    slow.release(); // the waiter's next poll reads the holder's value: a success
    expect(await result).toBe('from holder');
    await held;
    expect((await waiter.getWithOutcome('broken-2', async () => 'x')).outcome).toBe('error');
    expect(waiter.stats()).toMatchObject({ leaseWaits: 1, errors: 2, breakerOpened: 0 });
  });

  test('a refused lease at the end of a wait is a success of the cache', async () => {
    const store = new HookedStore();
    const holder = new CacheClient({ store, ttlSeconds: 60, jitter: 0 });
    const waiter = new CacheClient({ store, ttlSeconds: 60, jitter: 0, breaker, leaseWaitMs: 1 });
    const slow = gatedLoad('from holder');
    const held = holder.get('k', slow.load);
    await slow.started;
    store.duringLease.push(
      async () => undefined, // the lookup's attempt
      async () => waiter.get('broken-1', async () => 'x'), // the attempt after the wait: a failure just before it
    );
    expect(await waiter.get('k', async () => 'from waiter')).toBe('from waiter');
    expect((await waiter.getWithOutcome('broken-2', async () => 'x')).outcome).toBe('error');
    expect(waiter.stats()).toMatchObject({ errors: 2, breakerOpened: 0 });
    slow.release();
    await held;
  });

  test('a refused refresh lease of a stale entry is a success of the cache', async () => {
    const clock = { now: 1_800_000_000_000 };
    const store = new HookedStore();
    const waiter = new CacheClient({ store, ttlSeconds: 60, staleWhileRevalidateSeconds: 60, jitter: 0, breaker, now: () => clock.now });
    const holder = new CacheClient({ store, ttlSeconds: 60, staleWhileRevalidateSeconds: 60, jitter: 0, now: () => clock.now });
    expect(await waiter.get('k', async () => 'v1')).toBe('v1');
    clock.now += 61_000; // stale, within stale-while-revalidate
    const slow = gatedLoad('v2');
    store.duringLease.push(async () => undefined); // the holder's refresh lease (granted)
    const refreshing = holder.get('k', slow.load);
    await slow.started;
    store.duringLease.push(async () => waiter.get('broken-1', async () => 'x')); // then the waiter's, refused
    expect(await waiter.getWithOutcome('k', async () => 'v3')).toEqual({ value: 'v1', outcome: 'stale' });
    expect((await waiter.getWithOutcome('broken-2', async () => 'x')).outcome).toBe('error');
    expect(waiter.stats()).toMatchObject({ errors: 2, breakerOpened: 0 });
    slow.release();
    await refreshing;
  });
});
