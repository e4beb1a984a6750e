/**
 * The coherence contract over thousands of interleavings: the seeded simulation of
 * coherence-sim.ts (real CacheClient, real dev edge cache) under each fault, several seeds each.
 * Prints the worst staleness per layer; asserts no read past the contract's bound is stale and
 * every id reads back its last write at the end.
 */
import { Scenario, simulate, SimReport } from './coherence-sim';

export const SCENARIOS: readonly Scenario[] = [
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

const SEEDS = [1, 2, 3];
const reports: SimReport[] = [];

afterAll(() => {
  const rows = reports.map((r) => ({
    scenario: r.scenario,
    seed: r.seed,
    writes: r.writes,
    unconfirmed: r.unconfirmedWrites,
    'data reads': r.data.reads,
    'data stale/violations': `${r.data.staleReads}/${r.data.violations}`,
    'data worst ms': r.data.worstStalenessMs,
    'edge reads': r.edge.reads,
    'edge stale/violations': `${r.edge.staleReads}/${r.edge.violations}`,
    'edge worst ms': r.edge.worstStalenessMs,
    'edge purge worst ms': r.worstEdgePurgeMs,
    'final mismatches': r.finalMismatches,
  }));
  console.table(rows);
});

describe.each(SCENARIOS)('$name', (scenario) => {
  test.each(SEEDS)('seed %i: no stale read past the bound, every id reads back its last write', async (seed) => {
    const report = await simulate(scenario, seed);
    reports.push(report);
    expect(report.examples).toEqual([]);
    expect(report.data.violations).toBe(0);
    expect(report.edge.violations).toBe(0);
    expect(report.finalMismatches).toBe(0);
    expect(report.data.reads).toBeGreaterThan(1000);
  });
});
