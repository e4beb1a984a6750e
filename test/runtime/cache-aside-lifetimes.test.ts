import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { CacheTimeoutError } from '../../lambda/runtime/cache/store';
import type { CacheClientOptions, CacheStore } from '../../lambda/runtime/cache/types';

// Lifetimes, their validation, per-call overrides and the client's counters, decided by the
// client's own clock (injected). Found by mutation testing (docs/testing.md): changing these
// lines left every other runtime test passing.

const T0 = 1_800_000_000_000;

function clientAt(options: Omit<CacheClientOptions, 'store' | 'now'>, store: CacheStore = new MemoryStore()) {
  const clock = { now: T0 };
  const cache = new CacheClient({ jitter: 0, ...options, store, now: () => clock.now });
  const outcome = async (key: string, load: () => Promise<unknown>, opts?: Parameters<CacheClient['get']>[2]) => (await cache.getWithOutcome(key, load, opts)).outcome;
  return { cache, clock, outcome };
}
const value = async () => ({ v: 1 });
const nothing = async () => undefined;

describe('lifetimes are validated, naming the setting', () => {
  test.each([
    [{ ttlSeconds: 0 }, 'Data cache ttlSeconds must be a positive number, got 0'],
    [{ ttlSeconds: Infinity }, 'Data cache ttlSeconds must be a positive number, got Infinity'],
    [{ ttlSeconds: 60, jitter: 1 }, 'Data cache jitter must be in [0, 1), got 1'],
    [{ ttlSeconds: 60, jitter: -0.1 }, 'Data cache jitter must be in [0, 1), got -0.1'],
    [{ ttlSeconds: 60, negativeTtlSeconds: -1 }, 'Data cache negativeTtlSeconds must be a number >= 0, got -1'],
    [{ ttlSeconds: 60, staleWhileRevalidateSeconds: Infinity }, 'Data cache staleWhileRevalidateSeconds must be a number >= 0, got Infinity'],
    [{ ttlSeconds: 60, staleIfErrorSeconds: NaN }, 'Data cache staleIfErrorSeconds must be a number >= 0, got NaN'],
  ])('%j', (options, message) => {
    expect(() => new CacheClient({ store: new MemoryStore(), ...options })).toThrow(message);
  });

  test('the edges of each range are accepted, and per-call lifetimes are checked too', async () => {
    expect(() => new CacheClient({ store: new MemoryStore(), ttlSeconds: 0.001, jitter: 0.99, negativeTtlSeconds: 0, staleIfErrorSeconds: 0 })).not.toThrow();
    const { cache } = clientAt({ ttlSeconds: 60 });
    await expect(async () => cache.get('k', value, { ttlSeconds: -5 })).rejects.toThrow('ttlSeconds must be a positive number, got -5');
  });
});

