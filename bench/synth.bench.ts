/**
 * Synth time of the full sample stack against a bare `cdk init` app (one empty stack,
 * run by ts-node as `cdk init` sets it up), measured alternately in one run so machine
 * noise hits both alike. Usage: npm run bench:synth [-- --runs 3]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 3;
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');

function bareApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-bare-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(
    path.join(dir, 'bin', 'bare.ts'),
    "import * as cdk from 'aws-cdk-lib';\nconst app = new cdk.App();\nnew cdk.Stack(app, 'BareStack');\n",
  );
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] } }));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx ts-node --prefer-ts-exts bin/bare.ts' }));
  return dir;
}

function timeSynth(cwd: string): number {
  fs.rmSync(path.join(cwd, 'cdk.out'), { recursive: true, force: true });
  const start = process.hrtime.bigint();
  execFileSync(cdk, ['synth', '-q'], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bare = bareApp();
const bareTimes: number[] = [];
const sampleTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  bareTimes.push(timeSynth(bare));
  sampleTimes.push(timeSynth(root));
}
fs.rmSync(bare, { recursive: true, force: true });

const rows = [
  ['bare cdk init app (ts-node, 1 empty stack)', median(bareTimes)],
  ['sample CatalogStack (tsx, in-process esbuild, cdk-nag)', median(sampleTimes)],
] as const;
console.log(`cdk synth -q, median of ${runs} alternating runs (seconds)`);
for (const [name, t] of rows) console.log(`  ${name.padEnd(58)} ${t.toFixed(2)}`);
console.log(`  ratio sample / bare: ${(median(sampleTimes) / median(bareTimes)).toFixed(2)}`);
fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
fs.writeFileSync(
  path.join(__dirname, 'results', 'synth.json'),
  JSON.stringify({ runs, bareSeconds: bareTimes, sampleSeconds: sampleTimes, ratio: median(sampleTimes) / median(bareTimes) }, null, 2),
);
