/**
 * The synth section of docs/benchmarks.md and its chart (docs/bench-synth.svg), from
 * bench/results/synth.json (bench/synth.bench.ts) and synth-profile.json (bench/synth-profile.ts).
 * Used by bench/report.ts.
 */
import { barChart } from './charts/bar-chart';
import { formatNumber } from './charts/svg';
import { fmt, median, ReportSink, table } from './report-format';

export interface ToolchainResult {
  readonly toolchain: string;
  readonly bareSeconds: readonly number[];
  readonly sampleSeconds: readonly number[];
  readonly pairRatios: readonly number[];
  readonly medianRatio: number;
  readonly bareCpuSeconds?: readonly number[];
  readonly sampleCpuSeconds?: readonly number[];
  readonly pairCpuRatios?: readonly number[];
  readonly medianCpuRatio?: number;
}

export interface SynthResults {
  readonly generatedAt?: string;
  readonly loadAverage?: { readonly before?: number; readonly after?: number };
  readonly pairs?: number;
  readonly toolchains?: readonly ToolchainResult[];
  readonly reference?: { readonly bareTsNodeSeconds?: readonly number[]; readonly bareTsNodeCpuSeconds?: readonly number[] };
}

/** bench/results/synth-profile.json (bench/synth-profile.ts): the sample app's CPU by phase. */
export interface SynthProfile {
  readonly generatedAt?: string;
  readonly runs?: number;
  readonly loadAverage?: { readonly before?: number; readonly after?: number };
  readonly totalCpuMs?: Record<string, number>;
  readonly partsCpuMs?: Record<string, number>;
  readonly constructWallMs?: { readonly warmBundleCache?: number; readonly coldBundleCache?: number; readonly noBundling?: number };
  readonly generatedModules?: Record<string, { readonly count: number; readonly megabytes: number }>;
}

export function synthSection(results: SynthResults | undefined, profile: SynthProfile | undefined, report: ReportSink): string {
  const toolchains = results?.toolchains ?? [];
  if (toolchains.length === 0) {
    report.gaps.push('synth.json missing or from the old single-toolchain bench: run `npm run bench:synth`');
    return '## Synth time\n\nNot measured yet: `npm run bench:synth`.\n';
  }
  const reference = results?.reference?.bareTsNodeSeconds ?? [];
  report.files['bench-synth.svg'] = barChart({
    title: 'cdk synth -q: sample stack vs a bare app, same toolchain',
    subtitle: `median of ${results?.pairs ?? toolchains[0].pairRatios.length} alternating pairs per toolchain (dots: each run)`,
    groups: toolchains.map((t) => t.toolchain),
    series: [
      { name: 'bare app (1 empty stack)', values: toolchains.map((t) => median(t.bareSeconds)), samples: toolchains.map((t) => t.bareSeconds) },
      { name: 'sample (CatalogStack + AiGatewayStack)', values: toolchains.map((t) => median(t.sampleSeconds)), samples: toolchains.map((t) => t.sampleSeconds) },
    ],
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
      ['toolchain (both apps)', 'bare s, wall (cpu)', 'sample s, wall (cpu)', 'sample / bare, cpu', 'sample / bare, wall', 'pair ratios, cpu', 'pair ratios, wall'],
      [
        ...toolchains.map((t) => [
          t.toolchain,
          `${fmt(median(t.bareSeconds))} (${t.bareCpuSeconds ? fmt(median(t.bareCpuSeconds)) : 'n/a'})`,
          `${fmt(median(t.sampleSeconds))} (${t.sampleCpuSeconds ? fmt(median(t.sampleCpuSeconds)) : 'n/a'})`,
          `**${fmt(t.medianCpuRatio)}**`,
          fmt(t.medianRatio),
          (t.pairCpuRatios ?? []).map((r) => formatNumber(r)).join(', '),
          t.pairRatios.map((r) => formatNumber(r)).join(', '),
        ]),
        ...(reference.length
          ? [[
              'reference only: bare app as `cdk init` runs it (ts-node, validation on)',
              `${fmt(median(reference))} (${results?.reference?.bareTsNodeCpuSeconds ? fmt(median(results.reference.bareTsNodeCpuSeconds)) : 'n/a'})`,
              '', '', '', '', '',
            ]]
          : []),
      ],
    ),
    '',
    '`cdk synth -q` end to end (CLI included), each run into a fresh output directory. The sample app',
    'synthesizes two stacks (CatalogStack and AiGatewayStack: nine handlers) and runs the five cdk-nag packs',
    '(AwsSolutions, Serverless, NIST 800-53 R5, PCI DSS 3.2.1, HIPAA Security; bin/nag-packs.ts), except in the row',
    'marked `-c nag=off`. Both apps of a row run on the same toolchain: tsx transpiling on load (how `npx cdk',
    'synth` runs the sample, scripts/run-app.js), or compiled by tsc beforehand and run by node. The bare app is',
    'one empty stack with the sample\'s cdk.json feature flags. Each toolchain is measured with a **warm** handler',
    'bundle cache (every handler unchanged since the comparison\'s warm-up run, so copied, not rebuilt: the usual',
    'case while working on a stack) and a **cold** one (a new empty cache folder per run: every handler bundled',
    'by esbuild, as on a first synth or in CI). aws-cdk-lib\'s built-in CloudFormation validation (a WebAssembly',
    'validator that costs seconds of CPU on first use in a process) is set alike in both apps: off',
    '(`CDK_VALIDATION=false`; the sample app ships with it off, CI runs cfn-lint over every template instead),',
    'and on in both for the last tsx row. Runs come in pairs that alternate which app goes first, and the ratio',
    'is the median of the per-pair ratios, so load from other work on the machine falls on both apps alike.',
    'CPU time (user + system of the CLI and the app it waits for) is the steadier figure on a busy host, where',
    'wall time mostly measures waiting for a core; esbuild\'s own process is not a waited-for child, so a cold',
    'cache shows mostly in wall time. ts-node, which `cdk init` sets up and which type-checks while it loads, is',
    'shown for reference only: comparing it with the sample on tsx would measure the toolchains, not the kit.',
    '',
    ...synthCuts(toolchains, profile),
  ].join('\n');
}

