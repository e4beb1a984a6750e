/**
 * Doc tests: every TypeScript block of README.md, the module READMEs and docs/ compiles as a
 * consumer writes it (package-name imports, cdk init's compiler options), and every block that
 * builds an App synthesizes, in a child process as `cdk synth` runs it, to what its text says.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import { documentationFiles, entryFiles, extractSnippets, packagePaths, REPO, Snippet } from './snippets';

// Under .test-assemblies/ (ignored by git): CI's cfn-lint step also lints the templates here.
const WORK = path.join(REPO, '.test-assemblies', 'doc-snippets');
const snippets: Snippet[] = documentationFiles().flatMap((doc) => extractSnippets(doc, readFileSync(path.join(REPO, doc), 'utf8')));
const buildsApp = (s: Snippet) => /\bnew App\(/.test(s.code);

const STUB_HANDLER = "export const handler = async () => ({ statusCode: 200, body: '{}' });\n";

beforeAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const cdkInit = JSON.parse(readFileSync(path.join(__dirname, 'cdk-init-tsconfig.json'), 'utf8'));
  writeFileSync(
    path.join(WORK, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { ...cdkInit.compilerOptions, typeRoots: [path.join(REPO, 'node_modules', '@types')], paths: packagePaths() } }, null, 2),
  );
  for (const snippet of snippets) {
    writeFileSync(path.join(WORK, `${snippet.id}.ts`), snippet.code);
    for (const entry of entryFiles(snippet.code)) {
      mkdirSync(path.dirname(path.join(WORK, entry)), { recursive: true });
      if (!existsSync(path.join(WORK, entry))) writeFileSync(path.join(WORK, entry), STUB_HANDLER);
    }
  }
});

test('the docs have TypeScript blocks in README.md and in the module READMEs', () => {
  const docs = new Set(snippets.map((s) => s.doc));
  expect([...docs]).toEqual(expect.arrayContaining(['README.md', 'lib/data-cache/README.md', 'lib/edge/README.md', 'lib/monitoring/README.md']));
  expect(snippets.filter(buildsApp).length).toBeGreaterThanOrEqual(4);
});

test('every TypeScript block compiles as a consumer writes it, with cdk init compiler options', () => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(WORK, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const files = snippets.map((s) => path.join(WORK, `${s.id}.ts`));
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const errors = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file && files.includes(path.normalize(d.file.fileName)))
    .map((d) => {
      const snippet = snippets.find((s) => path.join(WORK, `${s.id}.ts`) === path.normalize(d.file!.fileName))!;
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${snippet.doc}:${snippet.firstLine + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  expect(errors).toEqual([]);
});

const synthesized = snippets.filter(buildsApp);
const cdkContext = JSON.parse(readFileSync(path.join(REPO, 'cdk.json'), 'utf8')).context;

test.each(synthesized.map((s) => [s.location, s] as const))('%s synthesizes to what its text says', (_location, snippet) => {
  const outdir = path.join(WORK, `${snippet.id}.out`);
  execFileSync(process.execPath, ['--require', require.resolve('tsx/cjs'), path.join(WORK, `${snippet.id}.ts`)], {
    cwd: WORK,
    // What `cdk synth` hands the app: an output directory (the App then synthesizes on exit)
    // and the context of cdk.json, i.e. the feature flags cdk init writes.
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(cdkContext), TSX_TSCONFIG_PATH: path.join(WORK, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const stacks = Object.entries<{ type: string; properties?: { templateFile: string } }>(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  expect(stacks.length).toBeGreaterThan(0);
  for (const [stackName, expected] of Object.entries(snippet.expectations)) {
    const artifact = stacks.find(([name]) => name === stackName);
    if (!artifact) throw new Error(`${snippet.location}: no stack ${stackName} (stacks: ${stacks.map(([n]) => n).join(', ')})`);
    const template = JSON.parse(readFileSync(path.join(outdir, artifact[1].properties!.templateFile), 'utf8'));
    const counts = Object.fromEntries(Object.keys(expected).map((type) => [type, Object.values<{ Type: string }>(template.Resources).filter((r) => r.Type === type).length]));
    expect({ stack: stackName, counts }).toEqual({ stack: stackName, counts: expected });
  }
});
