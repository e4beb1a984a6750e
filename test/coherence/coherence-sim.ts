/**
 * A deterministic, seeded simulation of the whole read path under writes and faults, driving the
 * REAL CacheClient (lambda/runtime/cache/cache-aside.ts) and the REAL dev edge cache
 * (dev/edge-cache.ts) on a simulated clock:
 *
 *   viewers ──▶ edge (DevEdgeCache) ──miss──▶ API containers (one CacheClient each) ──▶ table
 *   API writers: commit, then invalidate through their container's CacheClient, then acknowledge
 *   direct writers: commit only (another service writing the table)
 *   stream: every commit, delivered after a random delay (so reordered), to a purge container
 *           that invalidates the key (retrying until confirmed), and only then starts the edge
 *           invalidation, which completes tens of seconds later
 *   faults: the cache server frozen (SIGSTOP), killed and restarted from an older snapshot,
 *           or overloaded (commands past their timeout, the breaker opens with the cache fine)
 *
 * Every read is checked against the coherence contract (lambda/runtime/cache/README.md): a read
 * that starts after a write's bound must return that write's version or a newer one.
 */
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { DevEdgeCache, EdgeResponse } from '../../dev/edge-cache';
import { FaultServer, FaultStoreClient } from './fault-store';
import { seededRandom, SimClock } from './sim-clock';

export type Fault =
  | { readonly kind: 'freeze'; readonly at: number; readonly forMs: number }
  | { readonly kind: 'restart-from-snapshot'; readonly at: number; readonly downMs: number; readonly snapshotAgeMs: number }
  | { readonly kind: 'overload'; readonly at: number; readonly forMs: number; readonly probability: number };

export interface Scenario {
  readonly name: string;
  readonly durationMs: number;
  readonly faults: readonly Fault[];
  /** API containers (each its own CacheClient and connection). @default 4 */
  readonly containers?: number;
  readonly viewers?: number;
  readonly apiWriters?: number;
  readonly directWriters?: number;
  readonly ids?: number;
  /** Share of viewer reads sent to the API directly rather than through the edge. @default SIM.directReadShare */
  readonly directReadShare?: number;
}

/** The scenarios the contract is checked under (test/coherence/simulation.test.ts, bench/coherence.bench.ts); each failed on the code before issue 9. */
export const FAULT_SCENARIOS: readonly Scenario[] = [
  {
    // No fault: reads of two hot keys in one long-lived container share in-process lookups.
    name: 'hot keys in one long-lived container (single-flight)',
    durationMs: 20_000,
    faults: [],
    ids: 2,
    containers: 1,
    viewers: 12,
    directReadShare: 1,
  },
  { name: 'cache frozen 5 s (SIGSTOP) with writes going on', durationMs: 20_000, faults: [{ kind: 'freeze', at: 8_000, forMs: 5_000 }] },
  {
    name: 'cache killed, restarted 2 s later from a 3 s old snapshot',
    durationMs: 20_000,
    faults: [{ kind: 'restart-from-snapshot', at: 10_000, downMs: 2_000, snapshotAgeMs: 3_000 }],
  },
  {
    name: 'overload: half the commands past their timeout for 4 s (breaker opens, cache fine)',
    durationMs: 20_000,
    faults: [{ kind: 'overload', at: 6_000, forMs: 4_000, probability: 0.5 }],
  },
];

/** Timing of the simulated services, also the inputs of the contract's bounds. */
export const SIM = {
  commandTimeoutMs: 100,
  repairIntervalMs: 250,
  opLatencyMs: [0.2, 1.5] as const,
  loadLatencyMs: [2, 15] as const,
  streamDelayMs: [100, 1500] as const,
  streamRetryMs: 1000,
  /** Share of stream deliveries whose purge fails once for reasons of its own (throttling, a cold start). */
  purgeFlakiness: 0.05,
  invalidationMs: [5_000, 30_000] as const,
  edgeTtlSeconds: 60,
  dataTtlSeconds: 300,
  viewerPauseMs: [5, 40] as const,
  writerPauseMs: [100, 600] as const,
  /** Share of viewer reads that go to the API directly (not through the edge). */
  directReadShare: 0.3,
};

