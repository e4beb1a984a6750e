/**
 * Data-cache runtime benchmark: `npx tsx bench/data-cache.bench.ts`.
 *
 * Starts a loopback redis-server and memcached (test/support/servers.ts), then measures in one run:
 * 1. the hit path of the calls the catalog handlers make (item key; grouped list key) against a raw
 *    client GET of the same ~1 KB value (p50, p90, p99, ops/s, ratios);
 * 2. origin loads under 1 to 500 concurrent misses of one key: plain GET/SET, the kit in one
 *    process, the kit in 8 separate processes;
 * 3. bundle size and module load time of handlers (empty, client only, client + the kit), the
 *    kit's own load cost paired per process, and what an inline source map costs a cold start.
 * Prints tables and writes bench/results/data-cache.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { startMemcached, startRedis } from '../test/support/servers';
import { BundleResult, measureBundles, measureKitCost, measureSourceMapCost } from './data-cache/bundles';
import { HitPathResult, measureHitPath } from './data-cache/hit-path';
import { measureMemcachedHitPath } from './data-cache/memcached-hit-path';
import { measureStampede, STAMPEDE_LEVELS, STAMPEDE_SCENARIOS } from './data-cache/stampede';
import { LatencySummary, round } from './data-cache/stats';

const TARGETS = { hitP50Ratio: 1.25, hitP99Ratio: 1.5, kitBytes: 25 * 1024, kitLoadMs: 10 };

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n');
}

const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const latencyRow = (name: string, l: LatencySummary) => [name, l.p50Us, l.p90Us, l.p99Us, l.meanUs, l.opsPerSec, l.cpuUsPerOp ?? ''];
/** Origin loads the kit may cause per stampede, at every concurrency level (single-flight, lease). */
const STAMPEDE_KIT_LOADS = 1;

