/**
 * Key encoding: no two distinct JS strings (ill-formed ones included: lone surrogates, U+FFFD)
 * share a stored key, on any store.
 */
import fc from 'fast-check';
import { entryKeys, encodeKeyPart, groupGenerationKey, leaseKey, MAX_KEY_BYTES } from '../../lambda/runtime/cache/keys';
import { engineStore } from './engine-store';
import { cacheOver, uniqueKey } from './helpers';

/** Strings of any UTF-16 code units, so lone surrogates are common rather than rare. */
const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', 'a', ':', '#', '{', ' '), { maxLength: 6 }).map((units) => units.join('')),
  fc.string({ unit: 'grapheme', maxLength: 150 }),
);

describe('encoding', () => {
  test('distinct strings never share an encoded part, a value key or a group key', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        fc.pre(a !== b);
        expect(encodeKeyPart(a)).not.toBe(encodeKeyPart(b));
        expect(entryKeys('p', a).key).not.toBe(entryKeys('p', b).key);
        expect(entryKeys('p', 'k', a).key).not.toBe(entryKeys('p', 'k', b).key);
        expect(groupGenerationKey('p', a)).not.toBe(groupGenerationKey('p', b));
      }),
      { numRuns: 1000 },
    );
  });

  test('strings that differ in one code unit (a lone surrogate, U+FFFD or a letter) get different keys', () => {
    const unit = fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', 'a');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 8 }), unit, unit, fc.string({ unit: 'binary', maxLength: 8 }), (before, x, y, after) => {
        fc.pre(x !== y);
        const [a, b] = [before + x + after, before + y + after];
        expect(entryKeys('p', a).key).not.toBe(entryKeys('p', b).key);
      }),
      { numRuns: 500 },
    );
  });

  test('every key is printable ASCII within memcached limits', () => {
    fc.assert(
      fc.property(anyString, fc.option(anyString, { nil: undefined }), (key, group) => {
        const keys = entryKeys('a'.repeat(32), key, group);
        for (const stored of [keys.key, leaseKey(keys.key), keys.generationKey ?? 'x']) {
          expect(stored).toMatch(/^[\x21-\x7e]+$/);
          expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(MAX_KEY_BYTES);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(['memory', 'redis', 'memcached'] as const)('lone surrogates and U+FFFD on %s', (engine) => {
  const store = engineStore(engine);

  test('each key gets its own entry', async () => {
    const cache = cacheOver(store());
    const base = uniqueKey('user');
    const keys = [`${base}:\uD800`, `${base}:\uDBFF`, `${base}:\uDC00`, `${base}:\uFFFD`];
    for (const key of keys) await cache.get(key, async () => key);
    const served = [];
    for (const key of keys) served.push(await cache.get(key, async () => 'loaded again'));
    expect(served).toEqual(keys);
    expect(cache.stats()).toMatchObject({ hits: 4, loads: 4 });
  });
});
