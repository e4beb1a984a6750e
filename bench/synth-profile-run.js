// One variant of bench/synth-profile.ts, run in a fresh plain-node process (no TypeScript loader,
// so the precompiled app is loaded exactly as `node dist/bin/app.js` loads it). Prints CPU ms
// (user + system, this process) at each milestone as JSON. Arguments: <variant> <dist dir> <cdk.json>
/* eslint-disable @typescript-eslint/no-require-imports */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const [variant, distDir, cdkJson] = process.argv.slice(2);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const marks = { start: cpu() };
const cdk = require('aws-cdk-lib');
marks.cdkLoaded = cpu();
const nag = variant === 'no-nag' || variant === 'bare' ? undefined : require('cdk-nag');
marks.nagLoaded = cpu();
// The sample as bin/app.ts builds it: its stacks (lib/sample/sample-app) and its five packs (bin/nag-packs).
const sample = variant === 'bare' ? undefined : require(path.join(distDir, 'lib/sample/sample-app'));
const packs = nag ? require(path.join(distDir, 'bin/nag-packs')) : undefined;
marks.kitLoaded = cpu();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-profile-'));
const context = JSON.parse(fs.readFileSync(cdkJson, 'utf8')).context;
const app = new cdk.App({
  outdir,
  context: { ...context, ...(variant === 'no-bundling' ? { 'aws:cdk:bundling-stacks': [] } : {}) },
  builtinCloudFormationValidation: false,
  treeMetadata: variant !== 'no-tree-metadata',
});
const wallBefore = performance.now();
if (sample) sample.addSampleStacks(app);
else new cdk.Stack(app, 'BareStack');
if (packs) cdk.Validations.of(app).addPlugins(...packs.sampleNagPacks(app));
marks.constructed = cpu();
marks.constructedWallMs = performance.now() - wallBefore;
app.synth();
marks.synthesized = cpu();
fs.rmSync(outdir, { recursive: true, force: true });
// aws-cdk-lib loads a service's L1 classes (its *.generated.js) on first use: count what was loaded.
const generated = Object.keys(require.cache).filter((file) => /aws-cdk-lib\/[^/]+\/lib\/[^/]+\.generated\.js$/.test(file));
marks.generatedModules = generated.length;
marks.generatedMegabytes = Math.round(generated.reduce((sum, file) => sum + fs.statSync(file).size, 0) / 1e5) / 10;
process.stdout.write(JSON.stringify(marks));
