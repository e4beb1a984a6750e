/**
 * The module graph of the package's sources: no import cycle in lib/ or lambda/ (type-only
 * imports included: they couple modules as much as value imports), and the runtime in lambda/
 * never reaches for the CDK or the constructs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic, type-only or not. */
export function importSpecifiers(source: string): string[] {
  const withoutComments = source.replace(/\/\*[^]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /^\s*(?:import|export)\s+(?:type\s+)?[^'"`;]*?\s+from\s+['"]([^'"]+)['"]/gm,
    /^\s*import\s+['"]([^'"]+)['"]/gm,
    /\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...withoutComments.matchAll(pattern)].map((match) => match[1]));
}

function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // try the next form
    }
  }
  throw new Error(`${path.relative(ROOT, from)} imports ${specifier}, which does not resolve to a .ts file`);
}

/** Each cycle once, as the list of files (relative to the repo) around it. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles.map((cycle) => cycle.map((file) => path.relative(ROOT, file)));
}

function graphOf(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap((dir) => sourceFiles(path.join(ROOT, dir)))) {
    const targets = importSpecifiers(readFileSync(file, 'utf8')).map((s) => resolveRelative(file, s)).filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

test('the import parser sees type-only, re-export, side-effect and dynamic imports, and skips comments', () => {
  const source = [
    "import type { A } from './a';",
    "import { B,\n  C } from '../b';",
    "export * from './c';",
    "import './d';",
    "const e = require('./e');",
    "// import { F } from './f';",
    "/* import { G } from './g'; */",
  ].join('\n');
  expect(importSpecifiers(source)).toEqual(['./a', '../b', './c', './d', './e']);
});

test('the cycle finder reports a two-module cycle and ignores a diamond', () => {
  const f = (name: string) => path.join(ROOT, name);
  const cyclic = new Map([[f('a.ts'), [f('b.ts')]], [f('b.ts'), [f('a.ts')]]]);
  expect(findCycles(cyclic)).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  const diamond = new Map([[f('a.ts'), [f('b.ts'), f('c.ts')]], [f('b.ts'), [f('d.ts')]], [f('c.ts'), [f('d.ts')]], [f('d.ts'), []]]);
  expect(findCycles(diamond)).toEqual([]);
});

test('lib/ and lambda/ have no import cycle (type-only imports included)', () => {
  const graph = graphOf(['lib', 'lambda']);
  expect(graph.size).toBeGreaterThan(40);
  expect(findCycles(graph)).toEqual([]);
});

test('the runtime in lambda/ imports neither aws-cdk-lib, constructs nor lib/', () => {
  const offending = sourceFiles(path.join(ROOT, 'lambda')).flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((s) => /^(aws-cdk-lib|constructs)(\/|$)/.test(s) || (s.startsWith('.') && path.resolve(path.dirname(file), s).startsWith(path.join(ROOT, 'lib'))))
      .map((s) => `${path.relative(ROOT, file)} -> ${s}`),
  );
  expect(offending).toEqual([]);
});
