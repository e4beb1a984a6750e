/**
 * A precompiled app (tsc to dist/, no TypeScript sources beside it) must find the model routes'
 * handlers as compiled .js files, as CacheSync finds its purge handlers. The precompiled arm of
 * bench/synth.bench.ts failed on exactly this: the entry pointed at a missing .ts file.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const REPO = path.join(__dirname, '..', '..');

test('ModelRoutes built from a tsc-compiled copy points each route at a handler file that exists', () => {
  // Inside the repository (git-ignored), so the compiled code resolves aws-cdk-lib from node_modules.
  fs.mkdirSync(path.join(REPO, '.test-assemblies'), { recursive: true });
  const out = fs.mkdtempSync(path.join(REPO, '.test-assemblies', 'precompiled-'));
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', out, '--declaration', 'false'], {
      cwd: REPO,
      stdio: 'pipe',
    });
    const script = `
      const { ModelRoutes, ModelTarget } = require(${JSON.stringify(path.join(out, 'lib', 'index.js'))});
      const { App, Stack } = require('aws-cdk-lib');
      const models = new ModelRoutes(new Stack(new App(), 'S'), 'M', { models: { fast: ModelTarget.bedrock('amazon.nova-lite-v1:0') } });
      process.stdout.write(JSON.stringify(Object.values(models.routes).map((r) => r.entry)));
    `;
    const entries = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' })) as string[];
    expect(entries).toHaveLength(2);
    for (const entry of entries) {
      expect(entry.startsWith(out)).toBe(true);
      expect(fs.existsSync(entry)).toBe(true);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
