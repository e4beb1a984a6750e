import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { StatelessFunction } from '../lib';
import { testApp } from './support/nag';

const entry = path.join(__dirname, 'fixtures', 'esm-top-level-await.mjs');

/** Synthesizes one StatelessFunction and returns its Handler and the files of its asset. */
function bundle(props: Partial<ConstructorParameters<typeof StatelessFunction>[2]>): { handler: string; dir: string; files: string[] } {
  const app = testApp({ bundle: true });
  const stack = new Stack(app, 'Esm');
  const fn = new StatelessFunction(stack, 'Fn', { entry, ...props });
  const assembly = app.synth();
  const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as CfnElement)];
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'Esm.assets.json'), 'utf8'));
  const dir = path.join(assembly.directory, manifest.files[resource.Properties.Code.S3Key.replace(/\.zip$/, '')].source.path);
  return { handler: resource.Properties.Handler, dir, files: fs.readdirSync(dir) };
}

test("format: 'esm' ships index.mjs that Node.js loads as an ES module: top-level await, import.meta and a CommonJS dependency's require() of an external work", () => {
  // iovalkey stays outside the bundle, as @aws-sdk/* does on Lambda; NODE_PATH stands in for the runtime's copy.
  const { handler, dir, files } = bundle({ format: 'esm', externalModules: ['@aws-sdk/*', 'iovalkey'] });
  expect(handler).toBe('index.handler');
  expect(files).toEqual(['index.mjs']);
  // Loaded the way Lambda's Node.js runtime loads an .mjs handler: import(), then call the export.
  // The loader is itself an ES module: a CommonJS `-e` script would leak a global `require` into it.
  const script = `const m = await import(${JSON.stringify(path.join(dir, 'index.mjs'))}); process.stdout.write((await m.handler()).body);`;
  const body = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH, NODE_PATH: path.join(__dirname, '..', 'node_modules') },
    encoding: 'utf8',
  }));
  expect(body).toEqual({ initialisedAt: 'init phase', moduleUrl: true, client: 'function' });
});

test('the default stays a CommonJS index.js, in which top-level await cannot build', () => {
  expect(() => bundle({})).toThrow(/Top-level await is currently not supported with the "cjs" output format/);
});
