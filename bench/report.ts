/**
 * Benchmark report: `npx tsx bench/report.ts` (npm run bench:report).
 *
 * Reads bench/results/*.json (data-cache.json from bench/data-cache.bench.ts, synth.json from
 * bench/synth.bench.ts) and writes docs/benchmarks.md with hand-written SVG charts:
 * docs/bench-hit-path.svg, docs/bench-stampede.svg, docs/bench-synth.svg. A result that is
 * missing, or lacks what a chart needs, is said so in the report rather than guessed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { aiSection } from './ai-report';
import { barChart, BarSeries } from './charts/bar-chart';
import { formatNumber } from './charts/svg';

// ------------------------------------------------------------------------------------------
// Shapes of the results, as far as the report reads them (fields optional: old runs lack some).
// ------------------------------------------------------------------------------------------

interface Latency {
  readonly ops?: number;
  readonly p50Us?: number;
  readonly p90Us?: number;
  readonly p99Us?: number;
  readonly meanUs?: number;
  readonly opsPerSec?: number;
}

interface StampedeRow {
  readonly scenario: string;
  readonly callers: number;
  readonly originLoads: number;
  readonly wallMs?: number;
}

interface DataCacheResults {
  readonly generatedAt?: string;
  readonly node?: string;
  readonly loadAverage?: { readonly before?: number; readonly after?: number };
  readonly targets?: { readonly hitP50Ratio?: number; readonly hitP99Ratio?: number; readonly kitBytes?: number; readonly kitLoadMs?: number };
  readonly hitPath?: {
    readonly redis?: { readonly valueBytes?: number; readonly rawGet?: Latency; readonly rawGetAndParse?: Latency; readonly cacheAsideHit?: Latency; readonly p50Ratio?: number; readonly p99Ratio?: number };
    readonly memcached?: { readonly rawGets?: Latency; readonly cacheAsideHit?: Latency; readonly p50Ratio?: number; readonly p99Ratio?: number };
  };
  readonly stampede?: readonly StampedeRow[];
  readonly bundles?: Record<string, { readonly handler: string; readonly bytes: number; readonly loadMsMedian: number }>;
  readonly kitCost?: ReadonlyArray<{ readonly kit: string; readonly client: string; readonly bytes: number; readonly loadMs: number }>;
}

interface SynthResults {
  readonly runs?: number;
  readonly bareSeconds?: readonly number[];
  readonly sampleSeconds?: readonly number[];
  readonly ratio?: number;
}

export interface ReportOptions {
  readonly resultsDir: string;
  readonly docsDir: string;
}

export interface Report {
  /** File name (in docsDir) to contents. */
  readonly files: Record<string, string>;
  /** What the results lack for the charts, said to whoever runs the report. */
  readonly gaps: string[];
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value: number | undefined, unit = '') => (value === undefined ? 'n/a' : `${formatNumber(value)}${unit}`);
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const table = (headers: string[], rows: Array<Array<string | number>>, align: string[] = headers.map((_, i) => (i === 0 ? ':--' : '--:'))) =>
  [row(headers), row(align), ...rows.map(row)].join('\n');

function readJson<T>(file: string): T | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

// ------------------------------------------------------------------------------------------
// Sections
// ------------------------------------------------------------------------------------------

