/**
 * Where `cdk synth` of the sample app spends its time, phase by phase, in one process as the CDK
 * CLI runs the app: module load (aws-cdk-lib, the kit), construct tree (bundling included: assets
 * bundle as they are constructed), then synthesis split into its parts by switching each off in
 * turn (built-in CloudFormation validation, cdk-nag) and the assembly write. Usage:
 *   npx tsx bench/synth-profile.ts [--runs 3] [--phase <name>]   (one phase per fresh process)
 * Phases are measured in fresh processes so module caches do not favour later ones.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

type Phase = 'full' | 'no-builtin-validation' | 'no-nag' | 'no-bundling' | 'none';

/** Runs the sample app once in this process and returns milestones in ms since process start. */
function runOnce(phase: Phase): Record<string, number> {
  const since = () => performance.now();
  const marks: Record<string, number> = { start: since() };
  /* eslint-disable @typescript-eslint/no-require-imports */
  const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const { AwsSolutionsChecks, ServerlessChecks } = require('cdk-nag') as typeof import('cdk-nag');
  marks.cdkLoaded = since();
  const { CatalogStack } = require('../lib/sample/catalog-stack') as typeof import('../lib/sample/catalog-stack');
  marks.kitLoaded = since();
  /* eslint-enable @typescript-eslint/no-require-imports */
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-profile-'));
  const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;
  const app = new cdk.App({
    outdir,
    context: { ...context, ...(phase === 'no-bundling' || phase === 'none' ? { 'aws:cdk:bundling-stacks': [] } : {}) },
    builtinCloudFormationValidation: !(phase === 'no-builtin-validation' || phase === 'none'),
  });
  new CatalogStack(app, 'CatalogStack', { description: 'profile' });
  if (phase !== 'no-nag' && phase !== 'none') cdk.Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  marks.constructed = since();
  app.synth();
  marks.synthesized = since();
  fs.rmSync(outdir, { recursive: true, force: true });
  return marks;
}

const phase = arg('--phase') as Phase | undefined;
if (phase) {
  process.stdout.write(JSON.stringify(runOnce(phase)));
} else {
  const runs = Number(arg('--runs') ?? 3);
  const phases: Phase[] = ['full', 'no-builtin-validation', 'no-nag', 'no-bundling', 'none'];
  const samples: Record<Phase, Record<string, number>[]> = Object.fromEntries(phases.map((p) => [p, []])) as never;
  for (let i = 0; i < runs; i++) {
    for (const p of phases) {
      const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', __filename, '--phase', p], { cwd: root, encoding: 'utf8' });
      samples[p].push(JSON.parse(out));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const m = (p: Phase, from: string, to: string) => median(samples[p].map((s) => s[to] - s[from]));
  console.log(`Sample app phases, median of ${runs} fresh processes each (ms; load average ${os.loadavg()[0].toFixed(1)})`);
  console.log(`  aws-cdk-lib + cdk-nag load     ${m('full', 'start', 'cdkLoaded').toFixed(0)}`);
  console.log(`  kit (lib/sample) load          ${m('full', 'cdkLoaded', 'kitLoaded').toFixed(0)}`);
  for (const p of phases) {
    console.log(`  ${p.padEnd(22)} construct ${m(p, 'kitLoaded', 'constructed').toFixed(0).padStart(6)}   synth ${m(p, 'constructed', 'synthesized').toFixed(0).padStart(6)}`);
  }
  console.log('  (construct includes bundling; synth includes validation plugins and the assembly write)');
}
