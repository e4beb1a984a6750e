/**
 * Coherence benchmark: `npm run bench:coherence`.
 *
 * 1. Staleness per layer under each fault scenario: the seeded simulation of
 *    test/coherence/coherence-sim.ts (the real CacheClient and dev edge cache on a simulated
 *    clock) over many seeds: worst and p99 staleness of data-cache and edge reads (time from a
 *    write's acknowledgement to a read that started after it and still returned an older value),
 *    reads past the contract's bound (must be 0), and the worst commit-to-edge-purge time.
 * 2. Item edge hit ratio under the sample's read/write mix (10 reads per write over 20 items)
 *    over HTTP on the dev server with its dev edge: what a viewer sees of `GET /items/{id}`.
 *    The dev edge purges the paths `purgePathsForWrite` gives (dev/edge-cache.ts); the list route's
 *    path design belongs to the edge half of issue 9, so this figure follows whatever that
 *    design is on this branch.
 *
 * Writes bench/results/coherence.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { FAULT_SCENARIOS, LayerReport, Scenario, simulate, SimReport } from '../test/coherence/coherence-sim';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const CONTROL: Scenario = { name: 'no fault (control)', durationMs: 20_000, faults: [] };

/** A layer over many seeds: sums, and the worst of the per-seed figures (p99 included). */
type LayerSummary = LayerReport;

function summarise(reports: readonly SimReport[], layer: 'data' | 'edge'): LayerSummary {
  return {
    reads: reports.reduce((n, r) => n + r[layer].reads, 0),
    staleReads: reports.reduce((n, r) => n + r[layer].staleReads, 0),
    violations: reports.reduce((n, r) => n + r[layer].violations, 0),
    worstStalenessMs: Math.max(...reports.map((r) => r[layer].worstStalenessMs)),
    p99StalenessMs: Math.max(...reports.map((r) => r[layer].p99StalenessMs)),
    worstAfterApiWriteMs: Math.max(...reports.map((r) => r[layer].worstAfterApiWriteMs)),
  };
}

async function edgeHitRatio(): Promise<{ itemReads: number; edgeHits: number; hitRatio: number; writes: number; pathsPerWrite: number }> {
  const { catalogRoutes } = await import('../lib/sample/catalog-routes');
  const { CATALOG_DATA_PURGE } = await import('../lambda/catalog/cache-keys');
  const { createDevServer } = await import('../dev/server');
  const { purgePathsForWrite } = await import('../dev/edge-cache');
  const { parseRouteTable } = await import('../lib/api/route-table');
  const routes = catalogRoutes();
  const server = await createDevServer({ routes, dataPurge: CATALOG_DATA_PURGE, port: 0, keyPrefix: 'bench', environment: { TABLE_NAME: 'memory' }, log: () => undefined });
  try {
    const ids = Array.from({ length: 20 }, (_, i) => `bench-${i}`);
    let random = 42;
    const next = () => ((random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const put = (id: string) =>
      fetch(`${server.url}/items/${id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: id, price: Math.round(next() * 100) }) }).then((r) => r.arrayBuffer());
    for (const id of ids) await put(id);
    let itemReads = 0;
    let edgeHits = 0;
    let writes = 0;
    for (let i = 0; i < 2_200; i++) {
      const id = ids[Math.floor(next() * ids.length)];
      if (i % 11 === 10) {
        await put(id);
        writes++;
        continue;
      }
      const res = await fetch(`${server.url}/items/${id}`);
      await res.arrayBuffer();
      itemReads++;
      if (res.headers.get('x-cache')?.startsWith('Hit')) edgeHits++;
    }
    const pathsPerWrite = purgePathsForWrite(parseRouteTable(routes), { id: 'x' }).length;
    return { itemReads, edgeHits, hitRatio: Math.round((edgeHits / itemReads) * 1000) / 1000, writes, pathsPerWrite };
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0];
  const scenarios = [];
  for (const scenario of [CONTROL, ...FAULT_SCENARIOS]) {
    const reports: SimReport[] = [];
    for (const seed of SEEDS) reports.push(await simulate(scenario, seed));
    const row = {
      scenario: scenario.name,
      seeds: SEEDS.length,
      writes: reports.reduce((n, r) => n + r.writes, 0),
      unconfirmedWrites: reports.reduce((n, r) => n + r.unconfirmedWrites, 0),
      data: summarise(reports, 'data'),
      edge: summarise(reports, 'edge'),
      worstEdgePurgeMs: Math.round(Math.max(...reports.map((r) => r.worstEdgePurgeMs))),
      worstStreamPurgeMs: Math.round(Math.max(...reports.map((r) => r.worstStreamPurgeMs))),
      finalMismatches: reports.reduce((n, r) => n + r.finalMismatches, 0),
    };
    scenarios.push(row);
  }
  console.log('Staleness per layer (simulation, %d seeds per scenario; bound violations must be 0)', SEEDS.length);
  console.table(
    scenarios.map((s) => ({
      scenario: s.scenario,
      'unconfirmed writes': s.unconfirmedWrites,
      'data worst ms': s.data.worstStalenessMs,
      'data p99 ms': s.data.p99StalenessMs,
      'data worst after API write ms': s.data.worstAfterApiWriteMs,
      'data violations': s.data.violations,
      'stream purge worst ms': s.worstStreamPurgeMs,
      'edge worst ms': s.edge.worstStalenessMs,
      'edge p99 ms': s.edge.p99StalenessMs,
      'edge violations': s.edge.violations,
      'edge purge worst ms': s.worstEdgePurgeMs,
      'final mismatches': s.finalMismatches,
    })),
  );
  const edge = await edgeHitRatio();
  console.log(
    `Item edge hit ratio (dev edge, 10 reads per write over 20 items): ${(edge.hitRatio * 100).toFixed(1)} % ` +
      `(${edge.edgeHits}/${edge.itemReads}); ${edge.pathsPerWrite} invalidation paths per write`,
  );
  const results = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    loadAverage: { before: loadBefore, after: loadavg()[0] },
    scenarios,
    itemEdgeHitRatio: edge,
    durationMs: Date.now() - started,
  };
  const out = path.join(__dirname, 'results', 'coherence.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\nWrote ${path.relative(process.cwd(), out)} (${Math.round((Date.now() - started) / 1000)} s)`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