interface Write {
  readonly id: number;
  readonly version: number;
  readonly api: boolean;
  readonly committedAt: number;
  /** Acknowledged (API writes) or committed (direct writes). */
  ackedAt: number;
  confirmed: boolean;
  dataPurgedAt?: number;
  edgePurgedAt?: number;
}

interface Read {
  readonly layer: 'data' | 'edge';
  readonly id: number;
  readonly startedAt: number;
  readonly version: number;
}

export interface LayerReport {
  readonly reads: number;
  readonly staleReads: number;
  /** Reads past the contract's bound that returned an older version than a write acknowledged before. */
  readonly violations: number;
  /** Longest time between a write's acknowledgement and a read starting after it that still returned an older version. */
  readonly worstStalenessMs: number;
  readonly p99StalenessMs: number;
  /** The same, counting API writes only (B = 0 when the invalidation was confirmed). */
  readonly worstAfterApiWriteMs: number;
}

export interface SimReport {
  readonly scenario: string;
  readonly seed: number;
  readonly writes: number;
  readonly unconfirmedWrites: number;
  readonly data: LayerReport;
  readonly edge: LayerReport;
  /** Longest commit-to-completion of an edge invalidation. */
  readonly worstEdgePurgeMs: number;
  /** Longest commit-to-confirmation of a stream purge (the data bound of direct writes). */
  readonly worstStreamPurgeMs: number;
  /** Every id read back at the end (from the cache, then the edge) equals its last write. */
  readonly finalMismatches: number;
  readonly examples: string[];
}

const between = (random: () => number, [lo, hi]: readonly [number, number]) => lo + (hi - lo) * random();