function hitPathSection(results: DataCacheResults | undefined, report: { files: Record<string, string>; gaps: string[] }): string {
  const redis = results?.hitPath?.redis;
  const memcached = results?.hitPath?.memcached;
  if (!redis?.rawGet || !redis.cacheAsideHit) {
    report.gaps.push('data-cache.json has no hitPath.redis: run `npx tsx bench/data-cache.bench.ts`');
    return '## Data-cache hit path\n\nNot measured yet: run `npx tsx bench/data-cache.bench.ts` (needs redis-server and memcached).\n';
  }
  const paths: Array<[string, Latency | undefined]> = [
    ['Redis: raw iovalkey GET', redis.rawGet],
    ['Redis: raw GET + JSON.parse', redis.rawGetAndParse],
    ['Redis: kit cacheAside hit', redis.cacheAsideHit],
    ['Memcached: raw client gets', memcached?.rawGets],
    ['Memcached: kit cacheAside hit', memcached?.cacheAsideHit],
  ].filter(([, latency]) => latency !== undefined) as Array<[string, Latency]>;
  const hasP90 = paths.every(([, l]) => l?.p90Us !== undefined);
  if (!hasP90) {
    report.gaps.push(
      'hit path: no p90. Add `p90Us: round(percentile(sorted, 90))` to LatencySummary/summarize() in bench/data-cache/stats.ts ' +
        '(every hitPath.*.{rawGet,rawGetAndParse,cacheAsideHit,rawGets} then carries it)',
    );
  }
  const percentiles: Array<['p50' | 'p90' | 'p99', keyof Latency]> = [['p50', 'p50Us'], ['p90', 'p90Us'], ['p99', 'p99Us']];
  const series: BarSeries[] = paths.map(([name, latency]) => ({ name, values: percentiles.map(([, key]) => latency?.[key]) }));
  report.files['bench-hit-path.svg'] = barChart({
    title: 'Data-cache hit path vs a raw client GET',
    subtitle: `~${redis.valueBytes ?? 1000} B value, ${fmt(redis.rawGet.ops)} sequential ops per path, interleaved, loopback servers`,
    groups: percentiles.map(([p]) => p),
    series,
    yLabel: 'latency per operation (µs)',
    notes: hasP90 ? [] : ['p90 was not recorded by this run (n/a): see "What the results lack".'],
  });
  const t = results?.targets ?? {};
  const verdict = (ratio: number | undefined, target: number | undefined) =>
    ratio === undefined || target === undefined ? '' : ratio <= target ? `≤ ${target}x: met` : `≤ ${target}x: **missed**`;
  return [
    '## Data-cache hit path',
    '',
    '![Hit path latency: p50, p90, p99 per path](bench-hit-path.svg)',
    '',
    table(
      ['path', 'p50 µs', 'p90 µs', 'p99 µs', 'mean µs', 'ops/s'],
      paths.map(([name, l]) => [name, fmt(l?.p50Us), fmt(l?.p90Us), fmt(l?.p99Us), fmt(l?.meanUs), fmt(l?.opsPerSec)]),
    ),
    '',
    table(
      ['kit hit / raw GET', 'p50', 'p99'],
      [
        ['Redis', `${fmt(redis.p50Ratio)}x ${verdict(redis.p50Ratio, t.hitP50Ratio)}`, `${fmt(redis.p99Ratio)}x ${verdict(redis.p99Ratio, t.hitP99Ratio)}`],
        ...(memcached ? [['Memcached', `${fmt(memcached.p50Ratio)}x`, `${fmt(memcached.p99Ratio)}x`]] : []),
      ],
    ),
    '',
    'The kit\'s hit does a GET of the entry and of its group generation in one round trip, then decodes the',
    'entry header and the JSON value; the raw paths do one GET (and a JSON.parse). Every path runs on the',
    'same connection type, interleaved per operation, so machine noise falls on all of them alike.',
    '',
  ].join('\n');
}

function stampedeSection(results: DataCacheResults | undefined, report: { files: Record<string, string>; gaps: string[] }): string {
  const rows = results?.stampede ?? [];
  if (rows.length === 0) {
    report.gaps.push('data-cache.json has no stampede rows');
    return '## Origin loads under concurrent misses\n\nNot measured yet.\n';
  }
  const levels = [...new Set(rows.map((r) => r.callers))].sort((a, b) => a - b);
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  if (levels.length < 3) {
    report.gaps.push(
      `stampede: ${levels.length} concurrency level (${levels.join(', ')} callers); the loads-vs-concurrency chart needs several. ` +
        'Run measureStampede() for callers in [1, 10, 50, 100, 200, 500] and append every row to `stampede` ' +
        '(same fields: scenario, callers, originLoads, wallMs; keep the scenario names identical across levels)',
    );
  }
  const at = (scenario: string, callers: number) => rows.find((r) => r.scenario === scenario && r.callers === callers);
  report.files['bench-stampede.svg'] = barChart({
    title: 'Origin loads caused by concurrent misses of one key',
    subtitle: 'origin takes 50 ms; without single-flight every miss loads',
    groups: levels.map((c) => `${c} callers`),
    series: scenarios.map((scenario) => ({ name: scenario, values: levels.map((c) => at(scenario, c)?.originLoads) })),
    yLabel: 'origin loads',
    // Linear on purpose: the point is 200 loads against 1.
    scale: 'linear',
    notes: levels.length < 3 ? [`Measured at ${levels.join(', ')} concurrent callers only: see "What the results lack".`] : [],
  });
  return [
    '## Origin loads under concurrent misses',
    '',
    '![Origin loads per concurrency level, with and without single-flight](bench-stampede.svg)',
    '',
    table(['scenario', 'callers', 'origin loads', 'wall ms'], rows.map((r) => [r.scenario, r.callers, r.originLoads, fmt(r.wallMs)])),
    '',
    'In one process, concurrent gets of a key share one lookup and one load (single-flight); across',
    'processes, the fill lease (`SET NX PX` on `<key>#l`) lets one caller load while the others wait for',
    'its value.',
    '',
  ].join('\n');
}

