/**
 * Route stacks on small tables (a threshold of 1 splits them): placement, the parent's
 * deployment keyed on each group's methods and waiting for its stack, CORS and models in the
 * nested stacks, and the props' validation.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ApiAuthorization, CacheableApi, CacheableApiProps, RouteTable } from '../../lib';
import { parseRouteTable } from '../../lib/api/route-table';
import { placeRoutes } from '../../lib/api/route-stacks';
import { testApp } from '../support/nag';

const entry = 'lambda/catalog/health.ts';
const PUBLIC = ApiAuthorization.publicAccess('Public test content for everyone');

function table(overrides: RouteTable = {}): RouteTable {
  return {
    'GET /': { entry, authorization: PUBLIC },
    'GET /items': { entry, authorization: PUBLIC },
    'GET /items/{id}': { entry },
    'POST /items': { entry, request: { bodySchema: { type: apigw.JsonSchemaType.OBJECT, required: ['name'] } } },
    'GET /orders/{id}': { entry },
    'DELETE /orders/{id}': { entry },
    ...overrides,
  };
}

function synth(routes: RouteTable, props: Partial<CacheableApiProps> = {}, app: App = testApp()) {
  const stack = new Stack(app, 'Split', { env: { region: 'eu-west-1' } });
  const api = new CacheableApi(stack, 'Api', {
    authorization: ApiAuthorization.iam(),
    routes,
    monitoring: false,
    routeStacks: { threshold: 1 },
    ...props,
  });
  return { app, stack, api, template: Template.fromStack(stack) };
}

function deploymentId(template: Template): string {
  const ids = Object.keys(template.findResources('AWS::ApiGateway::Deployment'));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('placement', () => {
  const routes = parseRouteTable(table({ 'GET /Items': { entry }, 'GET /items-v2': { entry } }));

  test('one group per first path segment in declaration order; `/` routes stay in the parent', () => {
    const placement = placeRoutes(routes, { threshold: 1 });
    expect(placement.parentRoutes.map((r) => r.key)).toEqual(['GET /']);
    expect(placement.groups.map((g) => [g.id, g.routes.map((r) => r.key)])).toEqual([
      ['RoutesItems', ['GET /items', 'GET /items/{id}', 'POST /items']],
      ['RoutesOrders', ['GET /orders/{id}', 'DELETE /orders/{id}']],
      [expect.stringMatching(/^RoutesItems[0-9a-f]{8}$/), ['GET /Items']],
      ['RoutesItemsV2', ['GET /items-v2']],
    ]);
  });

  test('declared groups gather their segments; others keep a stack each', () => {
    const placement = placeRoutes(routes, { threshold: 1, groups: { Catalog: ['orders', 'items-v2'] } });
    expect(placement.groups.map((g) => [g.id, g.segments])).toEqual([
      ['RoutesItems', ['items']],
      ['RoutesCatalog', ['orders', 'items-v2']],
      [expect.stringMatching(/^RoutesItems[0-9a-f]{8}$/), ['Items']],
    ]);
  });

  test("at or below the threshold, and with 'never', everything stays in the parent", () => {
    expect(placeRoutes(routes, 'auto').groups).toEqual([]);
    expect(placeRoutes(routes, { threshold: routes.length }).groups).toEqual([]);
    expect(placeRoutes(routes, 'never').groups).toEqual([]);
    expect(placeRoutes(routes, { threshold: routes.length - 1 }).groups).toHaveLength(4);
  });

  test.each([
    [{ threshold: 0 }, /routeStacks.threshold must be a whole number of routes, 1 or more, got 0/],
    [{ threshold: 2.5 }, /routeStacks.threshold must be a whole number/],
    ['sometimes', /routeStacks must be 'auto', 'never' or \{ threshold\?, groups\? \}, got "sometimes"/],
    [{ groups: { 'bad-name': ['items'] } }, /group name "bad-name" must be 1 to 64 letters and digits, starting with a letter/],
    [{ groups: { A: [] } }, /routeStacks.groups.A must list first path segments/],
    [{ groups: { A: ['items'], B: ['items'] } }, /segment "items" is in both A and B/],
  ])('invalid routeStacks %j throws naming the prop', (option, message) => {
    expect(() => placeRoutes(routes, option as never)).toThrow(message);
  });
});

describe('a split API', () => {
  const { stack, api, template } = synth(table(), { cors: { allowOrigins: ['https://shop.example.com'] } });
  const items = api.routeStacks.RoutesItems;
  const itemsTemplate = Template.fromStack(items);

  test('functions, resources, methods and models of a group live in its nested stack', () => {
    expect(Object.keys(api.routeStacks)).toEqual(['RoutesItems', 'RoutesOrders']);
    expect(Stack.of(api.functionFor('get /items/{id}'))).toBe(items);
    expect(Stack.of(api.functionFor('GET /'))).toBe(stack);
    itemsTemplate.resourceCountIs('AWS::Lambda::Function', 3);
    itemsTemplate.resourceCountIs('AWS::ApiGateway::Model', 1);
    // /items and /items/{id}; each with its CORS pre-flight besides the routes' methods.
    itemsTemplate.resourceCountIs('AWS::ApiGateway::Resource', 2);
    itemsTemplate.resourceCountIs('AWS::ApiGateway::Method', 5);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::ApiGateway::Resource', 0);
    template.resourceCountIs('AWS::CloudFormation::Stack', 2);
  });

  test('invoke permissions name the stage, not every stage', () => {
    const permissions = Object.values(itemsTemplate.findResources('AWS::Lambda::Permission'));
    expect(permissions.length).toBeGreaterThan(0);
    for (const p of permissions) expect(JSON.stringify(p.Properties.SourceArn)).toContain('/v1/');
  });

  test('the deployment waits for every route stack', () => {
    const deployment = template.findResources('AWS::ApiGateway::Deployment')[deploymentId(template)];
    const stackIds = Object.keys(template.findResources('AWS::CloudFormation::Stack'));
    expect(deployment.DependsOn).toEqual(expect.arrayContaining(stackIds));
  });
});

describe("the parent's deployment is keyed on each group's methods", () => {
  const base = deploymentId(synth(table()).template);

  test('the same table keeps the deployment', () => {
    expect(deploymentId(synth(table()).template)).toBe(base);
  });

  test('a method change in one group redeploys the stage', () => {
    const changed = table({ 'GET /orders/{id}': { entry, request: { queryStrings: { expand: false } } } });
    expect(deploymentId(synth(changed).template)).not.toBe(base);
  });

  test('a route added to a group redeploys the stage', () => {
    expect(deploymentId(synth(table({ 'PUT /orders/{id}': { entry } })).template)).not.toBe(base);
  });

  test('a function setting that no method sees keeps the deployment', () => {
    const changed = table({ 'GET /orders/{id}': { entry, function: { memorySize: 512 } } });
    expect(deploymentId(synth(changed).template)).toBe(base);
  });
});

test('a split table with no method in the parent (no `/` route, no CORS) synthesizes', () => {
  const routes = table();
  delete (routes as Record<string, unknown>)['GET /'];
  const { app, template } = synth(routes);
  expect(() => app.synth()).not.toThrow();
  template.resourceCountIs('AWS::ApiGateway::Method', 0);
});

test('stage-cache settings and per-consumer method throttles reach methods of route stacks', () => {
  const routes = table({
    'GET /items/{id}': { entry, authorization: PUBLIC, cache: { gateway: { ttl: Duration.minutes(1) } } },
    'GET /orders/{id}': { entry, authorization: PUBLIC, requireApiKey: true },
  });
  const { template, api } = synth(routes, { consumers: [{ name: 'partner', routeThrottles: { 'GET /orders/{id}': { rateLimit: 5, burstLimit: 10 } } }] });
  expect(Stack.of(api.methods['GET /items/{id}'])).toBe(api.routeStacks.RoutesItems);
  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    CacheClusterEnabled: true,
    MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: 'GET', ResourcePath: '/~1items~1{id}', CachingEnabled: true, CacheTtlInSeconds: 60 })]),
  });
  template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
    ApiStages: [Match.objectLike({ Throttle: { '/orders/{id}/GET': { RateLimit: 5, BurstLimit: 10 } } })],
  });
});