describe('freshness, negative entries and stale windows follow the lifetimes, per call too', () => {
  test('an entry is fresh until its TTL, to the millisecond', async () => {
    const { clock, outcome } = clientAt({ ttlSeconds: 60 });
    expect(await outcome('a', value)).toBe('miss');
    clock.now = T0 + 59_999;
    expect(await outcome('a', value)).toBe('hit');
    clock.now = T0 + 60_000;
    expect(await outcome('a', value)).toBe('miss');
  });

  test("a per-call TTL replaces the client's; other per-call options keep the client's lifetimes", async () => {
    const { clock, outcome } = clientAt({ ttlSeconds: 60, negativeTtlSeconds: 10 });
    await outcome('short', value, { ttlSeconds: 5 });
    await outcome('grouped', value, { group: 'g' });
    await outcome('missing', nothing, { group: 'g' });
    clock.now = T0 + 9_000;
    expect(await outcome('short', value, { ttlSeconds: 5 })).toBe('miss');
    expect(await outcome('grouped', value, { group: 'g' })).toBe('hit');
    expect(await outcome('missing', nothing, { group: 'g' })).toBe('hit'); // negative entry, 10 s
    clock.now = T0 + 10_000;
    expect(await outcome('missing', nothing, { group: 'g' })).toBe('miss');
    clock.now = T0 + 60_000;
    expect(await outcome('grouped', value, { group: 'g' })).toBe('miss');
  });

  test('a negative entry never outlives the TTL', async () => {
    const { clock, outcome } = clientAt({ ttlSeconds: 3, negativeTtlSeconds: 10 });
    await outcome('missing', nothing);
    clock.now = T0 + 3_000;
    expect(await outcome('missing', nothing)).toBe('miss');
  });

  test('stale-while-revalidate serves stale from the TTL until TTL + window, exclusive', async () => {
    const { clock, outcome } = clientAt({ ttlSeconds: 10, staleWhileRevalidateSeconds: 30 });
    await outcome('edge', value, { group: 'g' });
    await outcome('end', value, { group: 'g' });
    clock.now = T0 + 10_000;
    expect(await outcome('edge', value, { group: 'g' })).toBe('stale');
    clock.now = T0 + 40_000;
    expect(await outcome('end', value, { group: 'g' })).toBe('miss');
  });

  test('stale-if-error serves the old value for a failing load until TTL + window, exclusive', async () => {
    const { cache, clock } = clientAt({ ttlSeconds: 10, staleIfErrorSeconds: 30 });
    await cache.get('inside', value, { group: 'g' });
    await cache.get('end', value, { group: 'g' });
    const failing = async () => {
      throw new Error('origin down');
    };
    clock.now = T0 + 39_999;
    expect(await cache.get('inside', failing, { group: 'g' })).toEqual({ v: 1 });
    clock.now = T0 + 40_000;
    await expect(cache.get('end', failing, { group: 'g' })).rejects.toThrow('origin down');
  });
});

/** A MemoryStore whose next operations fail on demand, counting close(). */
class FlakyStore extends MemoryStore {
  failures: Error[] = [];
  closed = 0;
  private maybeFail(): void {
    const failure = this.failures.shift();
    if (failure) throw failure;
  }
  override async read(...args: Parameters<MemoryStore['read']>) {
    this.maybeFail();
    return super.read(...args);
  }
  override async invalidate(key: string) {
    this.maybeFail();
    return super.invalidate(key);
  }
  override async close() {
    this.closed++;
    return super.close();
  }
}

describe('counters and the circuit breaker', () => {
  test('failures that are not consecutive never open the breaker: every success resets it', async () => {
    const store = new FlakyStore();
    const { cache, outcome } = clientAt({ ttlSeconds: 60, breaker: { failureThreshold: 2, cooldownMs: 60_000 } }, store);
    await outcome('hit', value); // filled
    for (let round = 0; round < 3; round++) {
      store.failures.push(new Error('read failed'));
      expect(await outcome('hit', value)).toBe('error');
      expect(await outcome('hit', value)).toBe('hit'); // a successful hit
      store.failures.push(new Error('read failed'));
      expect(await outcome('hit', value)).toBe('error');
      expect(await outcome(`miss-${round}`, value)).toBe('miss'); // a successful miss and fill
      store.failures.push(new Error('invalidate failed'));
      expect(await cache.invalidate('hit')).toBe(false);
      expect(await cache.invalidate('hit')).toBe(true); // a successful invalidation
      await outcome('hit', value); // filled again
    }
    expect(cache.stats()).toMatchObject({ breakerOpened: 0, errors: 9, timeouts: 0, invalidations: 3 });
  });

  test('timeouts are counted apart from other errors; negative hits apart from hits', async () => {
    const store = new FlakyStore();
    const { cache, outcome } = clientAt({ ttlSeconds: 60 }, store);
    await outcome('found', value);
    await outcome('missing', nothing);
    expect(await outcome('found', value)).toBe('hit');
    expect(await outcome('missing', nothing)).toBe('hit');
    store.failures.push(new CacheTimeoutError('read', 50));
    expect(await outcome('found', value)).toBe('error');
    expect(cache.stats()).toMatchObject({ hits: 2, negativeHits: 1, errors: 1, timeouts: 1 });
  });

  test('close() closes the store', async () => {
    const store = new FlakyStore();
    await clientAt({ ttlSeconds: 60 }, store).cache.close();
    expect(store.closed).toBe(1);
  });
});
