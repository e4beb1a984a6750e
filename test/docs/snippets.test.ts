import { entryFiles, extractSnippets, packagePaths, REPO } from './snippets';
import * as path from 'node:path';

const doc = [
  '# Title',
  '```ts',
  "import { App } from 'aws-cdk-lib';",
  'new App();',
  '```',
  '<!-- doc-test: expect Shop AWS::CloudFront::Distribution=1 AWS::CloudWatch::Dashboard=1 -->',
  '',
  '```sh',
  'npm test',
  '```',
  '```typescript',
  "const entry = { entry: 'lambda/a.ts' }, other = { entry: 'lambda/b.ts' };",
  '```',
].join('\n');

test('extracts ts and typescript blocks with their line and directive, and skips other languages', () => {
  const snippets = extractSnippets('docs/x.md', doc);
  expect(snippets.map((s) => [s.id, s.location, s.firstLine])).toEqual([
    ['docs-x-md-1', 'docs/x.md:2', 3],
    ['docs-x-md-2', 'docs/x.md:11', 12],
  ]);
  expect(snippets[0].expectations).toEqual({ Shop: { 'AWS::CloudFront::Distribution': 1, 'AWS::CloudWatch::Dashboard': 1 } });
  expect(snippets[1].expectations).toEqual({});
  expect(entryFiles(snippets[1].code)).toEqual(['lambda/a.ts', 'lambda/b.ts']);
});

test('a malformed directive is an error naming its place', () => {
  expect(() => extractSnippets('README.md', '```ts\nx;\n```\n<!-- doc-test: Shop AWS::X=1 -->')).toThrow(/README\.md:1: doc-test directive must read "expect <stack>/);
  expect(() => extractSnippets('README.md', '```ts\nx;\n```\n<!-- doc-test: expect Shop AWS::X=one -->')).toThrow(/"AWS::X=one" is not <Type>=<count>/);
});

test('every declared export maps to its source file', () => {
  const paths = packagePaths();
  expect(paths['cdk-cacheable-api']).toEqual([path.join(REPO, 'lib/index.ts')]);
  expect(paths['cdk-cacheable-api/runtime/http']).toEqual([path.join(REPO, 'lambda/runtime/http/index.ts')]);
  expect(paths['cdk-cacheable-api/package.json']).toBeUndefined();
});
