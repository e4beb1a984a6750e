import Redis from 'iovalkey';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';

export interface StampedeResult {
  readonly scenario: string;
  readonly callers: number;
  readonly originLoads: number;
  readonly wallMs: number;
}

const ORIGIN_MS = 50;
/** Concurrent callers per measurement: one row per scenario and level. */
export const STAMPEDE_LEVELS: readonly number[] = [1, 10, 50, 100, 200, 500];
/** "Containers" (own CacheClient and connection each) of the cross-process scenario. */
export const STAMPEDE_CONTAINERS = 8;

/** Scenario names, identical at every concurrency level. */
export const STAMPEDE_SCENARIOS = {
  naive: 'no single-flight (plain GET/load/SET)',
  oneProcess: 'kit, 1 process (single-flight)',
  containers: `kit, ${STAMPEDE_CONTAINERS} containers (lease)`,
} as const;

/**
 * Origin loads caused by `callers` concurrent misses of one key, for each concurrency level and
 * scenario (a fresh key per measurement). Rows come grouped by scenario, levels ascending.
 */
export async function measureStampede(host: string, port: number, levels: readonly number[] = STAMPEDE_LEVELS): Promise<StampedeResult[]> {
  const results: StampedeResult[] = [];
  const runId = Date.now();
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
  const run = async (scenario: string, callers: number, call: (load: () => Promise<unknown>, i: number) => Promise<unknown>) => {
    const o = origin();
    const started = performance.now();
    await Promise.all(Array.from({ length: callers }, (_, i) => call(o.load, i)));
    results.push({ scenario, callers, originLoads: o.loads(), wallMs: Math.round(performance.now() - started) });
  };

  // Plain cache-aside (GET, on miss load then SET): every concurrent miss goes to the origin.
  const raw = new Redis({ host, port });
  await raw.ping();
  for (const callers of levels) {
    const key = `stampede-naive-${runId}-${callers}`;
    await run(STAMPEDE_SCENARIOS.naive, callers, async (load) => {
      const hit = await raw.get(key);
      if (hit !== null) return JSON.parse(hit);
      const value = await load();
      await raw.set(key, JSON.stringify(value), 'EX', 60);
      return value;
    });
  }
  raw.disconnect();

  // The kit in one process: in-process single-flight (and the lease, uncontended).
  const one = new CacheClient({ ttlSeconds: 60, store: new RedisStore({ host, port }) });
  await one.get('warm', async () => 0);
  for (const callers of levels) {
    await run(STAMPEDE_SCENARIOS.oneProcess, callers, (load) => one.get(`stampede-one-${runId}-${callers}`, load));
  }
  await one.close();

  // The kit across several "containers" (own CacheClient and connection each), callers spread
  // round-robin over them: single-flight inside each, the fill lease between them.
  const many = Array.from({ length: STAMPEDE_CONTAINERS }, () => new CacheClient({ ttlSeconds: 60, store: new RedisStore({ host, port }) }));
  await Promise.all(many.map((c) => c.get('warm', async () => 0)));
  for (const callers of levels) {
    await run(STAMPEDE_SCENARIOS.containers, callers, (load, i) => many[i % many.length].get(`stampede-many-${runId}-${callers}`, load));
  }
  await Promise.all(many.map((c) => c.close()));
  return results;
}
