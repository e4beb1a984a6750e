// Runs StrykerJS (stryker.conf.json) for `npm run test:mutation`. StrykerJS 10 declares Node.js
// >= 22 and its CLI refuses older versions at start-up; the project supports Node.js 20, where the
// runner itself works, so this calls its API directly. Extra arguments: `--mutate <glob>[,<glob>]`
// for a subset, e.g. `npm run test:mutation -- --mutate lambda/runtime/cache/cache-aside.ts`.
import { Stryker } from '../node_modules/@stryker-mutator/core/dist/src/stryker.js';

const args = process.argv.slice(2);
const options = { configFile: 'stryker.conf.json' };
const mutateAt = args.indexOf('--mutate');
if (mutateAt >= 0) options.mutate = args[mutateAt + 1].split(',');
const started = Date.now();
const results = await new Stryker(options).runMutationTest();
const killed = results.filter((r) => ['Killed', 'Timeout'].includes(r.status)).length;
const valid = results.filter((r) => !['CompileError', 'RuntimeError', 'Ignored'].includes(r.status)).length;
console.log(`Mutation score ${((100 * killed) / Math.max(valid, 1)).toFixed(1)} % (${killed} of ${valid} killed or timed out) in ${Math.round((Date.now() - started) / 60000)} min`);