async function main(): Promise<void> {
  const started = Date.now();
  const [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
  try {
    const loadBefore = loadavg()[0];
    const hit = await measureHitPath(redis.host, redis.port);
    const memcachedHit = await measureMemcachedHitPath(memcached.host, memcached.port);
    const stampede = await measureStampede(redis.host, redis.port);
    const bundles = measureBundles();
    const costs = await measureKitCost(
      [
        ['redis-kit', 'redis-client'],
        ['kit-from-env', 'redis-client'],
        ['memcached-kit', 'memcached-client'],
      ],
      bundles,
    );
    const sourceMap = measureSourceMapCost();

    console.log(`\nData-cache runtime benchmark (node ${process.version}, load average ${loadBefore.toFixed(2)} -> ${loadavg()[0].toFixed(2)})\n`);
    console.log(`Hit path, 20k sequential ops per path after 3k warm-up, ~${hit.valueBytes} B value, loopback redis-server (interleaved per op)`);
    const ratioRows = (name: string, r: HitPathResult['ratios']['cacheAsideHit']) => [
      [`ratio ${name} / raw GET`, `${r.p50}x`, '', `${r.p99}x`, '', '', ''],
      [`ratio ${name} / raw GET + JSON.parse`, `${r.p50VsGetAndParse}x`, '', `${r.p99VsGetAndParse}x`, '', '', ''],
    ];
    console.log(
      table(
        ['path', 'p50 us', 'p90 us', 'p99 us', 'mean us', 'ops/s', 'cpu us/op'],
        [
          latencyRow('raw iovalkey GET', hit.rawGet),
          latencyRow('raw iovalkey GET + JSON.parse', hit.rawGetAndParse),
          latencyRow('raw iovalkey MGET of entry + generation', hit.rawGroupedMget),
          latencyRow('kit cacheAsideWithOutcome hit (GET /items/{id})', hit.cacheAsideHit),
          latencyRow('kit grouped hit (GET /items, group items)', hit.groupedHit),
          ...ratioRows('item hit', hit.ratios.cacheAsideHit),
          ...ratioRows('grouped hit', hit.ratios.groupedHit),
          ['ratio grouped hit / raw MGET of entry + generation', `${hit.groupedVsRawGroupedMget.p50}x`, '', `${hit.groupedVsRawGroupedMget.p99}x`, '', '', ''],
          [
            'target (each kit path / raw GET)',
            `<= ${TARGETS.hitP50Ratio}x ${verdict(Math.max(hit.ratios.cacheAsideHit.p50, hit.ratios.groupedHit.p50) <= TARGETS.hitP50Ratio)}`,
            '',
            `<= ${TARGETS.hitP99Ratio}x ${verdict(Math.max(hit.ratios.cacheAsideHit.p99, hit.ratios.groupedHit.p99) <= TARGETS.hitP99Ratio)}`,
            '',
            '',
            '',
          ],
        ],
      ),
    );
    console.log(`\nSame on loopback memcached (~${memcachedHit.valueBytes} B entry: the raw paths read the kit's own entries, same keys and bytes, each read checked)`);
    console.log(
      table(
        ['path', 'p50 us', 'p90 us', 'p99 us', 'mean us', 'ops/s', 'cpu us/op'],
        [
          latencyRow('raw client gets', memcachedHit.rawGets),
          latencyRow('raw client gets + JSON.parse', memcachedHit.rawGetsAndParse),
          latencyRow('raw client gets of entry + generation', memcachedHit.rawGroupedGets),
          latencyRow('kit item hit', memcachedHit.cacheAsideHit),
          latencyRow('kit grouped hit', memcachedHit.groupedHit),
          ['ratio item hit / raw gets', `${memcachedHit.ratios.cacheAsideHit.p50}x`, '', `${memcachedHit.ratios.cacheAsideHit.p99}x`, '', '', ''],
          ['ratio item hit / raw gets + JSON.parse', `${memcachedHit.ratios.cacheAsideHit.p50VsGetAndParse}x`, '', `${memcachedHit.ratios.cacheAsideHit.p99VsGetAndParse}x`, '', '', ''],
          ['ratio grouped hit / raw gets', `${memcachedHit.ratios.groupedHit.p50}x`, '', `${memcachedHit.ratios.groupedHit.p99}x`, '', '', ''],
          ['ratio grouped hit / raw gets of entry + generation', `${memcachedHit.groupedVsRawGroupedGets.p50}x`, '', `${memcachedHit.groupedVsRawGroupedGets.p99}x`, '', '', ''],
          [
            'target (each kit path / raw gets)',
            `<= ${TARGETS.hitP50Ratio}x ${verdict(Math.max(memcachedHit.ratios.cacheAsideHit.p50, memcachedHit.ratios.groupedHit.p50) <= TARGETS.hitP50Ratio)}`,
            '',
            `<= ${TARGETS.hitP99Ratio}x ${verdict(Math.max(memcachedHit.ratios.cacheAsideHit.p99, memcachedHit.ratios.groupedHit.p99) <= TARGETS.hitP99Ratio)}`,
            '',
            '',
            '',
          ],
        ],
      ),
    );
    console.log(`\nOrigin loads under concurrent misses of one key (origin takes 50 ms; ${STAMPEDE_LEVELS.join(', ')} callers; fresh key per row)`);
    console.log(
      table(
        ['scenario', 'callers', 'processes', 'origin loads', 'wall ms', 'target'],
        stampede.map((s) => [
          s.scenario,
          s.callers,
          s.processes,
          s.originLoads,
          s.wallMs,
          // The kit loads once however many callers miss together; without single-flight, each loads.
          s.scenario === STAMPEDE_SCENARIOS.naive ? '' : `= ${STAMPEDE_KIT_LOADS} ${verdict(s.originLoads === STAMPEDE_KIT_LOADS)}`,
        ]),
      ),
    );
    console.log('\nBundles: esbuild minified CJS, platform node, target node24, @aws-sdk/* external; load = require() in 21 fresh node processes (median)');
    console.log(
      table(
        ['handler', 'bytes', 'KiB', 'load ms (wall)', 'load ms (cpu)'],
        Object.values(bundles).map((b: BundleResult) => [b.handler, b.bytes, round(b.bytes / 1024), b.loadMsMedian, b.loadCpuMsMedian]),
      ),
    );
    console.log("\nThe kit's own cost over the client: in each of 21 fresh processes, the client is loaded, then the kit's code on top of it (median of the second load)");
    console.log(
      table(
        ['kit handler vs client handler', '+bytes', '+KiB', 'kit load ms (wall)', 'kit load ms (cpu)', 'client load ms', 'target'],
        costs.map((c) => [
          `${c.kit} vs ${c.client}`,
          c.bytes,
          round(c.bytes / 1024),
          c.loadMs,
          c.loadCpuMs,
          c.clientLoadMs,
          `<= 25 KiB ${verdict(c.bytes <= TARGETS.kitBytes)}, <= 10 ms ${verdict(c.loadMs <= TARGETS.kitLoadMs)}`,
        ]),
      ),
    );
    console.log(`\nInline source map: ${sourceMap.handler}, 21 alternating fresh processes (the mapped one under --enable-source-maps)`);
    console.log(
      table(
        ['build', 'bytes', 'load ms (wall, median)', 'load ms (cpu, median)'],
        [
          ['without source map', sourceMap.bytesWithout, sourceMap.loadMsWithout, sourceMap.loadCpuMsWithout],
          ['inline source map + --enable-source-maps', sourceMap.bytesWith, sourceMap.loadMsWith, sourceMap.loadCpuMsWith],
          ['extra per cold start (median of run differences; wall IQR)', '', `${sourceMap.extraMsMedian} (${sourceMap.extraMsIqr.join(' to ')})`, sourceMap.extraCpuMsMedian],
        ],
      ),
    );

    const results = {
      generatedAt: new Date().toISOString(),
      node: process.version,
      loadAverage: { before: loadBefore, after: loadavg()[0] },
      targets: TARGETS,
      hitPath: { redis: hit, memcached: memcachedHit },
      stampede,
      bundles,
      kitCost: costs,
      sourceMap,
      durationMs: Date.now() - started,
    };
    const out = path.join(__dirname, 'results', 'data-cache.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nWrote ${path.relative(process.cwd(), out)} (${Math.round((Date.now() - started) / 1000)} s)`);
  } finally {
    await Promise.all([redis.stop(), memcached.stop()]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
