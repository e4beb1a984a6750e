/**
 * The scale section of docs/benchmarks.md and its chart (docs/bench-scale.svg), from
 * bench/results/scale.json (bench/scale.bench.ts). Used by bench/report.ts and the benchmark.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { notMeasured } from '../not-measured';
import { barChart } from '../charts/bar-chart';
import { formatNumber } from '../charts/svg';

export interface ScaleTemplate {
  readonly file: string;
  readonly nested: boolean;
  readonly resources: number;
  readonly bytes: number;
}

export interface ScaleRun {
  readonly routes: number;
  readonly monitoring: boolean;
  readonly synthSeconds: number;
  readonly synthCpuSeconds: number;
  readonly peakRssMb: number;
  readonly templates: readonly ScaleTemplate[];
  readonly totalResources: number;
  /** The limit error that refused the synth. */
  readonly error?: string;
}

export interface ScaleResults {
  readonly generatedAt: string;
  readonly node: string;
  readonly loadAverage: readonly number[];
  readonly arms: ReadonlyArray<{ readonly monitoring: boolean; readonly baseline: ScaleRun; readonly runs: readonly ScaleRun[] }>;
}

const root = (run: ScaleRun) => run.templates.find((t) => !t.nested);
const largestNested = (run: ScaleRun) => run.templates.filter((t) => t.nested).sort((a, b) => b.resources - a.resources)[0];
/** Resources each route adds: against the 4-route run of the same arm, so fixed costs cancel. */
const perRoute = (run: ScaleRun, baseline: ScaleRun) => (run.totalResources - baseline.totalResources) / (run.routes - baseline.routes);
const kb = (bytes: number) => `${Math.round(bytes / 1024)} KB`;

/** The markdown table of every run. */
export function scaleTable(r: ScaleResults): string {
  const lines = [
    '| monitoring | routes | resources per route | resources in the root | nested stacks | largest nested stack | largest template | synth s | synth CPU s | peak RSS MB |',
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const arm of r.arms) {
    for (const run of arm.runs) {
      const on = arm.monitoring ? 'on' : 'off';
      if (run.error) {
        lines.push(`| ${on} | ${run.routes} | refused at synth: ${run.error.replace(/\|/g, '/').replace(/^.*?\] /, '').slice(0, 260)} | | | | | ${formatNumber(run.synthSeconds)} | ${formatNumber(run.synthCpuSeconds)} | ${Math.round(run.peakRssMb)} |`);
        continue;
      }
      const nested = run.templates.filter((t) => t.nested);
      const big = [...run.templates].sort((a, b) => b.bytes - a.bytes)[0];
      const largest = largestNested(run);
      lines.push(
        `| ${on} | ${run.routes} | ${perRoute(run, arm.baseline).toFixed(1)} | ${root(run)?.resources} | ${nested.length} | ` +
          `${largest ? largest.resources : '-'} | ${kb(big.bytes)} | ${formatNumber(run.synthSeconds)} | ${formatNumber(run.synthCpuSeconds)} | ${Math.round(run.peakRssMb)} |`,
      );
    }
  }
  return lines.join('\n');
}

export function scaleChart(r: ScaleResults): string {
  const sizes = r.arms[0].runs.map((run) => run.routes);
  const series = r.arms.flatMap((arm) => {
    const label = arm.monitoring ? 'monitoring on' : 'monitoring off';
    return [
      { name: `root stack, ${label}`, values: arm.runs.map((run) => (run.error ? undefined : root(run)?.resources)) },
      { name: `largest nested stack, ${label}`, values: arm.runs.map((run) => (run.error ? undefined : largestNested(run)?.resources ?? 0)) },
    ];
  });
  return barChart({
    title: 'Resources per template as the route table grows (CloudFormation allows 500)',
    subtitle: 'scale fixture: mixed methods, data- and edge-cached, public/IAM/Cognito/API-key routes; past 45 routes, one nested stack per first path segment',
    groups: sizes.map((n) => `${n} routes`),
    series,
    yLabel: 'resources',
    scale: 'linear',
    notes: r.arms.some((arm) => arm.runs.some((run) => run.error)) ? ['n/a: refused at synth by a limit check (see the table)'] : [],
  });
}

/** The markdown section; adds `bench-scale.svg` to `report.files`, or a gap when there are no results. */
export function scaleSection(resultsDir: string, report: { files: Record<string, string>; gaps: string[] }): string {
  const file = path.join(resultsDir, 'scale.json');
  if (!fs.existsSync(file)) return notMeasured('Scale (large route tables)', 'scale.json', 'bench:scale', report);
  const r = JSON.parse(fs.readFileSync(file, 'utf8')) as ScaleResults;
  report.files['bench-scale.svg'] = scaleChart(r);
  return [
    '## Scale (large route tables)',
    '',
    `\`npm run bench:scale\`, ${r.generatedAt}, node ${r.node}, 1-min load average ${r.loadAverage.map((l) => l.toFixed(2)).join(' → ')}.`,
    'The scale fixture (bench/scale/scale-fixture.ts): four routes per item path (GET, PUT, DELETE, POST with a body schema), five',
    'paths per first path segment, auth cycling public / IAM / Cognito / public with API key, GETs data-cached, up to 20 public GETs',
    'edge-cached. Each synth runs in a child process of its own (bundling on, warm bundle cache; no cdk-nag): synth seconds cover',
    "construct + synth (wall and CPU: the host is shared), peak RSS is the child process's. The limit check (lib/shared/limits.ts) renders",
    'each template once more: about 0.25 s of CPU at 200 routes, included. Resources per route are marginal, against a 4-route run of the same arm.',
    '',
    '![Resources in the root and the largest nested stack per table size](bench-scale.svg)',
    '',
    scaleTable(r),
    '',
  ].join('\n');
}
