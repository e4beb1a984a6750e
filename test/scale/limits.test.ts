/**
 * Limits checked at synth (lib/shared/limits.ts): each fails with the limit's name and the fix.
 * CloudFront's 25 behaviors per distribution are EdgeCache's check (test/edge-cache.test.ts).
 */
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { ApiAuthorization, CacheableApi, RouteTable } from '../../lib';
import { checkApiResourceQuota, checkTemplateLimits, LIMITS } from '../../lib/shared/limits';
import { issueRouteTable, scaleStack } from '../../bench/scale/scale-fixture';
import { testApp } from '../support/nag';

const entry = 'lambda/catalog/health.ts';

/** Runs `stack`'s validations as synth does (after prepare) and returns checkTemplateLimits' errors. */
function limitErrors(build: (stack: Stack) => void): { errors: string[]; stack: Stack } {
  const app = testApp();
  const stack = new Stack(app, 'Limits', { env: { region: 'eu-west-1' } });
  build(stack);
  let errors: string[] = [];
  stack.node.addValidation({ validate: () => (errors = checkTemplateLimits([stack])) });
  try {
    app.synth();
  } catch {
    // The errors are also synth's: the test reads them as checkTemplateLimits returned them.
  }
  return { errors, stack };
}

test(`more than ${LIMITS.resourcesPerTemplate} resources in one template: names the limit, the stack and the fix`, () => {
  const app = testApp();
  // The issue's table at 70 routes (about 8 resources each), kept in one stack.
  scaleStack(app, 'OneStack', { routes: 70, table: issueRouteTable(70), apiProps: { routeStacks: 'never' } });
  expect(() => app.synth()).toThrow(
    /OneStack: \d{3} resources, over CloudFormation's 500 per template\. Fix: let route groups go into nested stacks \(routeStacks: 'auto' or a lower routeStacks.threshold\)/,
  );
});

test('template over 1 MB: names the limit and the fix', () => {
  const { errors } = limitErrors((stack) => {
    new CfnResource(stack, 'Big', { type: 'AWS::SSM::Parameter', properties: { Type: 'String', Value: 'x'.repeat(LIMITS.templateBytes) } });
  });
  expect(errors).toEqual([expect.stringMatching(/^Limits: template of 1\.00 MB, over CloudFormation's 1 MB per template\. Fix: /)]);
});

test('a nested route stack over 500 resources points at routeStacks.groups', () => {
  const app = testApp();
  const stack = new Stack(app, 'Nested', { env: { region: 'eu-west-1' } });
  const routes: RouteTable = {};
  // One first path segment: the 80 routes cannot be split and their stack overflows.
  for (let i = 0; i < 80; i++) routes[`GET /items/n${i}`] = { entry };
  new CacheableApi(stack, 'Api', { authorization: ApiAuthorization.iam(), routes, monitoring: false });
  expect(() => app.synth()).toThrow(/Nested\/Api\/RoutesItems: \d{3} resources, over CloudFormation's 500 per template\. Fix: declare smaller route groups with routeStacks.groups/);
});

test('Lambda environment over 4 KB: names the function, the limit and the fix', () => {
  const app = testApp();
  const stack = new Stack(app, 'Env', { env: { region: 'eu-west-1' } });
  new CacheableApi(stack, 'Api', {
    authorization: ApiAuthorization.iam(),
    routes: { 'GET /a': { entry }, 'GET /b': { entry, function: { environment: { BIG: 'x'.repeat(4100) } } } },
    monitoring: false,
  });
  expect(() => app.synth()).toThrow(/Env\/ApiGetBFunction[0-9A-F]{8}: Lambda environment of at least 4\d{3} bytes, over Lambda's 4 KB \(names and values\)\. Fix: keep large values/);
});

test('references count nothing, literal parts of a join count', () => {
  const { errors } = limitErrors((stack) => {
    new CfnResource(stack, 'Fn', {
      type: 'AWS::Lambda::Function',
      properties: { Environment: { Variables: { A: stack.stackId, B: `${'y'.repeat(2100)}${stack.stackId}${'z'.repeat(2100)}` } } },
    });
  });
  expect(errors).toEqual([expect.stringMatching(/Limits\/Fn: Lambda environment of at least 4202 bytes/)]);
});

describe('API Gateway resources per REST API', () => {
  const paths = (n: number) => Array.from({ length: n }, (_, i) => `/p${i}`);

  test('a table needing more than 300 resources throws, saying the quota is adjustable', () => {
    expect(() => checkApiResourceQuota(paths(301))).toThrow(
      'routes need 301 API Gateway resources (one per distinct path prefix), over the 300 resources per REST API quota (the default). The quota is adjustable: request more "Resources per API" in Service Quotas and set apiResourceQuota',
    );
  });

  test('300 fit; every path prefix counts once', () => {
    expect(() => checkApiResourceQuota(paths(300))).not.toThrow();
    // /a, /a/{id}, /a/{id}/b: three resources for three routes on two paths.
    expect(() => checkApiResourceQuota(['/a/{id}', '/a/{id}/b', '/a'], 3)).not.toThrow();
    expect(() => checkApiResourceQuota(['/a/{id}', '/a/{id}/b', '/a'], 2)).toThrow(/need 3 API Gateway resources/);
  });

  test('a raised quota is honoured through apiResourceQuota; a bad value is refused', () => {
    const routes: RouteTable = Object.fromEntries(paths(301).map((p) => [`GET ${p}`, { entry }]));
    const make = (quota?: number) => () =>
      new CacheableApi(new Stack(new App(), 'Q'), 'Api', { authorization: ApiAuthorization.iam(), routes, apiResourceQuota: quota, monitoring: false });
    expect(make()).toThrow(/need 301 API Gateway resources/);
    expect(() => checkApiResourceQuota(paths(301), 400)).not.toThrow();
    expect(() => checkApiResourceQuota([], 0)).toThrow('apiResourceQuota must be a whole number of resources, 1 or more, got 0');
  });
});

test(`more than ${LIMITS.cachePoliciesWarnAt} cache policies in one stack: a warning naming the account quota`, () => {
  const { errors, stack } = limitErrors((s) => {
    for (let i = 0; i <= LIMITS.cachePoliciesWarnAt; i++) new cloudfront.CachePolicy(s, `Policy${i}`);
  });
  expect(errors).toEqual([]);
  Annotations.fromStack(stack).hasWarning('/Limits', Match.stringLikeRegexp('6 CloudFront cache policies in this stack; an account holds 20'));
});

test(`${LIMITS.cachePoliciesWarnAt} cache policies: no warning`, () => {
  const { stack } = limitErrors((s) => {
    for (let i = 0; i < LIMITS.cachePoliciesWarnAt; i++) new cloudfront.CachePolicy(s, `Policy${i}`);
  });
  Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
});

test('the parent of route stacks over 500 resources: names what fills it', () => {
  const app = testApp();
  const stack = new Stack(app, 'Parent', { env: { region: 'eu-west-1' } });
  new CacheableApi(stack, 'Api', { authorization: ApiAuthorization.iam(), routes: { 'GET /a': { entry }, 'GET /b': { entry } }, routeStacks: { threshold: 1 }, monitoring: false });
  for (let i = 0; i < 500; i++) new CfnResource(stack, `Param${i}`, { type: 'AWS::SSM::Parameter', properties: { Type: 'String', Value: 'x' } });
  expect(() => app.synth()).toThrow(
    /Parent: 5\d\d resources, over CloudFormation's 500 per template\. Fix: the routes already sit in nested stacks; most of this stack is AWS::SSM::Parameter \(500\), /,
  );
});
