#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { AiGatewayStack } from '../lib/sample/ai-gateway-stack';
import { CatalogStack } from '../lib/sample/catalog-stack';

const app = new App({
  // aws-cdk-lib's built-in CloudFormation schema validation took most of this app's synth time
  // (about 11 of 15 s of synthesis, bench/synth-profile.ts) and only reports warnings; CI runs
  // cfn-lint, which checks the same schemas and more, over every template, failing on errors and
  // warnings alike (`npm run lint:cfn` after a synth). CDK_VALIDATION=true turns it back on.
  builtinCloudFormationValidation: process.env.CDK_VALIDATION === 'true',
});
new CatalogStack(app, 'CatalogStack', {
  description: 'cdk-cacheable-api sample: a product catalog API with edge, gateway and data caches',
  gatewayCache: app.node.tryGetContext('gatewayCache') === 'true' || app.node.tryGetContext('gatewayCache') === true,
});
new AiGatewayStack(app, 'AiGatewayStack', {
  description: 'cdk-cacheable-api sample: an OpenAI-compatible AI gateway (Bedrock + upstream, answer cache, token budgets)',
});
// Every synth is also a best-practice review: unacknowledged findings fail it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
