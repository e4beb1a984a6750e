#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { CompliancePolicy } from '../lib/compliance/compliance-policy';
import { AiGatewayStack } from '../lib/sample/ai-gateway-stack';
import { CatalogStack } from '../lib/sample/catalog-stack';

const app = new App({
  // aws-cdk-lib's built-in CloudFormation schema validation took most of this app's synth time
  // (about 11 of 15 s of synthesis, bench/synth-profile.ts) and only reports warnings; CI runs
  // cfn-lint, which checks the same schemas and more, over every template, failing on errors and
  // warnings alike (`npm run lint:cfn` after a synth). CDK_VALIDATION=true turns it back on.
  builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true',
});
const flag = (name: string) => app.node.tryGetContext(name);
// `cdk synth -c compliance=strict`: the strict profile (lib/compliance), checked by all five packs.
// Without it, the standard profile: the kit's defaults, whose regulated-pack findings are each
// acknowledged on their resource (test/compliance/sample-packs.test.ts checks all five packs).
const profile = flag('compliance') ?? 'standard';
if (profile !== 'standard' && profile !== 'strict') {
  throw new Error(`context compliance: unknown profile "${profile}"; known profiles: standard, strict`);
}
const compliance = profile === 'strict' ? CompliancePolicy.strict({ reservedConcurrency: 5 }) : CompliancePolicy.standard();
new CatalogStack(app, 'CatalogStack', {
  description: 'cdk-cacheable-api sample: a product catalog API with edge, gateway and data caches',
  gatewayCache: flag('gatewayCache') === 'true' || flag('gatewayCache') === true,
  compliance,
});
new AiGatewayStack(app, 'AiGatewayStack', {
  description: 'cdk-cacheable-api sample: an OpenAI-compatible AI gateway (Bedrock + upstream, answer cache, token budgets)',
  compliance,
});
// Every synth is also a best-practice review under all five packs, whichever the profile:
// unacknowledged findings fail it. The three regulated packs add no measurable synth time
// (4.2 s either way, three alternating runs each; lib/compliance/README.md).
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app),
  new ServerlessChecks(app),
  new NIST80053R5Checks(app),
  new PCIDSS321Checks(app),
  new HIPAASecurityChecks(app),
);
