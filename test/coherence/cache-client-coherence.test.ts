/**
 * The data-cache half of the coherence contract, one fault at a time, with the real CacheClient
 * in several "processes" (one client and connection each) over one FaultServer.
 */
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { CacheClientOptions } from '../../lambda/runtime/cache/types';
import { FaultServer, FaultStoreClient } from './fault-store';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function world(runsAfterThaw = false) {
  const server = new FaultServer({ now: Date.now, sleep, runsAfterThaw: () => runsAfterThaw });
  const table = new Map<string, number>();
  const processes: CacheClient[] = [];
  const process = (options: Partial<CacheClientOptions> = {}) => {
    const client = new CacheClient({ ttlSeconds: 60, jitter: 0, leaseWaitMs: 0, store: new FaultStoreClient(server, 40), ...options });
    processes.push(client);
    return client;
  };
  const read = (client: CacheClient, id: string) => client.get(`item:${id}`, async () => table.get(id));
  return { server, table, process, read, close: () => Promise.all(processes.map((p) => p.close())) };
}

describe('single-flight and invalidation', () => {
  test('a read that starts after an acknowledged invalidate never joins a lookup that started before it', async () => {
    const { table, process, close } = world();
    const cache = process();
    let stale = 0;
    for (let i = 0; i < 20; i++) {
      const key = `k${i}`;
      table.set(key, 1);
      let releaseSlowLoad!: () => void;
      let loadStarted!: () => void;
      const slow = new Promise<void>((resolve) => (releaseSlowLoad = resolve));
      const started = new Promise<void>((resolve) => (loadStarted = resolve));
      const before = cache.get(key, async () => {
        const value = table.get(key);
        loadStarted();
        await slow; // the origin answers slowly with what it read before the write
        return value;
      });
      await started;
      table.set(key, 2);
      expect(await cache.invalidate(key)).toBe(true);
      const after = cache.get(key, async () => table.get(key));
      releaseSlowLoad();
      await before;
      if ((await after) !== 2) stale++;
    }
    expect(stale).toBe(0);
    await close();
  });

  test('a group invalidation also detaches the lookups of its keys', async () => {
    const { process, close } = world();
    const cache = process();
    let version = 1;
    let releaseSlowLoad!: () => void;
    let loadStarted!: () => void;
    const slow = new Promise<void>((resolve) => (releaseSlowLoad = resolve));
    const started = new Promise<void>((resolve) => (loadStarted = resolve));
    const before = cache.get('page', async () => {
      const seen = version;
      loadStarted();
      await slow;
      return seen;
    }, { group: 'items' });
    await started;
    version = 2;
    expect(await cache.invalidateGroup('items')).toBe(true);
    const after = cache.get('page', async () => version, { group: 'items' });
    releaseSlowLoad();
    await before;
    expect(await after).toBe(2);
    await close();
  });
});

describe('invalidations are never dropped', () => {
  /** Reads `id` from `reader` every `everyMs` for `count` times; returns what each read returned. */
  async function readSeries(read: () => Promise<number | undefined>, count: number, everyMs: number): Promise<(number | undefined)[]> {
    const seen: (number | undefined)[] = [];
    for (let i = 0; i < count; i++) {
      seen.push(await read());
      await sleep(everyMs);
    }
    return seen;
  }

  test('a write acknowledged while the cache is frozen: the writer never serves the old value, other processes only until the repair', async () => {
    const { server, table, process, read, close } = world(false);
    const writer = process({ repairIntervalMs: 50 } as Partial<CacheClientOptions>);
    const reader = process();
    table.set('a', 1);
    expect(await read(reader, 'a')).toBe(1);
    expect(await read(writer, 'a')).toBe(1);
    server.freeze();
    table.set('a', 2);
    expect(await writer.invalidate('item:a')).toBe(false); // timed out: not confirmed
    server.unfreeze();
    // Every read by the writer after its acknowledged write sees it.
    const writerReads = await readSeries(() => read(writer, 'a'), 5, 5);
    expect(writerReads).toEqual([2, 2, 2, 2, 2]);
    // Other processes: the old value at most until the writer's repair lands, never after.
    const readerReads = await readSeries(() => read(reader, 'a'), 30, 20);
    expect(readerReads[readerReads.length - 1]).toBe(2);
    expect(readerReads.slice(readerReads.indexOf(2))).not.toContain(1);
    await close();
  });

  test('an invalidation while the breaker is open is still sent (CPU overload opened it; the cache is fine)', async () => {
    const { server, table, process, read, close } = world(true);
    const writer = process({ breaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    const reader = process();
    table.set('b', 1);
    expect(await read(reader, 'b')).toBe(1);
    // Two timeouts open the writer's breaker (an overloaded event loop looks the same to it).
    server.freeze();
    await read(writer, 'x');
    await read(writer, 'y');
    server.unfreeze();
    expect(writer.stats().breakerOpened).toBe(1);
    table.set('b', 2);
    await writer.invalidate('item:b');
    expect(await read(reader, 'b')).toBe(2);
    await close();
  });

  test('a cache restarted from an old snapshot serves no entry written before the restart', async () => {
    const { server, table, process, read, close } = world();
    const writer = process();
    const reader = process();
    table.set('c', 1);
    expect(await read(reader, 'c')).toBe(1);
    const rdb = server.snapshot(); // the periodic RDB save
    table.set('c', 2);
    expect(await writer.invalidate('item:c')).toBe(true); // confirmed, then undone by the restart below
    expect(await read(reader, 'c')).toBe(2);
    server.kill();
    expect(await read(reader, 'c')).toBe(2); // traffic goes on while it is down: served by the origin
    server.restart(rdb);
    const afterRestart = await readSeries(() => read(reader, 'c'), 3, 5);
    expect(afterRestart).toEqual([2, 2, 2]);
    expect(await read(writer, 'c')).toBe(2);
    await close();
  });
});
