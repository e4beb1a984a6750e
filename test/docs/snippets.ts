/**
 * The TypeScript blocks of the package's documentation, as a consumer would paste them: each
 * block is a whole module that imports the kit by its package name (`cdk-cacheable-api`,
 * `cdk-cacheable-api/runtime/http`, ...). The doc tests compile them against the sources
 * (a tsconfig `paths` entry per declared export) and synthesize the ones that build an App.
 *
 * A block may be followed by a directive saying what its synthesized stacks must contain, so the
 * example does what its text says:
 *
 *     <!-- doc-test: expect Shop AWS::CloudFront::Distribution=1 AWS::CloudWatch::Dashboard=1 -->
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export const REPO = path.join(__dirname, '..', '..');

export interface Snippet {
  /** Unique, file-name-safe id: `<doc path>-<n>`. */
  readonly id: string;
  /** Where it lives, as `<doc path>:<line>` (the opening fence). */
  readonly location: string;
  readonly doc: string;
  /** Line (1-based) of the block's first code line in the doc. */
  readonly firstLine: number;
  readonly code: string;
  /** `stack name -> resource type -> count` the synthesized app must have. */
  readonly expectations: Record<string, Record<string, number>>;
}

/** The docs whose TypeScript blocks are tested: README.md, every module README and docs/. */
export function documentationFiles(): string[] {
  const walk = (dir: string, keep: (file: string) => boolean): string[] =>
    readdirSync(path.join(REPO, dir)).flatMap((name) => {
      const rel = path.join(dir, name);
      if (statSync(path.join(REPO, rel)).isDirectory()) return walk(rel, keep);
      return keep(rel) ? [rel] : [];
    });
  return [
    'README.md',
    ...walk('lib', (f) => path.basename(f) === 'README.md'),
    ...walk('lambda', (f) => path.basename(f) === 'README.md'),
    ...walk('docs', (f) => f.endsWith('.md')),
  ];
}

const BLOCK = /^```(?:ts|typescript)[ \t]*\n([^]*?)^```[ \t]*$(?:\s*<!--\s*doc-test:([^]*?)-->)?/gm;

export function extractSnippets(doc: string, markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  for (const match of markdown.matchAll(BLOCK)) {
    const fenceLine = markdown.slice(0, match.index).split('\n').length;
    snippets.push({
      id: `${doc.replace(/[^A-Za-z0-9]+/g, '-')}-${snippets.length + 1}`,
      location: `${doc}:${fenceLine}`,
      doc,
      firstLine: fenceLine + 1,
      code: match[1],
      expectations: parseDirective(match[2] ?? '', `${doc}:${fenceLine}`),
    });
  }
  return snippets;
}

function parseDirective(directive: string, location: string): Record<string, Record<string, number>> {
  const words = directive.trim().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return {};
  if (words[0] !== 'expect' || words.length < 3) {
    throw new Error(`${location}: doc-test directive must read "expect <stack> <Type>=<count> ...", got "${directive.trim()}"`);
  }
  const counts: Record<string, number> = {};
  for (const word of words.slice(2)) {
    const pair = /^([A-Za-z0-9:]+)=(\d+)$/.exec(word);
    if (!pair) throw new Error(`${location}: "${word}" is not <Type>=<count>`);
    counts[pair[1]] = Number(pair[2]);
  }
  return { [words[1]]: counts };
}

/**
 * A tsconfig `paths` entry for every export the package declares, pointing at the source the
 * export is built from (`./dist/lib/index.d.ts` -> `lib/index.ts`).
 */
export function packagePaths(): Record<string, string[]> {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries<{ types?: string } | string>(pkg.exports)) {
    if (typeof target === 'string' || !target.types) continue;
    const source = target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts');
    paths[pkg.name + subpath.slice(1)] = [path.join(REPO, source)];
  }
  return paths;
}

/** Entry files a snippet names (`entry: 'lambda/x.ts'`): the consumer's own handlers. */
export function entryFiles(code: string): string[] {
  return [...new Set([...code.matchAll(/\bentry:\s*'([^']+)'/g)].map((m) => m[1]))];
}
