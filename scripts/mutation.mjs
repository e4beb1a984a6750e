// Runs StrykerJS (stryker.conf.json) for `npm run test:mutation`. StrykerJS 10 declares Node.js
// >= 22 and its CLI refuses older versions at start-up; the project supports Node.js 20, where the
// runner itself works, so this calls its API directly. Options:
//   --mutate <glob>[,<glob>]  a subset, e.g. `npm run test:mutation -- --mutate lambda/purge/*.ts`
//   --name <name>             report and sandbox names (reports/mutation/<name>.{json,html}), so
//                             that two subsets can run side by side
//   --tests <dir|file>[,...]  only the jest suites under these folders of test/, or these files (a
//                             name ending in .ts, globs allowed), instead of all of test/runtime and
//                             test/purge (jest.mutation.config.js): e.g. `--tests purge` for the
//                             purge code, whose mutants no runtime suite can kill; a shorter dry run
//   --concurrency <n>         test runners at once (default 2, stryker.conf.json): 1 when other work
//                             shares the cores, so that slowness is not counted as a timeout
import { Stryker } from '../node_modules/@stryker-mutator/core/dist/src/stryker.js';

const args = process.argv.slice(2);
const value = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const options = { configFile: 'stryker.conf.json' };
if (value('--mutate')) options.mutate = value('--mutate').split(',');
if (value('--tests')) {
  const testMatch = value('--tests')
    .split(',')
    .map((entry) => (entry.endsWith('.ts') ? `<rootDir>/test/${entry}` : `<rootDir>/test/${entry}/**/*.test.ts`));
  // Merged over the config file's options by the jest runner.
  options.jest = { projectType: 'custom', configFile: 'jest.mutation.config.js', enableFindRelatedTests: false, config: { testMatch } };
}
if (value('--concurrency')) options.concurrency = Number(value('--concurrency'));
const name = value('--name');
if (name) {
  options.tempDirName = `.stryker-tmp-${name}`;
  options.jsonReporter = { fileName: `reports/mutation/${name}.json` };
  options.htmlReporter = { fileName: `reports/mutation/${name}.html` };
}
const started = Date.now();
const results = await new Stryker(options).runMutationTest();
const detected = results.filter((r) => ['Killed', 'Timeout'].includes(r.status)).length;
const valid = results.filter((r) => !['CompileError', 'RuntimeError', 'Ignored'].includes(r.status)).length;
console.log(
  `Mutation score ${((100 * detected) / Math.max(valid, 1)).toFixed(1)} % (${detected} of ${valid} mutants killed or timed out) ` +
    `in ${Math.round((Date.now() - started) / 60000)} min`,
);
