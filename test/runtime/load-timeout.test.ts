/**
 * Loader timeout: a load that never settles must not block its key. It rejects every caller
 * waiting on it, frees the key (and its fill lease), is counted, and stale-if-error applies.
 */
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { DATA_CACHE_LOAD_TIMEOUT_MS } from '../../lambda/runtime/cache/env';
import { cacheAside, readCachePolicy, resetCacheClient } from '../../lambda/runtime/cache/from-env';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { FakeClock, sleep } from './helpers';

const never = (): Promise<string> => new Promise<string>(() => undefined);

/** How `promise` settled within `ms` (generous: it only tells "settled" from "pending for ever"). */
async function settledWithin<T>(promise: Promise<T>, ms = 5000): Promise<PromiseSettledResult<T> | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  const result = await Promise.race([Promise.allSettled([promise]).then(([r]) => r), pending]);
  clearTimeout(timer);
  return result;
}

test('a load that never settles rejects its waiters, frees the key and is counted', async () => {
  const store = new MemoryStore();
  const cache = new CacheClient({ ttlSeconds: 60, jitter: 0, store });
  const first = cache.get('k', never, { loadTimeoutMs: 30 });
  const joined = cache.get('k', async () => 'not called: joins the running load');
  const [a, b] = await Promise.all([settledWithin(first), settledWithin(joined)]);
  expect(a).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ name: 'CacheLoadTimeoutError' }) });
  expect(b).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ name: 'CacheLoadTimeoutError' }) });
  expect((a as PromiseRejectedResult).reason.message).toMatch(/load of "k" timed out after 30 ms/);
  // The key is free: the next call loads and fills at once (no lease left behind to wait out).
  expect(await cache.getWithOutcome('k', async () => 'v')).toEqual({ value: 'v', outcome: 'miss' });
  expect(await cache.getWithOutcome('k', never)).toEqual({ value: 'v', outcome: 'hit' });
  expect(cache.stats()).toMatchObject({ loadTimeouts: 1, loadErrors: 1, coalesced: 1, fills: 1, leaseWaits: 0 });
});

test('stale-if-error serves the stale value when the load times out', async () => {
  const clock = new FakeClock();
  const cache = new CacheClient({ ttlSeconds: 1, staleIfErrorSeconds: 60, jitter: 0, store: new MemoryStore({ now: clock.now }), now: clock.now });
  await cache.get('k', async () => 'old');
  clock.advance(2000);
  const served = await settledWithin(cache.getWithOutcome('k', never, { loadTimeoutMs: 20 }));
  expect(served).toEqual({ status: 'fulfilled', value: { value: 'old', outcome: 'miss' } });
  expect(cache.stats()).toMatchObject({ staleIfError: 1, loadTimeouts: 1 });
});

test('the client-wide default applies, and a timed-out load that settles later changes nothing', async () => {
  let finish: (value: string) => void = () => undefined;
  const late = () => new Promise<string>((resolve) => (finish = resolve));
  const cache = new CacheClient({ ttlSeconds: 60, jitter: 0, store: new MemoryStore(), loadTimeoutMs: 20 });
  expect(await settledWithin(cache.get('k', late))).toMatchObject({ status: 'rejected' });
  finish('too late');
  await sleep(5);
  expect(await cache.getWithOutcome('k', async () => 'fresh')).toEqual({ value: 'fresh', outcome: 'miss' });
});

test('an invalid timeout is a rejection naming the option', async () => {
  const cache = new CacheClient({ ttlSeconds: 60, store: new MemoryStore() });
  await expect(cache.get('k', async () => 1, { loadTimeoutMs: -5 })).rejects.toThrow(/loadTimeoutMs/);
  expect(() => new CacheClient({ ttlSeconds: 60, store: new MemoryStore(), loadTimeoutMs: NaN })).toThrow(/loadTimeoutMs/);
});

describe('per route, through the environment', () => {
  const saved = { ...process.env };
  afterEach(async () => {
    process.env = { ...saved };
    await resetCacheClient();
  });

  test(`${DATA_CACHE_LOAD_TIMEOUT_MS} sets the route's loader timeout`, async () => {
    process.env[DATA_CACHE_LOAD_TIMEOUT_MS] = '25';
    expect(readCachePolicy()).toMatchObject({ loadTimeoutMs: 25 });
    expect(await settledWithin(cacheAside('route-key', never))).toMatchObject({
      status: 'rejected',
      reason: expect.objectContaining({ name: 'CacheLoadTimeoutError' }),
    });
  });

  test('without it the default stays below the kit default function timeout (10 s)', () => {
    delete process.env[DATA_CACHE_LOAD_TIMEOUT_MS];
    const { loadTimeoutMs } = readCachePolicy();
    expect(loadTimeoutMs).toBeGreaterThan(0);
    expect(loadTimeoutMs).toBeLessThan(10_000);
  });
});
