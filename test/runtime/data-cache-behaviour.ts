/**
 * The behavioural suite every store must pass, run by redis.test.ts, memcached.test.ts and
 * memory.test.ts against their store (the network ones against a real server).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { decodeEntry } from '../../lambda/runtime/cache/entry';
import { entryKeys } from '../../lambda/runtime/cache/keys';
import { CacheStore, ConnectionOptions } from '../../lambda/runtime/cache/types';
import { CacheServer } from '../support/servers';
import { cacheOver, countingLoader, FakeClock, gatedLoader, sleep, uniqueKey, waitUntil } from './helpers';

export interface StoreHarness {
  /** A new store (with its own connection) over the shared server. */
  createStore(options?: ConnectionOptions): CacheStore;
  /** The real server behind the store, for failure tests; absent for the in-memory store. */
  readonly server?: () => CacheServer;
  /**
   * Cuts the store's idle connections from the server side, synchronously, as a Lambda thaw
   * finds them: the client has not yet seen the close when it next sends.
   */
  readonly killConnectionsSync?: () => void;
  /** Stores that share state across instances (not the in-memory one). */
  readonly shared: boolean;
  /**
   * Load time of the stale-while-revalidate test; stale answers must come within two thirds of
   * it. Stores whose round trips are slow (moto_server standing in for DynamoDB) set it higher.
   * @default 150
   */
  readonly refreshLoadMs?: number;
  /** Runs before the suite (e.g. creating the ACL user the stores log in as). */
  readonly setup?: () => Promise<void>;
}

