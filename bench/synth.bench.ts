/**
 * `cdk synth -q` of the full sample stack against a bare app (one empty stack, cdk.json's feature
 * flags), each toolchain compared with itself:
 *   - tsx: both apps transpiled on load by tsx (how `npx cdk synth` runs the sample: scripts/run-app.js);
 *   - precompiled: both apps compiled by tsc beforehand, run by plain node;
 *   - reference only: the bare app as `cdk init` sets it up (ts-node, which type-checks on load).
 * aws-cdk-lib's built-in CloudFormation validation (a 9 MB WebAssembly validator, seconds of CPU
 * on its first use in a process) is set alike in both arms: off (CDK_VALIDATION=false; the sample
 * app ships with it off, CI runs cfn-lint instead), and on in both for one more tsx comparison.
 * Runs come in alternating pairs (bare then sample, then sample then bare, ...), each into a fresh
 * output directory, so machine noise falls on both arms alike; the ratio is the median of the
 * per-pair ratios, in wall time and in CPU time (user + system of the whole process tree, which a
 * busy host stretches far less). Each toolchain runs twice: with a warm handler bundle cache
 * (every handler unchanged since the comparison's warm-up run: copied, not rebuilt) and a cold one
 * (a new empty cache folder per run: every handler bundled by esbuild). One more comparison runs the
 * sample with `-c nag=off`: what the kit's stacks cost without the five cdk-nag packs' review.
 * Usage: npm run bench:synth [-- --pairs 5 --validation-pairs 3 --reference-runs 3]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bareApp, compileSample } from './synth-apps';
import { median } from './report-format';

const root = path.join(__dirname, '..');
const arg = (name: string, fallback: number) => (process.argv.includes(name) ? Number(process.argv[process.argv.indexOf(name) + 1]) : fallback);
const pairs = arg('--pairs', 5);
const referenceRuns = arg('--reference-runs', 3);
/** Pairs of the supplementary comparison with built-in validation on in both apps. */
const validationPairs = arg('--validation-pairs', 3);
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-synth-bench-'));
/** The bundle cache of the `warm` runs: the bench's own, so what an earlier run left cannot count. */
const warmCache = path.join(work, 'warm-bundle-cache');

interface Arm {
  readonly name: string;
  readonly cwd: string;
  /** The app command given to `cdk synth --app`. */
  readonly app: string;
  /** CDK_VALIDATION for the run: aws-cdk-lib's built-in CloudFormation validation on or off. */
  readonly validation: boolean;
  /**
   * The handler bundle cache (lib/functions/bundling.ts) the run sees: `warm`, one folder for the
   * whole comparison, filled by its warm-up run (handlers unchanged since the last synth, the
   * usual case while working on a stack); `cold`, a new empty folder for every run (first synth
   * on a machine, or every handler changed).
   */
  readonly bundleCache: 'warm' | 'cold';
  /** Context for `cdk synth -c` (the sample's `nag=off`). */
  readonly context?: readonly string[];
}

/**
 * CPU seconds (user + system) used so far by this process's finished children and their own
 * waited-for children (Linux /proc/self/stat cutime + cstime): what a synth costs in CPU, which a
 * busy host stretches in wall time but not in CPU time.
 */
function childrenCpuSeconds(): number {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // After "pid (comm) ", field 3 is state: cutime and cstime are fields 16 and 17 (1-based).
  const ticks = Number(fields[16 - 3]) + Number(fields[17 - 3]);
  return ticks / 100;
}

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

