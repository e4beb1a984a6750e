/**
 * The model-route section of docs/benchmarks.md and its chart (docs/bench-ai.svg), from
 * bench/results/ai.json (bench/ai.bench.ts). Used by bench/report.ts and by the benchmark itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notMeasured } from './not-measured';
import { barChart } from './charts/bar-chart';

interface Path {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly ops: number;
}

export interface AiResults {
  readonly date: string;
  readonly node: string;
  readonly loadAverage: readonly number[];
  readonly upstreamDelayMs: number;
  readonly hit: Path;
  readonly miss: Path;
  readonly direct: Path;
  readonly hitSpeedupP50: number;
  readonly hitSpeedupP99: number;
  readonly missOverheadP50Ms: number;
  readonly concurrentIdentical: { readonly callers: number; readonly upstreamCalls: number; readonly outcomes: Record<string, number> };
  readonly targets: { readonly hitSpeedup: number; readonly upstreamCallsFor50: number; readonly missOverheadP50Ms: number };
}

export function aiChart(r: AiResults): string {
  return barChart({
    title: 'Model route: cache hit vs miss vs direct upstream call',
    subtitle: `fake OpenAI-compatible upstream answering after ${r.upstreamDelayMs} ms; dev server on loopback`,
    groups: ['p50', 'p99'],
    series: [
      { name: 'cache hit', values: [r.hit.p50Ms, r.hit.p99Ms] },
      { name: 'miss through the gateway', values: [r.miss.p50Ms, r.miss.p99Ms] },
      { name: 'direct upstream call', values: [r.direct.p50Ms, r.direct.p99Ms] },
    ],
    yLabel: 'ms',
    scale: 'log',
    notes: [`hit ${r.hitSpeedupP50}x faster than a miss at p50; miss overhead ${r.missOverheadP50Ms} ms at p50; ${r.concurrentIdentical.upstreamCalls} upstream call for ${r.concurrentIdentical.callers} identical concurrent requests`],
  });
}

/** The markdown section; adds `bench-ai.svg` to `report.files`, or a gap when there are no results. */
export function aiSection(resultsDir: string, report: { files: Record<string, string>; gaps: string[] }): string {
  const file = path.join(resultsDir, 'ai.json');
  if (!fs.existsSync(file)) return notMeasured('Model routes', 'ai.json', 'bench:ai', report);
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as AiResults;
  report.files['bench-ai.svg'] = aiChart(r);
  const ok = (met: boolean) => (met ? 'met' : '**missed**');
  return [
    '## Model routes (AI gateway)',
    '',
    `\`npm run bench:ai\`, ${r.date}, node ${r.node}, 1-min load average ${r.loadAverage.join(' → ')}: the dev server's`,
    `model routes in front of an OpenAI-compatible fake upstream answering after ${r.upstreamDelayMs} ms, keep-alive HTTP on loopback.`,
    'Misses and direct calls are interleaved pair by pair, so machine noise falls on both alike.',
    '',
    '![Model route latency: cache hit, miss, direct upstream call](bench-ai.svg)',
    '',
    '| path | p50 ms | p90 ms | p99 ms | samples |',
    '|:--|--:|--:|--:|--:|',
    `| cache hit | ${r.hit.p50Ms} | ${r.hit.p90Ms} | ${r.hit.p99Ms} | ${r.hit.ops} |`,
    `| cache miss through the gateway | ${r.miss.p50Ms} | ${r.miss.p90Ms} | ${r.miss.p99Ms} | ${r.miss.ops} |`,
    `| direct upstream call | ${r.direct.p50Ms} | ${r.direct.p90Ms} | ${r.direct.p99Ms} | ${r.direct.ops} |`,
    '',
    '| measure | result | target | |',
    '|:--|--:|--:|:--|',
    `| hit vs miss at p50 | ${r.hitSpeedupP50}x | ≥ ${r.targets.hitSpeedup}x | ${ok(r.hitSpeedupP50 >= r.targets.hitSpeedup)} |`,
    `| hit vs miss at p99 | ${r.hitSpeedupP99}x | | |`,
    `| gateway overhead of a miss at p50 | ${r.missOverheadP50Ms} ms | ≤ ${r.targets.missOverheadP50Ms} ms | ${ok(r.missOverheadP50Ms <= r.targets.missOverheadP50Ms)} |`,
    `| upstream calls for ${r.concurrentIdentical.callers} identical concurrent requests | ${r.concurrentIdentical.upstreamCalls} | ${r.targets.upstreamCallsFor50} | ${ok(r.concurrentIdentical.upstreamCalls === r.targets.upstreamCallsFor50)} |`,
    '',
  ].join('\n');
}
