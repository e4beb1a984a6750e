/**
 * `npm run bench:scale`: the scale fixture (bench/scale/scale-fixture.ts: mixed methods, data- and
 * edge-cached routes, public/IAM/Cognito/API-key) synthesized at 25, 50, 100 and 200 routes, with
 * monitoring on (the default) and off. Each synth runs in a child process of its own
 * (bench/scale/scale-synth.ts), so its peak RSS is its own. Prints resources per route (marginal,
 * against a 4-route run of the same arm), resources in the root stack, the largest template,
 * synth seconds and peak memory; writes bench/results/scale.json and the docs section
 * (docs/benchmarks.md via `npm run bench:report`). Usage: npm run bench:scale [-- --sizes 25,50]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ScaleRun, ScaleResults, scaleTable } from './scale/scale-report';

const sizesArg = process.argv.includes('--sizes') ? process.argv[process.argv.indexOf('--sizes') + 1] : '25,50,100,200';
const sizes = sizesArg.split(',').map(Number);
const tsx = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-scale-bench-'));

function synth(routes: number, monitoring: boolean): ScaleRun {
  const outdir = path.join(work, `${routes}-${monitoring ? 'on' : 'off'}`);
  const stdout = execFileSync(tsx, [path.join(__dirname, 'scale', 'scale-synth.ts'), String(routes), monitoring ? 'on' : 'off', outdir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const run = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<ScaleRun, 'totalResources'>;
  fs.rmSync(outdir, { recursive: true, force: true });
  return { ...run, totalResources: run.templates.reduce((sum, t) => sum + t.resources, 0) };
}

const loadBefore = os.loadavg()[0];
const arms: Array<ScaleResults['arms'][number]> = [];
for (const monitoring of [true, false]) {
  const baseline = synth(4, monitoring);
  const runs = sizes.map((routes) => {
    const run = synth(routes, monitoring);
    console.error(`${monitoring ? 'monitoring on ' : 'monitoring off'} ${routes} routes: ${run.error ?? `${run.totalResources} resources, ${run.synthSeconds.toFixed(1)} s`}`);
    return run;
  });
  arms.push({ monitoring, baseline, runs });
}
const results: ScaleResults = { generatedAt: new Date().toISOString(), node: process.version, loadAverage: [loadBefore, os.loadavg()[0]], arms };
fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
fs.writeFileSync(path.join(__dirname, 'results', 'scale.json'), JSON.stringify(results, undefined, 2) + '\n');
console.log(scaleTable(results));
fs.rmSync(work, { recursive: true, force: true });
