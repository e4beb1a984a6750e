import Redis from 'iovalkey';
import { DataCache } from '../../lambda/runtime/cache/cache-aside';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';

export interface StampedeResult {
  readonly scenario: string;
  readonly callers: number;
  readonly originLoads: number;
  readonly wallMs: number;
}

const ORIGIN_MS = 50;

/** Origin loads caused by `callers` concurrent misses of one key. */
export async function measureStampede(host: string, port: number, callers = 200): Promise<StampedeResult[]> {
  const results: StampedeResult[] = [];
  const origin = () => {
    let loads = 0;
    return {
      load: async () => {
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, ORIGIN_MS));
        return { id: 'item', body: 'x'.repeat(1000) };
      },
      loads: () => loads,
    };
  };
  const run = async (scenario: string, call: (load: () => Promise<unknown>, i: number) => Promise<unknown>) => {
    const o = origin();
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, (_, i) => call(o.load, i)));
    results.push({ scenario, callers, originLoads: o.loads(), wallMs: Math.round(performance.now() - started) });
  };

  // Plain cache-aside (GET, on miss load then SET): every concurrent miss goes to the origin.
  const raw = new Redis({ host, port });
  const naiveKey = `stampede-naive-${Date.now()}`;
  await run('no single-flight (plain GET/load/SET)', async (load) => {
    const hit = await raw.get(naiveKey);
    if (hit !== null) return JSON.parse(hit);
    const value = await load();
    await raw.set(naiveKey, JSON.stringify(value), 'EX', 60);
    return value;
  });
  raw.disconnect();

  // The kit in one process: in-process single-flight (and the lease, uncontended).
  const one = new DataCache({ ttlSeconds: 60, store: new RedisStore({ host, port }) });
  await one.get('warm', async () => 0);
  await run('kit, 1 process (single-flight)', (load) => one.get(`stampede-one-${callers}`, load));
  await one.close();

  // The kit across 8 "containers" (own DataCache and connection each): the fill lease.
  const many = Array.from({ length: 8 }, () => new DataCache({ ttlSeconds: 60, store: new RedisStore({ host, port }) }));
  await Promise.all(many.map((c) => c.get('warm', async () => 0)));
  await run('kit, 8 containers x 25 (lease)', (load, i) => many[i % many.length].get(`stampede-many-${callers}`, load));
  await Promise.all(many.map((c) => c.close()));
  return results;
}
