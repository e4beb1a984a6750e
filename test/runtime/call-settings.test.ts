import fc from 'fast-check';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { routeCallOptions } from '../../lambda/runtime/cache/from-env';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import type { CacheGetOptions, CachePolicy } from '../../lambda/runtime/cache/types';

// Per-call options are resolved once per distinct set of values (call-settings.ts) and the
// handler helper builds them without a spread (from-env.ts routeCallOptions): neither may
// ever answer with the settings of another call.

const T0 = 1_800_000_000_000;

function clientAt(ttlSeconds = 60) {
  const clock = { now: T0 };
  const cache = new CacheClient({ ttlSeconds, jitter: 0, store: new MemoryStore(), now: () => clock.now });
  const outcome = async (key: string, opts?: CacheGetOptions) => (await cache.getWithOutcome(key, async () => ({ v: 1 }), opts)).outcome;
  return { cache, clock, outcome };
}

test('an options object changed between calls is read afresh (settings are remembered by value, not by object)', async () => {
  const { clock, outcome } = clientAt();
  const options: { ttlSeconds: number } = { ttlSeconds: 5 };
  await outcome('a', options);
  options.ttlSeconds = 20;
  await outcome('b', options);
  clock.now = T0 + 10_000;
  expect(await outcome('a', { ttlSeconds: 5 })).toBe('miss');
  expect(await outcome('b', { ttlSeconds: 20 })).toBe('hit');
  // Made invalid after a valid use: rejected, not served from memory.
  (options as { ttlSeconds: number }).ttlSeconds = -1;
  await expect(outcome('c', options)).rejects.toThrow('ttlSeconds must be a positive number, got -1');
});

test('more distinct option sets than are remembered each keep their own lifetimes', async () => {
  const { clock, outcome } = clientAt();
  // Twice round 12 TTLs (more than the memo holds), so the second round re-resolves evicted ones.
  for (let round = 0; round < 2; round++) for (let s = 1; s <= 12; s++) await outcome(`k${round}-${s}`, { ttlSeconds: s });
  clock.now = T0 + 6_500;
  for (let round = 0; round < 2; round++) {
    for (let s = 1; s <= 12; s++) expect([s, await outcome(`k${round}-${s}`, { ttlSeconds: s })]).toEqual([s, s <= 6 ? 'miss' : 'hit']);
  }
});

test('an invalid option rejects on every call and leaves no dead lookup behind for the key', async () => {
  const { cache } = clientAt();
  for (let i = 0; i < 2; i++) await expect(cache.get('k', async () => 1, { loadTimeoutMs: -5 })).rejects.toThrow(/loadTimeoutMs/);
  // Before the options were validated ahead of registering the lookup, this joined the failed
  // call's lookup, which had no promise: `get` returned undefined instead of a value.
  await expect(cache.get('k', async () => 2)).resolves.toBe(2);
  await expect(cache.getWithOutcome('k', async () => 3)).resolves.toEqual({ value: 2, outcome: 'hit' });
});

test("lifetimes on an options object's prototype are not options (only its own properties are)", async () => {
  const { clock, outcome } = clientAt(60);
  class Options {
    get ttlSeconds(): number {
      return 1;
    }
  }
  await outcome('a', new Options());
  await outcome('b', Object.create({ ttlSeconds: 1 }) as CacheGetOptions);
  clock.now = T0 + 2_000;
  expect(await outcome('a')).toBe('hit');
  expect(await outcome('b')).toBe('hit');
});

const OPTION_KEYS = ['ttlSeconds', 'negativeTtlSeconds', 'staleWhileRevalidateSeconds', 'staleIfErrorSeconds', 'jitter', 'loadTimeoutMs', 'group'] as const;

test('routeCallOptions gives the client what { ...route, ...options } gave it', () => {
  const route: CachePolicy = { ttlSeconds: 60, negativeTtlSeconds: 10, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 5, jitter: 0.1, loadTimeoutMs: 1000 };
  const value = fc.oneof(fc.constant(undefined), fc.double({ noNaN: true }), fc.string());
  // Each key absent, own (an explicit undefined included), or only on the prototype.
  const options = fc
    .tuple(fc.dictionary(fc.constantFrom(...OPTION_KEYS), value), fc.dictionary(fc.constantFrom(...OPTION_KEYS), value))
    .map(([own, inherited]) => Object.assign(Object.create(inherited) as object, own) as CacheGetOptions);
  fc.assert(
    fc.property(options, (opts) => {
      const merged = routeCallOptions(route, opts);
      const spread: CacheGetOptions = { ...route, ...opts };
      for (const key of OPTION_KEYS) expect([key, merged[key]]).toEqual([key, spread[key]]);
    }),
  );
  expect(routeCallOptions(route, undefined)).toBe(route);
  // JavaScript callers may pass null, which the spread treated as no options.
  expect(routeCallOptions(route, null as unknown as CacheGetOptions)).toBe(route);
});