/** Where the sample's synth time goes (bench/synth-profile.ts), what was cut, and what the target left open. */
function synthCuts(toolchains: readonly ToolchainResult[], profile: SynthProfile | undefined): string[] {
  const find = (name: string) => toolchains.find((t) => t.toolchain === name);
  const off = find('tsx, warm bundle cache');
  const on = find('tsx, warm bundle cache, built-in validation on in both');
  const cpu = (xs: readonly number[] | undefined) => (xs && xs.length ? median(xs) : undefined);
  const wall = (xs: readonly number[] | undefined) => (xs && xs.length ? median(xs) : undefined);
  const lines = ["### Where the sample's synth time goes, and what was cut", ''];
  const parts = profile?.partsCpuMs;
  if (parts && profile?.totalCpuMs) {
    lines.push(
      `In-process CPU of the sample app (both stacks, precompiled, warm bundle cache), median of ${profile.runs ?? '?'} fresh processes per`,
      `variant (\`npm run bench:synth-profile\`, ${profile.generatedAt ?? '?'}, 1-min load average ${fmt(profile.loadAverage?.before)}): ` +
        `**${fmt(profile.totalCpuMs.full)} ms**, against ${fmt(profile.totalCpuMs.bare)} ms for the bare app. The CLI around it costs the same`,
      'in both arms (about the bare row\'s whole CPU time), which is why the end-to-end ratio cannot fall far even if the app got much cheaper.',
      'Each part below is a difference of two medians over separate processes: between profile runs on this shared host they moved by',
      'up to about 0.2 s (tree metadata measured anywhere from 0 to 0.2 s); cdk-nag (its load plus its validation) was the largest',
      'part in every run.',
      '',
      table(
        ['part', 'CPU ms'],
        Object.entries(parts).map(([name, ms]) => [name, fmt(ms)]),
      ),
      '',
    );
    const mods = profile.generatedModules;
    if (mods?.full && mods['no-nag']) {
      lines.push(
        `cdk-nag's rules test each resource with \`instanceof\` against the L1 classes of every service they cover, and aws-cdk-lib loads a`,
        `service's L1 module on first use: with nag the app loads ${mods.full.count} L1 modules (${fmt(mods.full.megabytes)} MB of JavaScript),`,
        `without it ${mods['no-nag'].count} (${fmt(mods['no-nag'].megabytes)} MB), AWS QuickSight's 5.3 MB among the extra ones.`,
        '',
      );
    }
  }
  if (off?.sampleCpuSeconds && on?.sampleCpuSeconds) {
    lines.push(
      `- Built-in CloudFormation validation: ${fmt(cpu(on.sampleCpuSeconds)! - cpu(off.sampleCpuSeconds)!)} s of CPU per synth of the sample`,
      '  (the two tsx rows). The sample app leaves it off (`CDK_VALIDATION=true` turns it on); cfn-lint in CI',
      '  checks every template instead, failing on errors and warnings.',
    );
  }
  for (const toolchain of ['tsx', 'precompiled (tsc)']) {
    const warm = find(`${toolchain}, warm bundle cache`);
    const cold = find(`${toolchain}, cold bundle cache`);
    if (warm && cold) {
      lines.push(
        `- Bundle cache, ${toolchain}: sample ${fmt(wall(cold.sampleSeconds))} s wall (${fmt(cpu(cold.sampleCpuSeconds))} s CPU) cold, ` +
          `${fmt(wall(warm.sampleSeconds))} s (${fmt(cpu(warm.sampleCpuSeconds))} s) warm; sample / bare ${fmt(cold.medianCpuRatio)}x CPU cold, ${fmt(warm.medianCpuRatio)}x warm.`,
      );
    }
  }
  const w = profile?.constructWallMs;
  if (w?.warmBundleCache !== undefined && w.coldBundleCache !== undefined) {
    lines.push(
      `  Wall time of constructing both stacks (the profile, one process, esbuild included): ${fmt(w.coldBundleCache)} ms cold, ` +
        `${fmt(w.warmBundleCache)} ms warm, ${fmt(w.noBundling)} ms with bundling skipped; the synth rows above ran on a host too busy for their wall times to show it.`,
    );
  }
  lines.push(
    '  A handler whose inputs (every file esbuild read, by content), esbuild version and options are unchanged since',
    '  an earlier synth is copied from the bundle cache (lib/functions/bundling.ts) instead of rebuilt; a changed',
    '  input rebuilds it (test/bundling.test.ts "bundle cache"). Warm, bundling costs the app a few tens of ms of CPU.',
    `- Target sample / bare ≤ 1.3x on the same toolchain: **not reached** (${toolchains
      .filter((t) => t.medianCpuRatio !== undefined && !t.toolchain.includes('nag=off'))
      .map((t) => `${t.toolchain}: ${fmt(t.medianCpuRatio)}x CPU`)
      .join('; ')}). What is left is the work of the app itself: cdk-nag (its rule modules and the service modules`,
    '  they load), loading the aws-cdk-lib modules the two stacks use, building about 200 resources, tree metadata',
    '  (tree.json) and writing the assembly, plus the CLI\'s own fixed cost in both arms.',
  );
  const nagOff = toolchains.find((t) => t.toolchain.includes('nag=off'));
  const precompiledWarm = find('precompiled (tsc), warm bundle cache');
  if (nagOff && precompiledWarm) {
    lines.push(
      `- Without the review (\`cdk synth -c nag=off\`, precompiled, warm bundle cache): sample / bare **${fmt(nagOff.medianCpuRatio)}x** CPU,`,
      `  against ${fmt(precompiledWarm.medianCpuRatio)}x with the five packs. So even an app with no validation at all stays above the`,
      '  target: what remains is loading aws-cdk-lib\'s modules for the services used, constructing and resolving two stacks',
      '  of about 200 resources and writing the assembly. The sample keeps the packs on by default (a synth is also a review; tests and CI',
      '  always run them); `-c nag=off` is there for a quick look at a template.',
    );
  }
  lines.push('');
  return lines;
}
