/**
 * The coherence section of docs/benchmarks.md and its chart (docs/bench-coherence.svg), from
 * bench/results/coherence.json (bench/coherence.bench.ts). Used by bench/report.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notMeasured } from './not-measured';
import type { LayerReport as Layer } from '../test/coherence/coherence-sim';
import { barChart } from './charts/bar-chart';


interface ScenarioResult {
  readonly scenario: string;
  readonly seeds: number;
  readonly writes: number;
  readonly unconfirmedWrites: number;
  readonly data: Layer;
  readonly edge: Layer;
  readonly worstEdgePurgeMs: number;
  readonly worstStreamPurgeMs: number;
  readonly finalMismatches: number;
}

export interface CoherenceResults {
  readonly generatedAt: string;
  readonly node: string;
  readonly loadAverage?: { readonly before: number; readonly after: number } | readonly number[];
  readonly scenarios: readonly ScenarioResult[];
  readonly itemEdgeHitRatio: { readonly itemReads: number; readonly edgeHits: number; readonly hitRatio: number; readonly writes: number; readonly pathsPerWrite: number };
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** A chart label short enough for a bar group. */
function shortName(scenario: string): string {
  const known: Array<[RegExp, string]> = [
    [/control|no fault/, 'no fault'],
    [/hot keys/, 'hot keys'],
    [/frozen/, 'cache frozen'],
    [/killed/, 'killed, old snapshot'],
    [/overload/, 'overload'],
  ];
  return known.find(([pattern]) => pattern.test(scenario))?.[1] ?? scenario.split(/[(:,]/)[0].trim().slice(0, 20);
}

export function coherenceChart(r: CoherenceResults): string {
  return barChart({
    title: 'Worst staleness per layer and fault scenario (reads past the bound: 0)',
    subtitle: 'seeded simulation of the real CacheClient and dev edge; stale = a read that started after a write and returned an older value',
    groups: r.scenarios.map((s) => shortName(s.scenario)),
    series: [
      { name: 'data cache, after an API write', values: r.scenarios.map((s) => seconds(s.data.worstAfterApiWriteMs)) },
      { name: 'data cache, any writer (stream purge)', values: r.scenarios.map((s) => seconds(s.data.worstStalenessMs)) },
      { name: 'edge (data purge + invalidation)', values: r.scenarios.map((s) => seconds(s.edge.worstStalenessMs)) },
    ],
    yLabel: 's',
    notes: [`item edge hit ratio ${(r.itemEdgeHitRatio.hitRatio * 100).toFixed(1)} % at 10 reads per write`],
  });
}

/** The markdown section; adds `bench-coherence.svg` to `report.files`, or a gap when there are no results. */
export function coherenceSection(resultsDir: string, report: { files: Record<string, string>; gaps: string[] }): string {
  const file = path.join(resultsDir, 'coherence.json');
  if (!fs.existsSync(file)) return notMeasured('Coherence', 'coherence.json', 'bench:coherence', report);
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as CoherenceResults;
  report.files['bench-coherence.svg'] = coherenceChart(r);
  const edge = r.itemEdgeHitRatio;
  return [
    '## Coherence (caches that stay true)',
    '',
    `\`npm run bench:coherence\`, ${r.generatedAt}, node ${r.node}. Staleness is the time from a write's acknowledgement to a`,
    'read that started after it and still returned an older value; the bound per layer is the coherence contract of',
    '[lambda/runtime/cache/README.md](../lambda/runtime/cache/README.md#coherence-contract). Every read past its bound is a violation.',
    '',
    '![Worst staleness per layer and scenario](bench-coherence.svg)',
    '',
    '| scenario | seeds | writes | data worst s | data p99 s | data worst after an API write s | data violations | edge worst s | edge p99 s | edge violations | final mismatches |',
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...r.scenarios.map(
      (s) =>
        `| ${s.scenario} | ${s.seeds} | ${s.writes} | ${seconds(s.data.worstStalenessMs)} | ${seconds(s.data.p99StalenessMs)} | ${seconds(s.data.worstAfterApiWriteMs)} | ` +
        `${s.data.violations} | ${seconds(s.edge.worstStalenessMs)} | ${seconds(s.edge.p99StalenessMs)} | ${s.edge.violations} | ${s.finalMismatches} |`,
    ),
    '',
    `Item edge hit ratio under the sample's mix (10 reads per write over 20 items, dev edge over HTTP): **${(edge.hitRatio * 100).toFixed(1)} %**`,
    `(${edge.edgeHits} of ${edge.itemReads}; target ≥ 90 %), ${edge.pathsPerWrite} invalidation paths per write (\`/items\`, \`/items?*\`, \`/items/<id>\`).`,
    'With the former `/items*` path, which matched every item, the same run gave 20.3 %.',
    '',
  ].join('\n');
}