export async function simulate(scenario: Scenario, seed: number): Promise<SimReport> {
  const random = seededRandom(seed);
  const clock = new SimClock();
  const faults = scenario.faults;
  const overloaded = () => faults.some((f) => f.kind === 'overload' && clock.now >= f.at && clock.now < f.at + f.forMs && random() < f.probability);
  const server = new FaultServer({
    now: () => clock.now,
    sleep: clock.sleep,
    latencyMs: () => (overloaded() ? SIM.commandTimeoutMs * 1.5 : between(random, SIM.opLatencyMs)),
    runsAfterThaw: () => random() < 0.5,
  });
  const client = () =>
    new CacheClient({
      ttlSeconds: SIM.dataTtlSeconds,
      negativeTtlSeconds: 5,
      jitter: 0.1,
      store: new FaultStoreClient(server, SIM.commandTimeoutMs),
      leaseWaitMs: 0, // losers of a lease load without waiting: no real timers inside the client
      now: () => clock.now,
      random,
      repairIntervalMs: SIM.repairIntervalMs,
      schedule: (run, ms) => clock.at(clock.now + ms, run),
    });
  const containers = Array.from({ length: scenario.containers ?? 4 }, client);
  const purger = client();
  const edge = new DevEdgeCache(() => clock.now);
  const ids = scenario.ids ?? 12;
  const table = new Map<number, number>();
  const writes = new Map<number, Write[]>();
  const reads: Read[] = [];
  for (let id = 0; id < ids; id++) {
    table.set(id, 0);
    writes.set(id, []);
  }
  const end = scenario.durationMs;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];

  const load = async (id: number) => {
    await clock.sleep(between(random, SIM.loadLatencyMs) / 2);
    const version = table.get(id);
    await clock.sleep(between(random, SIM.loadLatencyMs) / 2);
    return { id, version };
  };

  /** GET /items/{id} in an API container: the data layer. */
  const handler = async (id: number): Promise<number> => {
    const startedAt = clock.now;
    const value = await pick(containers).get(`item:${id}`, () => load(id));
    const version = value?.version ?? -1;
    reads.push({ layer: 'data', id, startedAt, version });
    return version;
  };

  const viewer = async () => {
    while (clock.now < end) {
      await clock.sleep(between(random, SIM.viewerPauseMs));
      const id = Math.floor(random() * ids);
      if (random() < (scenario.directReadShare ?? SIM.directReadShare)) {
        await handler(id);
        continue;
      }
      const startedAt = clock.now;
      const path = `/items/${id}`;
      const hit = edge.lookup(path);
      let version: number;
      if (hit) {
        version = Number(hit.response.body.toString());
      } else {
        const fillStartedAt = edge.beginFill?.();
        version = await handler(id);
        const response: EdgeResponse = { statusCode: 200, headers: [], body: Buffer.from(String(version)) };
        edge.store(path, 'GET /items/{id}', path, response, SIM.edgeTtlSeconds, fillStartedAt);
      }
      reads.push({ layer: 'edge', id, startedAt, version });
    }
  };

  const commit = (id: number, api: boolean): Write => {
    const version = table.get(id)! + 1;
    table.set(id, version);
    const write: Write = { id, version, api, committedAt: clock.now, ackedAt: clock.now, confirmed: !api };
    writes.get(id)!.push(write);
    void streamPurge(write);
    return write;
  };

  const apiWriter = async () => {
    while (clock.now < end) {
      await clock.sleep(between(random, SIM.writerPauseMs));
      const id = Math.floor(random() * ids);
      await clock.sleep(1); // the handler's own work
      const write = commit(id, true);
      write.confirmed = await pick(containers).invalidate(`item:${id}`);
      write.ackedAt = clock.now;
    }
  };

  const directWriter = async () => {
    while (clock.now < end) {
      await clock.sleep(between(random, SIM.writerPauseMs) * 2);
      commit(Math.floor(random() * ids), false);
    }
  };

  /** The stream's purge of one record: data cache first, retried until confirmed, then the edge. */
  const streamPurge = async (write: Write) => {
    await clock.sleep(between(random, SIM.streamDelayMs));
    for (;;) {
      const flaky = random() < SIM.purgeFlakiness;
      if (!flaky && (await purger.invalidate(`item:${write.id}`))) break;
      await clock.sleep(SIM.streamRetryMs);
    }
    write.dataPurgedAt = clock.now;
    await clock.sleep(between(random, SIM.invalidationMs));
    edge.invalidate([`/items/${write.id}`]);
    write.edgePurgedAt = clock.now;
  };

  for (const fault of faults) {
    if (fault.kind === 'freeze') {
      clock.at(fault.at, () => server.freeze());
      clock.at(fault.at + fault.forMs, () => server.unfreeze());
    } else if (fault.kind === 'restart-from-snapshot') {
      let snapshot: ReturnType<FaultServer['snapshot']> | undefined;
      clock.at(fault.at - fault.snapshotAgeMs, () => (snapshot = server.snapshot()));
      clock.at(fault.at, () => server.kill());
      clock.at(fault.at + fault.downMs, () => server.restart(snapshot));
    }
  }

  const loops = [
    ...Array.from({ length: scenario.viewers ?? 8 }, viewer),
    ...Array.from({ length: scenario.apiWriters ?? 2 }, apiWriter),
    ...Array.from({ length: scenario.directWriters ?? 1 }, directWriter),
  ];
  // Run past the end so every purge (edge invalidations take up to 30 s) completes.
  await clock.run(end + SIM.invalidationMs[1] + 10_000);
  await Promise.all(loops);

  // The final read-back, once everything has settled: through each container, then the edge.
  let finalMismatches = 0;
  await clock.drive((async () => {
    for (let id = 0; id < ids; id++) {
      for (const container of containers) {
        const value = await container.get(`item:${id}`, () => load(id));
        if (value?.version !== table.get(id)) finalMismatches++;
      }
      const hit = edge.lookup(`/items/${id}`);
      if (hit && Number(hit.response.body.toString()) !== table.get(id)) finalMismatches++;
    }
  })());

  return {
    scenario: scenario.name,
    seed,
    writes: [...writes.values()].reduce((n, w) => n + w.length, 0),
    unconfirmedWrites: [...writes.values()].flat().filter((w) => w.api && !w.confirmed).length,
    data: judge(reads, writes, 'data', (w) => dataBound(w, faults)),
    edge: judge(reads, writes, 'edge', (w) => w.edgePurgedAt ?? Infinity),
    worstEdgePurgeMs: Math.max(0, ...[...writes.values()].flat().map((w) => (w.edgePurgedAt ?? Infinity) - w.committedAt)),
    worstStreamPurgeMs: Math.max(0, ...[...writes.values()].flat().map((w) => (w.dataPurgedAt ?? Infinity) - w.committedAt)),
    finalMismatches,
    examples: violations(reads, writes, faults).slice(0, 5),
  };
}

