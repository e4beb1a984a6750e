/**
 * Where the sample app's synth spends its CPU, phase by phase, the way `cdk synth` runs the app
 * (bin/app.ts: CatalogStack and AiGatewayStack, the five cdk-nag packs of bin/nag-packs.ts,
 * built-in validation off). Each variant runs in a fresh process (module caches would otherwise
 * favour later ones) and records CPU time (user + system, this process) at each milestone:
 *   aws-cdk-lib loaded -> cdk-nag loaded -> kit loaded -> both stacks constructed (bundling happens
 *   here: assets bundle as they are constructed) -> synthesized (nag validation, tree metadata,
 *   template resolution, assembly write).
 * Variants switch one thing off or change one cache, so each part is the difference of two
 * medians in CPU time: nag, tree metadata, bundling with a warm bundle cache, with a cold one,
 * and none. The bare app (one empty stack) is measured alike. esbuild's own process is not
 * counted in CPU (it is not a waited-for child); cold bundling is also given in wall time.
 * Usage: npm run bench:synth-profile [-- --runs 5] (writes bench/results/synth-profile.json)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compileSample } from './synth-apps';
import { median } from './report-format';

const root = path.join(__dirname, '..');
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

const VARIANTS = ['full', 'cold-bundle-cache', 'no-bundling', 'no-nag', 'no-tree-metadata', 'bare'] as const;
type Variant = (typeof VARIANTS)[number];
type Marks = Record<'start' | 'cdkLoaded' | 'nagLoaded' | 'kitLoaded' | 'constructed' | 'synthesized', number> & {
  readonly constructedWallMs: number;
  readonly generatedModules: number;
  readonly generatedMegabytes: number;
};



function main(): void {
  const runs = Number(arg('--runs') ?? 5);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-synth-profile-'));
  const distDir = path.join(path.dirname(compileSample(work)), '..');
  const warmCache = path.join(work, 'bundle-cache');
  const loadBefore = os.loadavg()[0];
  const samples = Object.fromEntries(VARIANTS.map((v) => [v, [] as Marks[]])) as Record<Variant, Marks[]>;
  const runVariant = (v: Variant) => {
    const cache = v === 'cold-bundle-cache' ? fs.mkdtempSync(path.join(work, 'cold-')) : warmCache;
    // The sample's directory as cwd, as when the CLI runs `node dist/bin/app.js` there.
    const out = execFileSync(process.execPath, [path.join(__dirname, 'synth-profile-run.js'), v, distDir, path.join(root, 'cdk.json')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CDK_CACHEABLE_API_BUNDLE_CACHE: cache },
    });
    return JSON.parse(out) as Marks;
  };
  runVariant('full'); // fills the warm bundle cache; not counted
  // Round-robin over the variants, so load from other work falls on all of them alike.
  for (let i = 0; i < runs; i++) for (const v of VARIANTS) samples[v].push(runVariant(v));
  fs.rmSync(work, { recursive: true, force: true });

  const m = (v: Variant, from: keyof Marks, to: keyof Marks) => Math.round(median(samples[v].map((s) => (s[to] as number) - (s[from] as number))));
  const total = (v: Variant) => m(v, 'start', 'synthesized');
  const parts = {
    'node + aws-cdk-lib core load': m('full', 'start', 'cdkLoaded'),
    'cdk-nag load (its rule modules)': m('full', 'cdkLoaded', 'nagLoaded'),
    'kit load (lib/ and the aws-cdk-lib modules it imports)': m('full', 'nagLoaded', 'kitLoaded'),
    'construct both stacks, warm bundle cache (service L1 modules load here)': m('full', 'kitLoaded', 'constructed'),
    'of which bundling, warm cache (full - no-bundling)': m('full', 'kitLoaded', 'constructed') - m('no-bundling', 'kitLoaded', 'constructed'),
    'of which bundling, cold cache, this process only (esbuild itself not counted)': m('cold-bundle-cache', 'kitLoaded', 'constructed') - m('no-bundling', 'kitLoaded', 'constructed'),
    'synth: cdk-nag validation (full - no-nag; includes the service modules its rules load)': m('full', 'constructed', 'synthesized') - m('no-nag', 'constructed', 'synthesized'),
    'synth: tree metadata, tree.json (full - no-tree-metadata)': m('full', 'constructed', 'synthesized') - m('no-tree-metadata', 'constructed', 'synthesized'),
    'synth: the rest (resolve templates, stage assets, write the assembly)':
      m('no-nag', 'constructed', 'synthesized') - (m('full', 'constructed', 'synthesized') - m('no-tree-metadata', 'constructed', 'synthesized')),
  };
  const wall = (v: Variant) => Math.round(median(samples[v].map((s) => s.constructedWallMs)));
  const result = {
    generatedAt: new Date().toISOString(),
    node: process.version,
    runs,
    loadAverage: { before: loadBefore, after: os.loadavg()[0] },
    toolchain: 'precompiled (tsc), app run in-process as the CLI runs it, built-in validation off',
    totalCpuMs: Object.fromEntries(VARIANTS.map((v) => [v, total(v)])),
    partsCpuMs: parts,
    constructWallMs: { warmBundleCache: wall('full'), coldBundleCache: wall('cold-bundle-cache'), noBundling: wall('no-bundling') },
    generatedModules: Object.fromEntries(VARIANTS.map((v) => [v, { count: samples[v][0].generatedModules, megabytes: samples[v][0].generatedMegabytes }])),
  };
  console.log(`Sample app (both stacks) in-process CPU ms, median of ${runs} fresh processes per variant (load average ${loadBefore.toFixed(1)})`);
  for (const v of VARIANTS) console.log(`  total ${v.padEnd(18)} ${String(total(v)).padStart(6)}   (${result.generatedModules[v].count} L1 modules, ${result.generatedModules[v].megabytes} MB)`);
  for (const [name, ms] of Object.entries(parts)) console.log(`  ${String(ms).padStart(6)}  ${name}`);
  console.log(`  construct wall ms: warm cache ${result.constructWallMs.warmBundleCache}, cold ${result.constructWallMs.coldBundleCache}, no bundling ${result.constructWallMs.noBundling}`);
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'synth-profile.json'), JSON.stringify(result, null, 2) + '\n');
}

main();
