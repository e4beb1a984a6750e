/**
 * Scale (issue 16): a 200-route table (mixed methods, data- and edge-cached routes, public, IAM,
 * Cognito and API-key routes) and the issue's 40-route table synthesize split into route
 * stacks, with cdk-nag clean and every template within CloudFormation's limits. The assembly is
 * written under .test-assemblies/, so CI's cfn-lint covers the nested templates too.
 * Bundling is skipped (testApp): the templates, not the 200 bundles, are under test.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { issueRouteTable, scaleStack } from '../../bench/scale/scale-fixture';
import { LIMITS } from '../../lib/shared/limits';
import { nagApp, synthFindings } from '../support/nag';

const CACHE_POLICY_WARNING = /^Annotation::cdk-cacheable-api:cachePolicies warning /;

const app = nagApp();
// Monitoring on (the default) in both: API-level alarms and the dashboard sit in the parent.
const large = scaleStack(app, 'Scale200', { routes: 200 });
// The issue's table past the split threshold: 50 routes, one first segment each.
const issue = scaleStack(app, 'Issue50', { routes: 50, table: issueRouteTable(50) });
const findings = synthFindings(app);

interface TemplateFile {
  readonly file: string;
  readonly resources: number;
  readonly bytes: number;
}

/** The templates of a stack and its nested stacks, as written in the assembly. */
function templateFiles(stack: Stack): TemplateFile[] {
  return fs
    .readdirSync(app.outdir)
    .filter((f) => f.startsWith(stack.stackName) && f.endsWith('.template.json'))
    .map((file) => {
      const text = fs.readFileSync(path.join(app.outdir, file), 'utf8');
      return { file, resources: Object.keys(JSON.parse(text).Resources).length, bytes: Buffer.byteLength(text) };
    });
}

test('cdk-nag (AwsSolutions + Serverless) reports nothing unacknowledged, and no cache-policy warning: identical policies are shared', () => {
  expect(findings).toEqual([]);
  expect(findings.filter((f) => CACHE_POLICY_WARNING.test(f))).toEqual([]);
});

describe('200 routes', () => {
  const files = templateFiles(large.stack);
  const root = files.find((f) => f.file === `${large.stack.stackName}.template.json`)!;
  const nested = files.filter((f) => f !== root);

  test('split into one nested stack per first path segment, written as nested templates for cfn-lint', () => {
    expect(Object.keys(large.api.routeStacks)).toEqual(Array.from({ length: 10 }, (_, k) => `RoutesArea${k}`));
    expect(nested).toHaveLength(10);
    // .ci/run lints `.test-assemblies/*/*.template.json`: nested templates sit next to the root's.
    for (const f of nested) expect(f.file).toMatch(/\.nested\.template\.json$/);
    expect(path.dirname(app.outdir)).toMatch(/\.test-assemblies$/);
  });

  test(`every template within ${LIMITS.resourcesPerTemplate} resources and 1 MB; the root under 200 resources`, () => {
    for (const f of files) {
      expect(f.resources).toBeLessThanOrEqual(LIMITS.resourcesPerTemplate);
      expect(f.bytes).toBeLessThanOrEqual(LIMITS.templateBytes);
    }
    expect(root.resources).toBeLessThan(200);
  });

  test('every route has its function and method, found by functionFor across stacks', () => {
    expect(large.api.routes).toHaveLength(200);
    expect(Object.keys(large.api.functions)).toHaveLength(200);
    expect(Stack.of(large.api.functionFor('get /area3/item15/{id}'))).toBe(large.api.routeStacks.RoutesArea3);
    expect(Stack.of(large.api.methods['POST /area9/item49'])).toBe(large.api.routeStacks.RoutesArea9);
  });

  test('the parent keeps the REST API, one stage and one deployment that waits for every route stack', () => {
    const template = Template.fromStack(large.stack);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGateway::Stage', 1);
    const deployments = Object.values(template.findResources('AWS::ApiGateway::Deployment'));
    expect(deployments).toHaveLength(1);
    expect(deployments[0].DependsOn).toEqual(expect.arrayContaining(Object.keys(template.findResources('AWS::CloudFormation::Stack'))));
    // The API key route's usage-plan throttle and the stage's methods are in the parent too.
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  test('the distribution in the parent has a behavior for each edge-cached route of the route stacks', () => {
    const [distribution] = Object.values(Template.fromStack(large.stack).findResources('AWS::CloudFront::Distribution'));
    const patterns = distribution.Properties.DistributionConfig.CacheBehaviors.map((b: { PathPattern: string }) => b.PathPattern);
    // Public item paths are every fourth: item0, item4, ... item48.
    expect(patterns).toEqual(Array.from({ length: 13 }, (_, k) => `/area${Math.floor((4 * k) / 5)}/item${4 * k}/*`));
  });

  test('a route stack holds its routes: functions, methods, models; Cognito routes use the parent authorizer', () => {
    const area0 = Template.fromStack(large.api.routeStacks.RoutesArea0);
    area0.resourceCountIs('AWS::Lambda::Function', 20);
    area0.resourceCountIs('AWS::ApiGateway::Method', 20);
    area0.resourceCountIs('AWS::ApiGateway::Model', 5);
    area0.resourceCountIs('AWS::ApiGateway::Authorizer', 0);
    const cognito = Object.values(area0.findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.AuthorizationType === 'COGNITO_USER_POOLS');
    expect(cognito).toHaveLength(4);
    for (const m of cognito) expect(m.Properties.AuthorizerId).toEqual({ Ref: expect.stringMatching(/AuthorizerId|Authorizer/) });
  });
});

describe("the issue's table at 50 routes (40 fit in one stack: test/route-resources.test.ts)", () => {
  const files = templateFiles(issue.stack);

  test('synthesizes, split by itself into one stack per route (one first path segment each), all within limits', () => {
    expect(Object.keys(issue.api.routeStacks)).toHaveLength(50);
    expect(files).toHaveLength(51);
    for (const f of files) expect(f.resources).toBeLessThanOrEqual(LIMITS.resourcesPerTemplate);
  });

  test("monitoring in the parent watches functions of the route stacks through the nested stacks' outputs", () => {
    const template = Template.fromStack(issue.stack).toJSON();
    const monitoring = Object.values<{ Type: string }>(template.Resources).filter((r) => r.Type.startsWith('AWS::CloudWatch::'));
    expect(JSON.stringify(monitoring)).toMatch(/"Fn::GetAtt":\["ApiRoutesR0NestedStackRoutesR0NestedStackResource[0-9A-F]+","Outputs\.Issue50ApiRoutesR0GetR0ByIdFunction[0-9A-F]+Ref"\]/);
  });
});

test("functions in route stacks keep the parent stack's data-cache key prefix and metrics service", () => {
  const fn = Template.fromStack(issue.api.routeStacks.RoutesR7).findResources('AWS::Lambda::Function');
  const variables = Object.values(fn)[0].Properties.Environment.Variables;
  // Writes purge by the parent's prefix (CacheSync) and alarms read the parent's service: a
  // nested stack's own name here would miss both.
  expect(variables).toMatchObject({ DATA_CACHE_KEY_PREFIX: 'Issue50', METRICS_SERVICE: 'Issue50' });
});

test('200 routes with monitoring on: the parent stays under 200 resources with API-level alarms', () => {
  const resources = Object.values(Template.fromStack(large.stack).toJSON().Resources) as Array<{ Type: string }>;
  expect(resources.length).toBeLessThan(200);
  expect(resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length).toBeGreaterThan(0);
});
