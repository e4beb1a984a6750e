/**
 * Values served on a hit are the values the load returned (same types, same shape), on every
 * store; values the serializer cannot carry are refused with a clear error, never silently
 * left uncached or changed.
 */
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { engineStore } from './engine-store';
import { cacheOver, uniqueKey } from './helpers';

/** Loads `value`, then reads it again: [what the miss returned, what the hit returned, outcome of the second]. */
async function missThenHit(cache: CacheClient, value: unknown): Promise<[unknown, unknown, string]> {
  const key = uniqueKey('v');
  const miss = await cache.get(key, async () => value);
  const hit = await cache.getWithOutcome(key, async () => 'loaded again');
  return [miss, hit.value, hit.outcome];
}

// Jest compares Dates by getTime() with ==, so an Invalid Date never equals itself; the cache does
// carry it (fast-check makes them inside Maps and Sets). Same time, NaN included, is equal here.
// (jest 30's expect has addEqualityTesters; the @types/jest in use does not declare it yet)
type Tester = (a: unknown, b: unknown) => boolean | undefined;
(expect as unknown as { addEqualityTesters(testers: Tester[]): void }).addEqualityTesters([
  (a, b) => (a instanceof Date && b instanceof Date ? Object.is(a.getTime(), b.getTime()) : undefined),
]);

/** Any value fast-check can make, with the non-JSON types the default serializer carries. */
const anyValue = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  maxDepth: 3,
});

const odd = {
  buffer: Buffer.from([0, 1, 2, 255]),
  date: new Date('2026-11-30T08:00:00.123Z'),
  map: new Map<unknown, unknown>([['a', 1], [2, { b: [3] }]]),
  set: new Set(['x', 4]),
  nan: NaN,
  invalidDate: new Date(NaN),
  invalidDateInside: new Map<unknown, unknown>([[new Date(NaN), new Set([new Date(NaN)])]]),
  infinity: -Infinity,
  minusZero: -0,
  big: 12345678901234567890123n,
  undefinedInside: { a: undefined, b: [undefined, 1] },
  nullPrototype: Object.assign(Object.create(null) as object, { a: 1 }),
  protoKey: JSON.parse('{"__proto__": {"polluted": true}, "~tag": 1}') as unknown,
};

describe.each(['memory', 'redis', 'memcached'] as const)('round trip on %s', (engine) => {
  const store = engineStore(engine);

  test.each(Object.entries(odd))('%s comes back from a hit as it was loaded', async (_name, value) => {
    const [miss, hit, outcome] = await missThenHit(cacheOver(store()), value);
    expect(outcome).toBe('hit');
    expect(miss).toBe(value);
    expect(hit).toStrictEqual(value);
    expect(Object.prototype.toString.call(hit)).toBe(Object.prototype.toString.call(value));
    if (Buffer.isBuffer(value)) expect(Buffer.isBuffer(hit)).toBe(true);
  });

  test('property: a hit returns what the load returned', async () => {
    const cache = cacheOver(store());
    await fc.assert(
      fc.asyncProperty(anyValue, async (value) => {
        const [miss, hit, outcome] = await missThenHit(cache, value);
        expect(outcome).toBe('hit');
        const expected = value === null ? undefined : value; // null is "not found", on a miss too
        expect(miss).toBe(expected);
        expect(hit).toStrictEqual(expected);
      }),
      { numRuns: engine === 'memory' ? 400 : 150 },
    );
  });
});

describe('values that cannot round-trip are refused at the fill with a clear error', () => {
  class Money {
    constructor(readonly cents: number) {}
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  test.each([
    ['a function', { f: () => 1 }, /function at value\.f/],
    ['a symbol', [Symbol('s')], /symbol at value\[0\]/],
    ['a class instance', { price: new Money(5) }, /instance of Money at value\.price/],
    ['a cycle', cyclic, /cycle at value\.self/],
    ['a typed array other than Buffer', { b: new Uint16Array([1]) }, /instance of Uint16Array at value\.b/],
    ['an array with holes', [1, , 3], /array with holes at value/],
  ])('%s', async (_label, value, message) => {
    const cache = cacheOver(new MemoryStore());
    const key = uniqueKey('refused');
    await expect(cache.get(key, async () => value)).rejects.toThrow(message);
    await expect(cache.get(key, async () => value)).rejects.toThrow(/^Data cache cannot store the value of .*refused/);
    expect(cache.stats()).toMatchObject({ fills: 0, loads: 2 });
  });
});

test('a custom serializer is used both ways', async () => {
  const calls: string[] = [];
  const cache = cacheOver(new MemoryStore(), {
    serializer: {
      serialize: (value) => {
        calls.push('serialize');
        return `custom:${String(value)}`;
      },
      deserialize: (text) => {
        calls.push('deserialize');
        return text.replace(/^custom:/, '').toUpperCase();
      },
    },
  });
  const [miss, hit] = await missThenHit(cache, 'abc');
  expect([miss, hit]).toEqual(['abc', 'ABC']);
  expect(calls).toEqual(['serialize', 'deserialize']);
});

test('values made in another realm (node:vm, structuredClone under jest) are plain values, not "instances"', async () => {
  const foreign = runInNewContext('({ list: [1, { b: "x" }], when: new Date(0), map: new Map([[1, new Set([2])]]), none: Object.create(null) })') as Record<string, unknown>;
  const [, hit, outcome] = await missThenHit(cacheOver(new MemoryStore()), foreign);
  expect(outcome).toBe('hit');
  expect(hit).toEqual({ list: [1, { b: 'x' }], when: new Date(0), map: new Map([[1, new Set([2])]]), none: Object.create(null) });
  expect((hit as { when: unknown }).when).toBeInstanceOf(Date);
  const cloned = await missThenHit(cacheOver(new MemoryStore()), structuredClone({ a: [1, 2] }));
  expect(cloned[1]).toEqual({ a: [1, 2] });
  await expect(cacheOver(new MemoryStore()).get('k', async () => runInNewContext('new (class Money {})()'))).rejects.toThrow(/instance of Money/);
});
