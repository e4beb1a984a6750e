import { CircuitBreaker } from '../../lambda/runtime/cache/circuit-breaker';
import { decodeEntry, encodeEntry } from '../../lambda/runtime/cache/entry';
import { assertKeyPrefix, encodeKeyPart, entryKeys, groupGenerationKey, hashTag, leaseKey, MAX_KEY_BYTES } from '../../lambda/runtime/cache/keys';

describe('keys', () => {
  test('short safe keys stay readable; others are hashed; all stay under 250 bytes', () => {
    expect(entryKeys('cca', 'items/42?page=2').key).toBe('cca:{k:items/42?page=2}');
    const hashed = [' space', 'new\nline', 'ünï', '{x}', 'a#b', '', 'x'.repeat(101)].map(encodeKeyPart);
    for (const part of hashed) expect(part).toMatch(/^#[A-Za-z0-9_-]{43}$/);
    expect(new Set(hashed).size).toBe(hashed.length);
    expect(encodeKeyPart('x'.repeat(100))).toBe('x'.repeat(100));
    const longest = entryKeys('p'.repeat(32), 'k'.repeat(100), 'g'.repeat(100));
    expect(Buffer.byteLength(leaseKey(longest.key))).toBeLessThanOrEqual(MAX_KEY_BYTES);
    expect(Buffer.byteLength(longest.generationKey!)).toBeLessThanOrEqual(MAX_KEY_BYTES);
  });

  test('values, leases, group counters and grouped values never collide', () => {
    const all = [
      entryKeys('cca', 'a').key,
      leaseKey(entryKeys('cca', 'a').key),
      entryKeys('cca', 'a', 'a').key,
      entryKeys('cca', 'a', 'a').generationKey,
      groupGenerationKey('cca', 'a'),
      entryKeys('cca', 'a:l').key,
      entryKeys('cca', 'l', 'a').key,
      entryKeys('ccb', 'a').key,
    ];
    expect(new Set(all).size).toBe(all.length - 1); // generationKey and groupGenerationKey are the same key
    expect(entryKeys('cca', 'x', 'a').generationKey).toBe(groupGenerationKey('cca', 'a'));
    expect(hashTag(entryKeys('cca', 'page=1', 'list').key)).toBe(hashTag(groupGenerationKey('cca', 'list')));
  });

  test('prefix is checked', () => {
    expect(assertKeyPrefix('my-app.v2')).toBe('my-app.v2');
    expect(() => assertKeyPrefix('')).toThrow();
    expect(() => assertKeyPrefix('has space')).toThrow();
    expect(() => assertKeyPrefix('x'.repeat(33))).toThrow();
  });
});

describe('entries', () => {
  test('round trip, negative entries, and foreign data is a miss', () => {
    const text = encodeEntry(1000, 61000, '17', JSON.stringify({ a: 'b|c' }));
    expect(decodeEntry(text)).toEqual({ writtenAt: 1000, freshUntil: 61000, generation: '17', json: '{"a":"b|c"}' });
    expect(decodeEntry(encodeEntry(1, 2, '', undefined))).toEqual({ writtenAt: 1, freshUntil: 2, generation: '', json: undefined });
    expect(decodeEntry(encodeEntry(1, 2, '', '""'))?.json).toBe('""');
    for (const foreign of ['', 'plain', '{"json":1}', '1|x|2||1', '1|1|2']) expect(decodeEntry(foreign)).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  test('opens after N consecutive failures, lets one probe through per cool-down, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker(3, 1000, () => now);
    expect(breaker.failure()).toBe(false);
    breaker.success();
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(false);
    expect(breaker.failure()).toBe(true);
    expect(breaker.allow()).toBe(false);
    now = 1000;
    expect(breaker.allow()).toBe(true); // the probe
    expect(breaker.allow()).toBe(false); // only one
    expect(breaker.failure()).toBe(false); // probe failed: open again (not a new opening)
    expect(breaker.allow()).toBe(false);
    now = 2000;
    expect(breaker.allow()).toBe(true);
    breaker.success();
    expect(breaker.isOpen).toBe(false);
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(true);
  });
});
