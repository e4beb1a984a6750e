/**
 * Snapshot verification of the integ/ cases, the way `integ-runner` does it without deploying,
 * for as long as integ-runner cannot: @aws-cdk/integ-runner 2.197.10 (the newest release) bundles
 * a toolkit that reads cloud assembly schema 53 at most, and aws-cdk-lib 2.276 writes schema 55
 * ("Cloud assembly schema version mismatch"); integ-runner has no option to skip that check.
 *
 *   npm run test:integ                 # synthesize every integ/integ.*.ts, compare with its snapshot
 *   npm run test:integ -- --update     # rewrite the snapshots that differ (after reading the diff)
 *   npm run test:integ -- integ.catalog.ts [--update]   # some cases only
 *
 * Each case is synthesized as integ-runner synthesizes it (its app command from integ.config.json,
 * run from integ/, with integ-runner's context and CDK_INTEG_* environment), the output is cleaned
 * into integ-runner's snapshot layout (`integ/<case>.snapshot/`), and the templates are compared
 * as integ-runner compares them (scripts/integ-verify-lib.ts). Exit code 1 on any difference.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanSnapshot, diffAssemblies } from './integ-verify-lib';

const root = path.resolve(__dirname, '..');
const integDir = path.join(root, 'integ');
const config = JSON.parse(fs.readFileSync(path.join(root, 'integ.config.json'), 'utf8')) as { app: string };

/**
 * integ-runner's synth settings (lib/runner/runner-base.js: getContext, DEFAULT_SYNTH_OPTIONS;
 * the toolkit's contextFromSettings for versionReporting/pathMetadata/assetMetadata: false).
 * The feature flags are the ones integ-runner injects, read from the installed package.
 */
const recommendedFlags = JSON.parse(fs.readFileSync(require.resolve('@aws-cdk/integ-runner/lib/recommended-feature-flags.json'), 'utf8')) as Record<string, unknown>;
const synthContext = {
  ...recommendedFlags,
  'aws:cdk:disable-version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
};
const synthEnv = {
  CDK_INTEG_ACCOUNT: '12345678',
  CDK_INTEG_REGION: 'test-region',
  CDK_INTEG_HOSTED_ZONE_ID: 'Z23ABC4XYZL05B',
  CDK_INTEG_HOSTED_ZONE_NAME: 'example.com',
  CDK_INTEG_DOMAIN_NAME: '*.example.com',
  CDK_INTEG_CERT_ARN: 'arn:aws:acm:test-region:12345678:certificate/86468209-a272-595d-b831-0efb6421265z',
  CDK_INTEG_SUBNET_ID: 'subnet-0dff1a399d8f6f92c',
};

/** integ-runner's TypeScript discovery: `integ.*.ts` under the directory, declaration files excluded. */
function discover(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /^integ\..+\.ts$/.test(path.basename(f)) && !f.endsWith('.d.ts') && !f.includes('.snapshot'))
    .sort();
}

function synth(testFile: string, outdir: string): void {
  fs.rmSync(outdir, { recursive: true, force: true });
  const command = config.app.replace('{filePath}', testFile);
  // No AWS variables from the caller's shell: the snapshot must not depend on who synthesizes it.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_)/.test(k)));
  const result = spawnSync(command, {
    cwd: integDir,
    shell: true,
    encoding: 'utf8',
    // CDK_VALIDATION=false: aws-cdk-lib's built-in CloudFormation validation costs seconds per
    // synth and only writes a report; CI runs cfn-lint over the snapshot templates instead.
    env: { ...env, ...synthEnv, CDK_VALIDATION: 'false', CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(synthContext) },
  });
  if (result.status !== 0) {
    throw new Error(`synth of ${testFile} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
  }
  // integ-runner synthesizes such a case again with dummy lookup context; not reproduced here.
  if ((JSON.parse(fs.readFileSync(path.join(outdir, 'integ.json'), 'utf8')) as { enableLookups?: boolean }).enableLookups) {
    throw new Error(`${testFile} sets enableLookups, which scripts/integ-verify.ts does not support: keep integ cases environment-agnostic`);
  }
}

function main(): number {
  const args = process.argv.slice(2);
  const update = args.includes('--update');
  const wanted = args.filter((a) => !a.startsWith('--')).map((a) => path.basename(a));
  const cases = discover(integDir).filter((f) => wanted.length === 0 || wanted.includes(path.basename(f)));
  const unknown = wanted.filter((w) => !cases.some((c) => path.basename(c) === w));
  if (unknown.length > 0 || cases.length === 0) {
    console.error(`No integ case ${unknown.join(', ') || 'found'} in integ/ (cases: ${discover(integDir).join(', ')})`);
    return 1;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-verify-'));
  let failed = 0;
  try {
    for (const testFile of cases) {
      try {
        failed += verifyCase(testFile, update, tmp) ? 0 : 1;
      } catch (e) {
        failed++;
        console.log(`  ERROR      ${testFile}: ${(e as Error).message}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failed > 0) {
    console.log(`\n${failed} of ${cases.length} integ snapshot(s) differ or failed. If a change is intended, read the diff, then:\n` +
      '  npm run test:integ -- --update (and commit integ/*.snapshot)');
    return 1;
  }
  console.log(`\n${cases.length} integ snapshot(s) ${update ? 'up to date' : 'match'}`);
  return 0;
}

/** One case: rewrite its snapshot (update) or compare a fresh synth with it; false when it differs. */
function verifyCase(testFile: string, update: boolean, tmp: string): boolean {
  const started = Date.now();
  const snapshotDir = path.join(integDir, `${testFile}.snapshot`);
  const secs = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (!update && !fs.existsSync(snapshotDir)) {
    console.log(`  NEW        ${testFile}: no snapshot (integ/${testFile}.snapshot)`);
    return false;
  }
  const actualDir = path.join(tmp, testFile);
  synth(testFile, actualDir);
  cleanSnapshot(actualDir);
  const failures = fs.existsSync(snapshotDir) ? diffAssemblies(snapshotDir, actualDir) : [{ stack: testFile, message: 'new' }];
  if (failures.length === 0) {
    // Kept as is, even with --update: the assertion salts would otherwise churn every snapshot.
    console.log(`  UNCHANGED  ${testFile} ${secs()}`);
    return true;
  }
  if (update) {
    // Replaced only after a successful synth: a broken case keeps its last good snapshot.
    fs.rmSync(snapshotDir, { recursive: true, force: true });
    fs.cpSync(actualDir, snapshotDir, { recursive: true });
    console.log(`  UPDATED    ${testFile} ${secs()}`);
    return true;
  }
  console.log(`  CHANGED    ${testFile} ${secs()}`);
  for (const f of failures) console.log(`    ${f.stack}: ${f.message}`);
  return false;
}

process.exitCode = main();