let run = 0;
function timeSynth(arm: Arm): Sample {
  const output = path.join(work, `out-${run++}`);
  const cpuBefore = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  execFileSync(cdk, ['synth', '-q', '--app', arm.app, '--output', output, ...(arm.context ?? []).flatMap((c) => ['-c', c])], {
    cwd: arm.cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: '1',
      CDK_VALIDATION: String(arm.validation),
      CDK_CACHEABLE_API_BUNDLE_CACHE: arm.bundleCache === 'warm' ? warmCache : fs.mkdtempSync(path.join(work, 'cold-cache-')),
    },
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = childrenCpuSeconds() - cpuBefore;
  fs.rmSync(output, { recursive: true, force: true });
  return { wall, cpu };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export interface ToolchainResult {
  readonly toolchain: string;
  /** Wall-clock seconds of each run. */
  readonly bareSeconds: number[];
  readonly sampleSeconds: number[];
  /** sample / bare of each alternating pair (wall). */
  readonly pairRatios: number[];
  readonly medianRatio: number;
  /** CPU seconds (user + system, whole process tree: CLI, app, esbuild) of each run. */
  readonly bareCpuSeconds: number[];
  readonly sampleCpuSeconds: number[];
  readonly pairCpuRatios: number[];
  readonly medianCpuRatio: number;
}

function comparePairs(toolchain: string, bare: Arm, sample: Arm, count = pairs): ToolchainResult {
  timeSynth(bare); // warm-up of both (file cache; the warm bundle cache), not counted
  timeSynth(sample);
  const bareSeconds: number[] = [];
  const sampleSeconds: number[] = [];
  const bareCpuSeconds: number[] = [];
  const sampleCpuSeconds: number[] = [];
  for (let i = 0; i < count; i++) {
    const order = i % 2 === 0 ? [bare, sample] : [sample, bare];
    const [first, second] = order.map(timeSynth);
    const [b, s] = i % 2 === 0 ? [first, second] : [second, first];
    bareSeconds.push(round(b.wall));
    sampleSeconds.push(round(s.wall));
    bareCpuSeconds.push(round(b.cpu));
    sampleCpuSeconds.push(round(s.cpu));
    console.log(
      `  ${toolchain} pair ${i + 1}: bare ${b.wall.toFixed(2)} s (cpu ${b.cpu.toFixed(2)}), sample ${s.wall.toFixed(2)} s (cpu ${s.cpu.toFixed(2)}), ` +
        `ratio ${(s.wall / b.wall).toFixed(2)} (cpu ${(s.cpu / b.cpu).toFixed(2)}) (load ${os.loadavg()[0].toFixed(1)})`,
    );
  }
  const pairRatios = sampleSeconds.map((s, i) => round(s / bareSeconds[i]));
  const pairCpuRatios = sampleCpuSeconds.map((s, i) => round(s / bareCpuSeconds[i]));
  return {
    toolchain,
    bareSeconds,
    sampleSeconds,
    pairRatios,
    medianRatio: round(median(pairRatios)),
    bareCpuSeconds,
    sampleCpuSeconds,
    pairCpuRatios,
    medianCpuRatio: round(median(pairCpuRatios)),
  };
}

function main(): void {
  const loadBefore = os.loadavg()[0];
  const bare = bareApp(work);
  const sampleJs = compileSample(work);
  const results: ToolchainResult[] = [];
  console.log(`cdk synth -q, ${pairs} alternating pairs per toolchain (load average ${loadBefore.toFixed(1)})`);
  const toolchains = {
    tsx: { bare: 'node run-app.js', sample: 'node scripts/run-app.js' },
    'precompiled (tsc)': { bare: `node ${path.join(bare, 'dist', 'bare.js')}`, sample: `node ${sampleJs}` },
  };
  const comparisons: Array<{ toolchain: keyof typeof toolchains; bundleCache: Arm['bundleCache']; validation: boolean; count: number; nagOff?: boolean }> = [
    { toolchain: 'tsx', bundleCache: 'warm', validation: false, count: pairs },
    { toolchain: 'tsx', bundleCache: 'cold', validation: false, count: pairs },
    { toolchain: 'precompiled (tsc)', bundleCache: 'warm', validation: false, count: pairs },
    { toolchain: 'precompiled (tsc)', bundleCache: 'cold', validation: false, count: pairs },
    { toolchain: 'tsx', bundleCache: 'warm', validation: true, count: validationPairs },
    // What the kit costs without the review: the sample's `-c nag=off` (how much of the gap cdk-nag is).
    { toolchain: 'precompiled (tsc)', bundleCache: 'warm', validation: false, count: pairs, nagOff: true },
  ];
  for (const c of comparisons) {
    if (c.count === 0) continue;
    const label = `${c.toolchain}, ${c.bundleCache} bundle cache${c.validation ? ', built-in validation on in both' : ''}${c.nagOff ? ', sample with -c nag=off (no cdk-nag packs)' : ''}`;
    const apps = toolchains[c.toolchain];
    results.push(
      comparePairs(
        label,
        { name: 'bare', cwd: bare, app: apps.bare, validation: c.validation, bundleCache: c.bundleCache },
        { name: 'sample', cwd: root, app: apps.sample, validation: c.validation, bundleCache: c.bundleCache, context: c.nagOff ? ['nag=off'] : [] },
        c.count,
      ),
    );
  }
  const tsNodeSeconds: number[] = [];
  const tsNodeCpuSeconds: number[] = [];
  for (let i = 0; i < referenceRuns; i++) {
    const sample = timeSynth({ name: 'bare ts-node', cwd: bare, app: 'npx ts-node --prefer-ts-exts bin/bare.ts', validation: true, bundleCache: 'warm' });
    tsNodeSeconds.push(round(sample.wall));
    tsNodeCpuSeconds.push(round(sample.cpu));
  }

  console.log('\n| toolchain | bare s (cpu s) | sample s (cpu s) | sample / bare, wall | sample / bare, cpu | cpu pair ratios |');
  console.log('| :-- | --: | --: | --: | --: | :-- |');
  for (const r of results) {
    console.log(
      `| ${r.toolchain} | ${round(median(r.bareSeconds))} (${round(median(r.bareCpuSeconds))}) | ${round(median(r.sampleSeconds))} (${round(median(r.sampleCpuSeconds))}) ` +
        `| ${r.medianRatio} | ${r.medianCpuRatio} | ${r.pairCpuRatios.join(', ')} |`,
    );
  }
  console.log(`| reference: bare app as cdk init runs it (ts-node, validation on) | ${round(median(tsNodeSeconds))} (${round(median(tsNodeCpuSeconds))}) | | | | |`);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(
    path.join(__dirname, 'results', 'synth.json'),
    JSON.stringify(
      { generatedAt: new Date().toISOString(), node: process.version, loadAverage: { before: loadBefore, after: os.loadavg()[0] }, pairs, toolchains: results, reference: { bareTsNodeSeconds: tsNodeSeconds, bareTsNodeCpuSeconds: tsNodeCpuSeconds } },
      null,
      2,
    ) + '\n',
  );
  fs.rmSync(work, { recursive: true, force: true });
}

main();