export function describeDataCacheBehaviour(name: string, harness: StoreHarness): void {
  describe(`${name}: cache-aside behaviour`, () => {
    const stores: CacheStore[] = [];
    /**
     * Behaviour tests are about what the client does, not how fast a busy machine answers: the
     * production timeouts (200 ms connect, 100 ms per command) made a fill time out on a machine
     * with a load average of 20, and the next read load again. Tests about timeouts pass their own.
     */
    const newStore = (options: ConnectionOptions = { connectTimeoutMs: 5_000, commandTimeoutMs: 2_000 }) => {
      const store = harness.createStore(options);
      stores.push(store);
      return store;
    };
    beforeAll(async () => {
      await harness.setup?.();
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
    });

    test('miss loads and fills, then hits without loading', async () => {
      const cache = cacheOver(newStore());
      const key = uniqueKey('hit');
      const loader = countingLoader({ id: 1, name: 'café ☕', tags: ['a', 'b'] });
      expect(await cache.get(key, loader.load)).toEqual({ id: 1, name: 'café ☕', tags: ['a', 'b'] });
      expect(await cache.get(key, loader.load)).toEqual({ id: 1, name: 'café ☕', tags: ['a', 'b'] });
      expect(loader.calls()).toBe(1);
      expect(cache.stats()).toMatchObject({ misses: 1, hits: 1, loads: 1, fills: 1, errors: 0 });
    });

    test('not found is cached for the negative TTL only', async () => {
      const clock = new FakeClock();
      const cache = cacheOver(newStore(), { now: clock.now, negativeTtlSeconds: 5 });
      for (const notFound of [undefined, null]) {
        const key = uniqueKey('negative');
        const loader = countingLoader(notFound);
        expect(await cache.get(key, loader.load)).toBeUndefined();
        expect(await cache.get(key, loader.load)).toBeUndefined();
        expect(loader.calls()).toBe(1);
        clock.advance(5_001);
        expect(await cache.get(key, loader.load)).toBeUndefined();
        expect(loader.calls()).toBe(2);
      }
      expect(cache.stats().negativeHits).toBe(2);
    });

    test('fresh lifetimes fall within [ttl*(1-jitter), ttl] and spread over it', async () => {
      const store = newStore();
      const randoms = [0, 0.999999, 0.25, 0.5, 0.75, 0.1, 0.9, 0.33, 0.66, 0.01];
      let i = 0;
      const cache = cacheOver(store, { ttlSeconds: 100, jitter: 0.2, random: () => randoms[i++ % randoms.length] });
      const lifetimes: number[] = [];
      for (let n = 0; n < randoms.length; n++) {
        const key = uniqueKey('jitter');
        await cache.get(key, async () => n);
        const read = await store.read(entryKeys('cca', key).key);
        const entry = decodeEntry(read.item?.text ?? '');
        expect(entry).toBeDefined();
        lifetimes.push(entry!.freshUntil - entry!.writtenAt);
      }
      for (const lifetime of lifetimes) {
        expect(lifetime).toBeGreaterThanOrEqual(80_000);
        expect(lifetime).toBeLessThanOrEqual(100_000);
      }
      expect(Math.max(...lifetimes)).toBe(100_000);
      expect(Math.min(...lifetimes)).toBeLessThanOrEqual(80_001);
    });

    test('an entry expires after its TTL in real time', async () => {
      const cache = cacheOver(newStore(), { ttlSeconds: 0.3 });
      const key = uniqueKey('expiry');
      const loader = countingLoader('v');
      await cache.get(key, loader.load);
      await cache.get(key, loader.load);
      expect(loader.calls()).toBe(1);
      await sleep(350);
      await cache.get(key, loader.load);
      expect(loader.calls()).toBe(2);
    });

    test('stale-while-revalidate (inline): one caller refreshes, the others get the stale value without waiting for it', async () => {
      const clock = new FakeClock();
      const options = { now: clock.now, ttlSeconds: 10, staleWhileRevalidateSeconds: 30 };
      const caches = Array.from({ length: harness.shared ? 5 : 1 }, () => cacheOver(harness.shared ? newStore() : sharedStore(), options));
      const key = uniqueKey('swr');
      for (const cache of caches) await cache.get(uniqueKey('warm-up'), async () => 0); // connections open
      let version = 1;
      const fill = countingLoader(() => version);
      expect(await caches[0].get(key, fill.load)).toBe(1);
      version = 2;
      clock.advance(15_000);
      // The refresh is held until open(): every caller but the refresher must answer before it.
      const refresh = gatedLoader(() => version);
      const answered: unknown[] = [];
      const pending = caches.map((cache) => cache.get(key, refresh.load).then((value) => (answered.push(value), value)));
      await waitUntil(() => answered.length === caches.length - 1 && refresh.calls() === 1, 'the stale answers while the refresh is held');
      expect(answered).toEqual(Array(caches.length - 1).fill(1));
      refresh.open();
      const results = await Promise.all(pending);
      expect(results.filter((value) => value === 2)).toHaveLength(1);
      expect(results.filter((value) => value === 1)).toHaveLength(caches.length - 1);
      expect(await caches[caches.length - 1].get(key, refresh.load)).toBe(2);
      expect([fill.calls(), refresh.calls()]).toEqual([1, 1]);
      clock.advance(31_000 + 15_000);
      version = 3;
      expect(await caches[0].get(key, fill.load)).toBe(3); // past the window: a plain miss
    });

    test('stale-while-revalidate (background): stale returned at once, drain() completes the refresh', async () => {
      const clock = new FakeClock();
      const cache = cacheOver(newStore(), { now: clock.now, ttlSeconds: 10, staleWhileRevalidateSeconds: 30, refresh: 'background' });
      const key = uniqueKey('swr-bg');
      let version = 1;
      await cache.get(key, countingLoader(() => version).load);
      version = 2;
      clock.advance(12_000);
      // The refresh is held: the stale answer comes first, or this never resolves.
      const refresh = gatedLoader(() => version);
      let answer: unknown;
      void cache.get(key, refresh.load).then((value) => (answer = value));
      await waitUntil(() => answer !== undefined, 'the stale answer while the background refresh is held');
      expect(answer).toBe(1);
      refresh.open();
      await cache.drain();
      expect(refresh.calls()).toBe(1);
      expect(await cache.get(key, refresh.load)).toBe(2);
      expect(cache.stats()).toMatchObject({ stale: 1, hits: 1, fills: 2 });
    });

    test('stale-if-error serves the stale value inside the window and rethrows the load error after it', async () => {
      const clock = new FakeClock();
      const cache = cacheOver(newStore(), { now: clock.now, ttlSeconds: 10, staleIfErrorSeconds: 60 });
      const key = uniqueKey('sie');
      await cache.get(key, async () => 'v1');
      clock.advance(20_000);
      const failing = async (): Promise<string> => {
        throw new Error('origin down');
      };
      expect(await cache.get(key, failing)).toBe('v1');
      expect(cache.stats()).toMatchObject({ staleIfError: 1, loadErrors: 1 });
      clock.advance(60_000);
      await expect(cache.get(key, failing)).rejects.toThrow('origin down');
      // A load error within the window does not poison the cache: the next success fills it.
      expect(await cache.get(key, async () => 'v2')).toBe('v2');
      expect(await cache.get(key, failing)).toBe('v2');
    });

    test('200 concurrent misses of one key in one process run exactly one load', async () => {
      const cache = cacheOver(newStore());
      const key = uniqueKey('stampede');
      const loader = countingLoader({ big: 'x'.repeat(100) }, 30);
      const values = await Promise.all(Array.from({ length: 200 }, () => cache.get(key, loader.load)));
      expect(loader.calls()).toBe(1);
      expect(values.every((v) => v?.big.length === 100)).toBe(true);
      expect(cache.stats()).toMatchObject({ coalesced: 199, loads: 1 });
    });

    test('concurrent misses across cache instances (own connections) are filled by one loader', async () => {
      const caches = Array.from({ length: 6 }, () => cacheOver(harness.shared ? newStore() : sharedStore()));
      const key = uniqueKey('lease');
      const loader = countingLoader('v', 60);
      const values = await Promise.all(caches.flatMap((cache) => Array.from({ length: 10 }, () => cache.get(key, loader.load))));
      expect(values.every((v) => v === 'v')).toBe(true);
      expect(loader.calls()).toBe(1);
      expect(caches.reduce((n, c) => n + c.stats().leaseWaits, 0)).toBe(caches.length - 1);
    });

    test('stale-set race: a slow reader never writes back a value older than an invalidation', async () => {
      const caches = Array.from({ length: 4 }, () => cacheOver(harness.shared ? newStore() : sharedStore(), { leaseWaitMs: 40 }));
      const key = uniqueKey('race');
      const db = { version: 0 };
      const rounds = 40;
      let forcedRaces = 0;
      let stale = 0;
      for (let round = 0; round < rounds; round++) {
        await caches[0].invalidate(key); // every round starts with a miss
        // Every 4th round forces the race: the writer commits and invalidates after the loader
        // has read the origin and before it fills. Other rounds use random timings.
        const forced = round % 4 === 0;
        let loadStarted!: () => void;
        const started = new Promise<void>((resolve) => (loadStarted = resolve));
        let writerDone!: () => void;
        const written = new Promise<void>((resolve) => (writerDone = resolve));
        const slowRead = async () => {
          const seen = db.version;
          loadStarted();
          if (forced) await written;
          else await sleep(Math.random() * 8);
          return seen;
        };
        const readers = caches.map((cache, i) => sleep(i % 2 === 0 ? 0 : Math.random() * 4).then(() => cache.get(key, slowRead)));
        const writer = (forced ? started : sleep(Math.random() * 6)).then(async () => {
          db.version += 1;
          expect(await caches[round % caches.length].invalidate(key)).toBe(true);
          writerDone();
        });
        if (forced) forcedRaces += 1;
        await Promise.all([...readers, writer]);
        const served = await caches[(round + 1) % caches.length].get(key, async () => db.version);
        if (served !== db.version) stale += 1;
      }
      expect(stale).toBe(0);
      // The guard was exercised: each forced race ended in a refused fill.
      expect(caches.reduce((n, c) => n + c.stats().fillsRejected, 0)).toBeGreaterThanOrEqual(forcedRaces);
    });

    test('invalidate(key) and invalidateGroup(group)', async () => {
      const cache = cacheOver(newStore());
      const key = uniqueKey('inv');
      let version = 1;
      expect(await cache.get(key, async () => version)).toBe(1);
      version = 2;
      expect(await cache.get(key, async () => version)).toBe(1);
      expect(await cache.invalidate(key)).toBe(true);
      expect(await cache.get(key, async () => version)).toBe(2);

      const group = uniqueKey('list');
      const pages = ['page=1', 'page=2', 'page=3'];
      const other = uniqueKey('other');
      for (const page of pages) expect(await cache.get(page, async () => `${page}@1`, { group })).toBe(`${page}@1`);
      await cache.get(other, async () => 'kept');
      await cache.get(pages[0], async () => 'ungrouped', {}); // same key outside the group is another entry
      expect(await cache.get(pages[0], async () => 'x', { group })).toBe('page=1@1');
      expect(await cache.invalidateGroup(group)).toBe(true);
      for (const page of pages) expect(await cache.get(page, async () => `${page}@2`, { group })).toBe(`${page}@2`);
      expect(await cache.get(other, async () => 'reloaded')).toBe('kept');
      expect(await cache.get(pages[0], async () => 'x')).toBe('ungrouped');
      expect(await cache.invalidate(pages[1], { group })).toBe(true);
      expect(await cache.get(pages[1], async () => 'page=2@3', { group })).toBe('page=2@3');
    });

    test('values over maxValueBytes are not cached (counted); bytes, not characters, are measured', async () => {
      const cache = cacheOver(newStore(), { maxValueBytes: 1000 });
      const small = uniqueKey('small');
      const big = uniqueKey('big');
      const wide = uniqueKey('wide');
      const smallLoad = countingLoader('a'.repeat(900));
      const bigLoad = countingLoader('a'.repeat(1000));
      const wideLoad = countingLoader('é'.repeat(600)); // 600 characters, 1200 bytes
      for (let i = 0; i < 2; i++) {
        expect(await cache.get(small, smallLoad.load)).toHaveLength(900);
        expect(await cache.get(big, bigLoad.load)).toHaveLength(1000);
        expect(await cache.get(wide, wideLoad.load)).toHaveLength(600);
      }
      expect([smallLoad.calls(), bigLoad.calls(), wideLoad.calls()]).toEqual([1, 2, 2]);
      expect(cache.stats().oversize).toBe(4);
      // Refusing a value gives its lease back: another instance fills right away.
      // A kept lease would make it wait for the lease wait (or load without filling): it must
      // take the lease, load once and fill, so the next read is a hit.
      const other = cacheOver(harness.shared ? newStore() : sharedStore(), { maxValueBytes: 10_000 });
      await other.get(big, bigLoad.load);
      expect(other.stats()).toMatchObject({ fills: 1, leaseWaits: 0 });
      expect(await other.get(big, bigLoad.load)).toHaveLength(1000);
      expect(bigLoad.calls()).toBe(3);
    });

    test('long and unusual keys are hashed into valid, distinct keys', async () => {
      const cache = cacheOver(newStore());
      const base = uniqueKey('long') + 'k'.repeat(600);
      const keys = [base + '1', base + '2', 'with spaces and\nnewline', 'ünïcödé/键', '{braces}#hash', ''];
      for (const key of keys) {
        const stored = entryKeys('cca', key).key;
        expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(250);
        expect(stored).not.toMatch(/[\s]/);
        expect(await cache.get(key, async () => `value of ${key}`)).toBe(`value of ${key}`);
      }
      for (const key of keys) expect(await cache.get(key, async () => 'reloaded')).toBe(`value of ${key}`);
      expect(cache.stats()).toMatchObject({ loads: keys.length, errors: 0 });
    });

    if (harness.killConnectionsSync !== undefined) {
      const killConnectionsSync = harness.killConnectionsSync;
      test('a connection killed while idle (Lambda freeze/thaw) is replaced on the next call', async () => {
        const cache = cacheOver(newStore());
        const key = uniqueKey('freeze');
        const loader = countingLoader('v');
        await cache.get(key, loader.load);
        for (let i = 0; i < 3; i++) {
          killConnectionsSync(); // no event-loop turn in between: the client has not seen the close
          expect(await cache.get(key, loader.load)).toBe('v');
          await sleep(20);
          killConnectionsSync();
          await sleep(20); // this time the client sees the close first
          expect(await cache.get(key, loader.load)).toBe('v');
        }
        expect(loader.calls()).toBe(1);
        expect(cache.stats()).toMatchObject({ hits: 6, errors: 0 });
      });
    }

    if (harness.server !== undefined) {
      const server = harness.server;
      const connectTimeoutMs = 150;
      const commandTimeoutMs = 60;
      /**
       * The timeouts, plus 50 ms of slack, plus the worst event-loop lag measured while the calls
       * ran: on a loaded machine a call is late by however long the loop was blocked, which says
       * nothing about the cache client.
       */
      const budget = (lag: EventLoopLag) => connectTimeoutMs + commandTimeoutMs + 50 + lag.maxMs();

      test('fail-open: server killed mid-run, every call answered within the budget; hits resume after restart', async () => {
        const cache = cacheOver(newStore({ connectTimeoutMs, commandTimeoutMs }), { breaker: { failureThreshold: 2, cooldownMs: 150 } });
        const key = uniqueKey('failopen');
        const loader = countingLoader('v');
        await cache.get(key, loader.load);
        expect(await cache.get(key, loader.load)).toBe('v');
        await server().stop();
        const lag = EventLoopLag.start();
        const started = performance.now();
        const slowest = await timedCalls(cache, key, loader.load, 30, 10);
        const elapsed = performance.now() - started;
        expect(slowest).toBeLessThan(budget(lag.stop()));
        const down = cache.stats();
        expect(down.errors).toBeGreaterThanOrEqual(2);
        expect(down.bypass).toBeGreaterThan(0);
        // Once open, a dead cache costs at most one failure (the probe) per 150 ms cool-down.
        expect(down.errors).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 150));

        // After the restart, every call still answers, and hits come back in this order: the
        // restarted (empty) server is refilled by a load before any hit. How many calls the
        // breaker's cool-down and the client's reconnect take depends on the machine's load,
        // so the test waits for the order, not for a fixed time.
        await server().restart();
        const outcomes: Array<'hit' | 'load' | 'bypass'> = [];
        for (let call = 0; call < 200 && !outcomes.includes('hit'); call++) {
          const hitsBefore = cache.stats().hits;
          const loadsBefore = loader.calls();
          expect(await cache.get(key, loader.load)).toBe('v');
          outcomes.push(cache.stats().hits > hitsBefore ? 'hit' : loader.calls() > loadsBefore ? 'load' : 'bypass');
          await sleep(10);
        }
        expect(outcomes).toContain('hit');
        expect(outcomes.slice(0, outcomes.indexOf('hit'))).toContain('load');
      });

      test('fail-open: a server that stops answering (SIGSTOP) costs at most one timeout per call, then the breaker skips it', async () => {
        const cache = cacheOver(newStore({ connectTimeoutMs, commandTimeoutMs }), { breaker: { failureThreshold: 2, cooldownMs: 10_000 } });
        const key = uniqueKey('paused');
        const loader = countingLoader('v');
        await cache.get(key, loader.load);
        server().pause();
        try {
          const lag = EventLoopLag.start();
          const slowest = await timedCalls(cache, key, loader.load, 10, 0);
          expect(slowest).toBeLessThan(budget(lag.stop()));
          // pause() returned once the server was stopped: no call can be a hit.
          const stats = cache.stats();
          expect(stats).toMatchObject({ hits: 0, errors: 2, breakerOpened: 1, bypass: 8 });
          expect(cache.stats().timeouts).toBeGreaterThanOrEqual(1);
        } finally {
          server().resume();
        }
      });
    }

    /** For the in-memory store, "several instances" must share one store to share state. */
    let memoryShared: CacheStore | undefined;
    function sharedStore(): CacheStore {
      memoryShared ??= newStore();
      return memoryShared;
    }
  });
}

/** The event loop's delay while a test phase runs (perf_hooks, 10 ms resolution). */
class EventLoopLag {
  static start(): EventLoopLag {
    return new EventLoopLag();
  }

  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });

  private constructor() {
    this.histogram.enable();
  }

  stop(): this {
    this.histogram.disable();
    return this;
  }

  /** Worst delay seen, in ms. */
  maxMs(): number {
    return this.histogram.max / 1e6;
  }
}

/** Runs `count` sequential calls; every one must return the load's value. Resolves to the slowest call's ms. */
async function timedCalls(cache: CacheClient, key: string, load: () => Promise<string>, count: number, gapMs: number): Promise<number> {
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    expect(await cache.get(key, load)).toBe('v');
    slowest = Math.max(slowest, performance.now() - started);
    if (gapMs > 0) await sleep(gapMs);
  }
  return slowest;
}