function synthSection(results: SynthResults | undefined, report: { files: Record<string, string>; gaps: string[] }): string {
  const bare = results?.bareSeconds ?? [];
  const sample = results?.sampleSeconds ?? [];
  if (bare.length === 0 || sample.length === 0) {
    report.gaps.push('synth.json missing or empty: run `npx tsx bench/synth.bench.ts --runs 3`');
    return '## Synth time\n\nNot measured yet: `npx tsx bench/synth.bench.ts --runs 3`.\n';
  }
  report.files['bench-synth.svg'] = barChart({
    title: 'cdk synth -q: sample stack vs a bare cdk init app',
    subtitle: `median of ${results?.runs ?? bare.length} alternating runs (dots: each run)`,
    groups: ['bare app (ts-node, 1 empty stack)', 'CatalogStack (tsx, esbuild, cdk-nag)'],
    series: [{ name: 'median seconds', values: [median(bare), median(sample)], samples: [bare, sample] }],
    yLabel: 'seconds',
    format: (v) => formatNumber(v),
    width: 620,
  });
  return [
    '## Synth time',
    '',
    '![Synth time of the sample stack against a bare app](bench-synth.svg)',
    '',
    table(
      ['app', 'median s', 'runs (s)'],
      [
        ['bare `cdk init` app (ts-node, one empty stack)', fmt(median(bare)), bare.map((s) => formatNumber(s)).join(', ')],
        ['sample CatalogStack (tsx, in-process esbuild, cdk-nag)', fmt(median(sample)), sample.map((s) => formatNumber(s)).join(', ')],
      ],
    ),
    '',
    `Ratio sample / bare: ${fmt(median(sample) / median(bare))}. The bare app is what \`cdk init\` sets up: ts-node`,
    'type-checks while it runs, which the sample app leaves to `npm run typecheck` (tsx only transpiles).',
    'Runs alternate between the two apps so that machine noise hits both alike; on a shared host the',
    'spread between runs is large, which the dots show.',
    '',
  ].join('\n');
}

function bundleSection(results: DataCacheResults | undefined): string {
  const bundles = Object.values(results?.bundles ?? {});
  if (bundles.length === 0) return '';
  const lines = [
    '## Handler bundles',
    '',
    'esbuild, minified CJS, platform node, target node24, `@aws-sdk/*` external; load = median `require()`',
    'of the bundle over fresh `node` processes.',
    '',
    table(['handler', 'bytes', 'KiB', 'load ms'], bundles.map((b) => [b.handler, b.bytes, fmt(b.bytes / 1024), fmt(b.loadMsMedian)])),
    '',
  ];
  if (results?.kitCost?.length) {
    lines.push(
      table(['kit handler vs client-only handler', '+bytes', '+load ms'], results.kitCost.map((c) => [`${c.kit} vs ${c.client}`, c.bytes, fmt(c.loadMs)])),
      '',
    );
    if (results.kitCost.some((c) => c.loadMs < 0)) {
      lines.push('A negative load difference is noise: the kit handler loads the same client and more code.', '');
    }
  }
  return lines.join('\n');
}

/** Builds the report from the result files; writes nothing. */
export function buildReport(options: ReportOptions): Report {
  const report = { files: {} as Record<string, string>, gaps: [] as string[] };
  const dataCache = readJson<DataCacheResults>(path.join(options.resultsDir, 'data-cache.json'));
  const synth = readJson<SynthResults>(path.join(options.resultsDir, 'synth.json'));
  const known = new Set(['data-cache.json', 'synth.json', 'ai.json']);
  const others = fs.existsSync(options.resultsDir)
    ? fs.readdirSync(options.resultsDir).filter((f) => f.endsWith('.json') && !known.has(f)).sort()
    : [];

  const context: string[] = [];
  if (dataCache?.generatedAt) {
    const load = dataCache.loadAverage;
    context.push(
      `- data-cache: ${dataCache.generatedAt}, node ${dataCache.node ?? '?'}` +
        (load ? `, 1-min load average ${fmt(load.before)} → ${fmt(load.after)}` : ''),
    );
  }
  if (synth) context.push(`- synth: ${synth.runs ?? synth.bareSeconds?.length ?? 0} runs per app`);

  const sections = [
    '# Benchmarks',
    '',
    'Generated by `npm run bench:report` (bench/report.ts) from `bench/results/*.json`; rerun the benchmarks',
    '(`npx tsx bench/data-cache.bench.ts`, `npx tsx bench/synth.bench.ts --runs 3`) and then the report.',
    'Figures come from one machine at one time; compare ratios rather than absolute numbers.',
    '',
    ...(context.length ? ['Runs:', '', ...context, ''] : []),
    hitPathSection(dataCache, report),
    stampedeSection(dataCache, report),
    synthSection(synth, report),
    bundleSection(dataCache),
    aiSection(options.resultsDir, report),
  ];
  if (others.length > 0) {
    sections.push('## Other results', '', ...others.map((f) => `- \`bench/results/${f}\`: not charted by this report`), '');
  }
  if (report.gaps.length > 0) {
    sections.push('## What the results lack', '', ...report.gaps.map((g) => `- ${g}`), '');
  }
  report.files['benchmarks.md'] = sections.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
  return report;
}

export function main(root = path.join(__dirname, '..')): Report {
  const docsDir = path.join(root, 'docs');
  const report = buildReport({ resultsDir: path.join(__dirname, 'results'), docsDir });
  fs.mkdirSync(docsDir, { recursive: true });
  for (const [name, content] of Object.entries(report.files)) {
    fs.writeFileSync(path.join(docsDir, name), content);
    console.log(`wrote docs/${name}`);
  }
  for (const gap of report.gaps) console.warn(`missing: ${gap}`);
  return report;
}

if (require.main === module) main();