/** The end of the cache fault that `t` falls in (or `t` itself when the cache is reachable then). */
function reachableAgain(t: number, faults: readonly Fault[]): number {
  let at = t;
  for (const f of faults) {
    const start = f.at;
    const stop = f.kind === 'restart-from-snapshot' ? f.at + f.downMs : f.at + f.forMs;
    // A command sent up to one timeout before the fault may be caught by it.
    if (at >= start - SIM.commandTimeoutMs && at < stop) at = stop;
  }
  return at;
}

/**
 * The contract's bound for the data layer:
 * - API write confirmed by the cache: its acknowledgement (B = 0);
 * - API write the cache did not confirm: the cache reachable again + one repair interval
 *   (+ one timed-out attempt and a round trip);
 *   (never later than the stream purge, below);
 * - a direct write: the stream purge's latency, i.e. when the purge's invalidation was confirmed
 *   (delivery delay, the purge's own retries, the cache being unreachable); its worst case is
 *   reported as `worstStreamPurgeMs`.
 */
export function dataBound(w: Write, faults: readonly Fault[]): number {
  const repair = SIM.repairIntervalMs + SIM.commandTimeoutMs + 2 * SIM.opLatencyMs[1];
  const streamPurged = w.dataPurgedAt ?? Infinity;
  if (w.api && w.confirmed) return w.ackedAt;
  if (w.api) return Math.min(reachableAgain(w.ackedAt, faults) + repair, streamPurged);
  return streamPurged;
}

function judge(reads: readonly Read[], writes: Map<number, Write[]>, layer: Read['layer'], bound: (w: Write) => number): LayerReport {
  const staleness: number[] = [];
  let violations = 0;
  let count = 0;
  let worstApi = 0;
  for (const read of reads) {
    if (read.layer !== layer) continue;
    count++;
    let worst = 0;
    let violated = false;
    for (const w of writes.get(read.id)!) {
      if (w.version <= read.version || w.ackedAt > read.startedAt) continue;
      worst = Math.max(worst, read.startedAt - w.ackedAt + 1e-9);
      if (w.api) worstApi = Math.max(worstApi, read.startedAt - w.ackedAt);
      if (read.startedAt >= bound(w)) violated = true;
    }
    staleness.push(worst);
    if (violated) violations++;
  }
  const sorted = [...staleness].sort((a, b) => a - b);
  return {
    reads: count,
    staleReads: staleness.filter((s) => s > 0).length,
    violations,
    worstStalenessMs: Math.round(sorted[sorted.length - 1] ?? 0),
    p99StalenessMs: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
    worstAfterApiWriteMs: Math.round(worstApi),
  };
}

function violations(reads: readonly Read[], writes: Map<number, Write[]>, faults: readonly Fault[]): string[] {
  const out: string[] = [];
  for (const read of reads) {
    for (const w of writes.get(read.id)!) {
      if (w.version <= read.version || w.ackedAt > read.startedAt) continue;
      const bound = read.layer === 'data' ? dataBound(w, faults) : w.edgePurgedAt ?? Infinity;
      if (read.startedAt >= bound) {
        out.push(
          `${read.layer} read of ${read.id} at ${read.startedAt.toFixed(1)} ms returned v${read.version}; ` +
            `v${w.version} (${w.api ? 'API' : 'direct'}${w.api ? (w.confirmed ? ', confirmed' : ', unconfirmed') : ''}) acknowledged at ${w.ackedAt.toFixed(1)} ms, bound ${bound.toFixed(1)} ms`,
        );
        break;
      }
    }
  }
  return out;
}
