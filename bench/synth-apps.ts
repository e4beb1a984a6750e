/** The apps the synth benchmarks run: the sample compiled by tsc, and a bare app beside it. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const tsc = path.join(root, 'node_modules', '.bin', 'tsc');

/** A bare app under `work`: one empty stack, the sample's cdk.json context, the repo's node_modules; also compiled (dist/bare.js). */
export function bareApp(work: string): string {
  const context = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf8')).context;
  const dir = path.join(work, 'bare');
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'bin', 'bare.ts'), "import * as cdk from 'aws-cdk-lib';\nconst app = new cdk.App();\nnew cdk.Stack(app, 'BareStack');\n");
  // The same loader script as the sample's scripts/run-app.js.
  fs.writeFileSync(path.join(dir, 'run-app.js'), "require('tsx/cjs');\nrequire('./bin/bare.ts');\n");
  const compilerOptions = { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] };
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['bin'] }));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node run-app.js', context }));
  execFileSync(tsc, ['-p', dir, '--outDir', path.join(dir, 'dist')], { stdio: 'inherit' });
  return dir;
}

/** The sample compiled by tsc (tsconfig.build.json: bin, lib, lambda) under `work`, beside a node_modules link; returns dist/bin/app.js. */
export function compileSample(work: string): string {
  const dir = path.join(work, 'sample');
  fs.mkdirSync(dir);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  execFileSync(tsc, ['-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist'), '--declaration', 'false'], { stdio: 'inherit' });
  return path.join(dir, 'dist', 'bin', 'app.js');
}
