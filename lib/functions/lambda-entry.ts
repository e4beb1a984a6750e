import * as fs from 'fs';
import * as path from 'path';

/**
 * A handler of `lambda/<folder>/<name>.ts` for a kit construct: the TypeScript source beside
 * lib/ (the repository, or the package's shipped sources), else the compiled `.js` beside
 * dist/lib (a precompiled app). Throws naming the places looked in.
 */
export function lambdaEntry(folder: string, name: string): string {
  const candidates = [
    path.join(__dirname, '..', '..', 'lambda', folder, `${name}.ts`),
    path.join(__dirname, '..', '..', 'lambda', folder, `${name}.js`),
    path.join(__dirname, '..', '..', '..', 'lambda', folder, `${name}.ts`),
  ];
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`handler lambda/${folder}/${name} not found (looked in ${candidates.join(', ')})`);
  return found;
}
