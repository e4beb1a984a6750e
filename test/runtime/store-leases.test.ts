import { encodeEntry } from '../../lambda/runtime/cache/entry';
import { DEFAULT_KEY_PREFIX } from '../../lambda/runtime/cache/env';
import { entryKeys, groupGenerationKey } from '../../lambda/runtime/cache/keys';
import { StoredItem } from '../../lambda/runtime/cache/types';
import { engineStore } from './engine-store';
import { sleep, uniqueKey } from './helpers';

// The stores' fill leases and grouped reads, called directly on a real redis-server and memcached
// on loopback: what the CacheClient relies on when it leases, fills, gives a lease back and reads
// a key with its group counter. Written from the mutants StrykerJS left alive in redis-store.ts
// and memcached-store.ts (docs/testing.md): each test fails with its line changed.

const key = (label: string) => entryKeys(DEFAULT_KEY_PREFIX, uniqueKey(label)).key;
const text = (value: string) => encodeEntry(Date.now(), Date.now() + 60_000, '', JSON.stringify(value));

describe.each(['redis', 'memcached'] as const)('%s', (engine) => {
  const store = engineStore(engine);

  test('a grouped read returns the counter with the entry, in the same read; an ungrouped read none', async () => {
    const k = key('grouped');
    const generationKey = groupGenerationKey(DEFAULT_KEY_PREFIX, uniqueKey('group'));
    expect(await store().read(k, generationKey)).toEqual({ generation: undefined });
    const generation = await store().ensureGeneration(generationKey);
    expect(await store().read(k, generationKey)).toMatchObject({ generation });
    const lease = (await store().acquireLease(k, 10_000, undefined))!;
    expect(await store().fill(k, text('v'), 60_000, lease)).toBe(true);
    const grouped = await store().read(k, generationKey);
    expect(grouped.generation).toBe(generation);
    expect(grouped.item?.text.endsWith('|"v"')).toBe(true);
    const ungrouped = await store().read(k);
    expect(ungrouped.generation).toBeUndefined();
    expect(ungrouped.item?.text.endsWith('|"v"')).toBe(true);
  });

  test('one lease at a time; its fill writes once; a lease given back (by its holder only) can be taken again', async () => {
    const k = key('lease');
    const lease = await store().acquireLease(k, 10_000, undefined);
    expect(lease).toBeDefined();
    expect(await store().acquireLease(k, 10_000, undefined)).toBeUndefined();
    // Another holder's lease (memcached tells holders apart by the marker's cas version).
    await store().releaseLease(k, engine === 'memcached' ? { token: 'm-not-mine', version: '1' } : { token: 'not-mine' });
    expect(await store().acquireLease(k, 10_000, undefined)).toBeUndefined();
    await store().releaseLease(k, lease!);
    const next = (await store().acquireLease(k, 10_000, undefined))!;
    expect(next).toBeDefined();
    expect(await store().fill(k, text('second'), 60_000, lease!)).toBe(false); // the old holder's turn is over
    expect(await store().fill(k, text('second'), 60_000, next)).toBe(true);
    expect(await store().fill(k, text('again'), 60_000, next)).toBe(false); // used up
    expect((await store().read(k)).item?.text.endsWith('|"second"')).toBe(true);
  });

  test('invalidate revokes a lease: its fill is refused', async () => {
    const k = key('revoked');
    const lease = (await store().acquireLease(k, 10_000, undefined))!;
    await store().invalidate(k);
    expect(await store().fill(k, text('late'), 60_000, lease)).toBe(false);
    expect((await store().read(k)).item).toBeUndefined();
  });
});

describe('memcached: refresh leases (a lock beside a stale value)', () => {
  const store = engineStore('memcached');
  /** A key holding a value, and what a read of it returns (with its cas version). */
  async function filled(label: string): Promise<{ k: string; seen: StoredItem }> {
    const k = key(label);
    const lease = (await store().acquireLease(k, 10_000, undefined))!;
    expect(await store().fill(k, text('stale'), 60_000, lease)).toBe(true);
    const seen = (await store().read(k)).item!;
    expect(seen.version).toBeDefined();
    return { k, seen };
  }

  test('a read during a fill says the key is being filled, not that it holds a value', async () => {
    const k = key('marker');
    const lease = (await store().acquireLease(k, 10_000, undefined))!;
    expect(await store().read(k)).toEqual({ generation: undefined, filling: true });
    await store().releaseLease(k, lease);
    expect(await store().read(k)).toEqual({ generation: undefined });
  });

  test('one refresher at a time; its fill replaces the value it saw and frees the lock', async () => {
    const { k, seen } = await filled('refresh');
    const lease = (await store().acquireLease(k, 10_000, seen))!;
    expect(lease).toBeDefined();
    expect(await store().acquireLease(k, 10_000, seen)).toBeUndefined();
    expect(await store().fill(k, text('fresh'), 60_000, lease)).toBe(true);
    const now = (await store().read(k)).item!;
    expect(now.text.endsWith('|"fresh"')).toBe(true);
    expect(await store().acquireLease(k, 10_000, now)).toBeDefined();
  });

  test('a refresh lease given back frees the lock, only for its holder', async () => {
    const { k, seen } = await filled('refresh-release');
    const lease = (await store().acquireLease(k, 10_000, seen))!;
    await store().releaseLease(k, { ...lease, token: `${lease.token}-not-mine` });
    expect(await store().acquireLease(k, 10_000, seen)).toBeUndefined();
    await store().releaseLease(k, lease);
    expect(await store().acquireLease(k, 10_000, seen)).toBeDefined();
  });

  test('a refresh fill against a value changed since it was read is refused, and still frees the lock', async () => {
    const { k, seen } = await filled('refresh-changed');
    const lease = (await store().acquireLease(k, 10_000, seen))!;
    await store().invalidate(k);
    const again = (await store().acquireLease(k, 10_000, undefined))!;
    expect(await store().fill(k, text('newer'), 60_000, again)).toBe(true);
    expect(await store().fill(k, text('older'), 60_000, lease)).toBe(false);
    expect((await store().read(k)).item?.text.endsWith('|"newer"')).toBe(true);
  });

  test('a fill lease whose holder is gone runs out after its TTL (whole seconds, at least 2)', async () => {
    const k = key('expiry');
    expect(await store().acquireLease(k, 1_000, undefined)).toBeDefined();
    expect(await store().acquireLease(k, 1_000, undefined)).toBeUndefined();
    // memcached's clock ticks once a second: a 2 s lifetime is over within 3 s.
    await sleep(4_000);
    expect(await store().acquireLease(k, 1_000, undefined)).toBeDefined();
  });

  test('a lease without a version writes nothing', async () => {
    const { k } = await filled('no-version');
    expect(await store().fill(k, text('x'), 60_000, { token: 'm-unversioned' })).toBe(false);
    expect((await store().read(k)).item?.text.endsWith('|"stale"')).toBe(true);
  });
});
