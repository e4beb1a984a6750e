#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { addSampleStacks, sampleAppSettings } from '../lib/sample/sample-app';
import { sampleNagPacks } from './nag-packs';

const app = new App({
  // aws-cdk-lib's built-in CloudFormation schema validation took most of this app's synth time
  // (about 11 of 15 s of synthesis, bench/synth-profile.ts) and only reports warnings; CI runs
  // cfn-lint, which checks the same schemas and more, over every template, failing on errors and
  // warnings alike (`npm run lint:cfn` after a synth). CDK_VALIDATION=true turns it back on.
  builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true',
});
// Context: -c compliance=strict (the strict profile, lib/compliance; default standard: the kit's
// defaults, whose regulated-pack findings are each acknowledged on their resource),
// -c gatewayCache=true, -c nag=off (lib/sample/sample-app.ts).
const settings = sampleAppSettings(app);
addSampleStacks(app, settings);
// Every synth is also a best-practice review under all five packs, whichever the profile:
// unacknowledged findings fail it. `-c nag=off` skips the review for a quick look at a template
// (about a quarter of the app's own synth CPU, docs/benchmarks.md); tests and CI always run it.
if (settings.nag === 'all') Validations.of(app).addPlugins(...sampleNagPacks(app));
