import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { CatalogStack } from '../lib/sample';
import { architectureModel, ArchitectureModel, CfnTemplate, main, renderSvg, toDot } from '../scripts/diagram';
import { testApp } from './support/nag';

// The sample stack synthesized once, template only (no bundling, no nag: the picture reads the template).
const app = testApp();
const stack = new CatalogStack(app, 'CatalogStack');
const template = Template.fromStack(stack).toJSON() as CfnTemplate;
const model = architectureModel(template, 'CatalogStack');
let svg = '';
beforeAll(async () => {
  svg = await renderSvg(toDot(model));
});

/** The text lines of an SVG, entities decoded. */
function svgTexts(document: string): string[] {
  return [...document.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#123;/g, '{').replace(/&#125;/g, '}').replace(/&amp;/g, '&'),
  );
}

const functionsOf = (t: CfnTemplate) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const routeFunctions = functionsOf(template).filter(([, r]) => r.Properties?.Environment?.Variables?.ROUTE_KEY);
const routeKeyOf = (id: string) => template.Resources[id].Properties.Environment.Variables.ROUTE_KEY as string;
const idOfRoute = (routeKey: string) => routeFunctions.find(([id]) => routeKeyOf(id) === routeKey)![0];
const idsOfType = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id].Type === type);
const edgesFrom = (m: ArchitectureModel, from: string) => m.edges.filter((e) => e.from === from);
const edge = (m: ArchitectureModel, from: string, to: string) => m.edges.find((e) => e.from === from && e.to === to);

test('the picture is an SVG document that names every route function of the template', () => {
  expect(svg).toMatch(/^<\?xml[^>]*>\s*<!DOCTYPE svg/);
  expect(svg.trim().endsWith('</svg>')).toBe(true);
  expect(routeFunctions.length).toBe(6);
  const texts = svgTexts(svg);
  for (const [id] of routeFunctions) expect(texts).toContain(routeKeyOf(id));
});

test('one box per route function and per stream function; CloudFormation plumbing is left out', () => {
  const drawn = new Set(model.nodes.map((n) => n.id));
  for (const [id] of routeFunctions) expect(model.nodes.find((n) => n.id === id)?.kind).toBe('route');
  const streamFunctions = model.nodes.filter((n) => n.kind === 'function').map((n) => n.id);
  expect(streamFunctions.sort()).toEqual([...new Set(idsOfType('AWS::Lambda::EventSourceMapping').map((id) => template.Resources[id].Properties.FunctionName.Ref))].sort());
  const plumbing = functionsOf(template).map(([id]) => id).filter((id) => !drawn.has(id));
  expect(plumbing.length).toBeGreaterThan(0); // e.g. the VPC default-security-group custom resource
  // The origin-verify secret's rotation function is on no request or purge path (lib/edge/README.md, "Rotation").
  for (const id of plumbing.filter((i) => !/^ApiEdgeOriginVerificationRotationFunction/.test(i))) expect(id).not.toMatch(/^Api|^CacheSync/);
});

test('request path: viewer → CloudFront → API Gateway → each route function', () => {
  const [distribution] = idsOfType('AWS::CloudFront::Distribution');
  const [api] = idsOfType('AWS::ApiGateway::RestApi');
  expect(edge(model, 'viewer', distribution)).toMatchObject({ path: 'request' });
  expect(edge(model, distribution, api)).toMatchObject({ path: 'request', label: 'origin' });
  expect(edge(model, 'viewer', api)).toBeUndefined(); // only through the edge
  expect(edgesFrom(model, api).map((e) => e.to).sort()).toEqual(routeFunctions.map(([id]) => id).sort());
});

test('each route function reaches the stores its role and environment name, no others', () => {
  const [table] = [...idsOfType('AWS::DynamoDB::GlobalTable'), ...idsOfType('AWS::DynamoDB::Table')];
  const [cache] = idsOfType('AWS::ElastiCache::ServerlessCache');
  expect(edge(model, idOfRoute('GET /items'), table)?.label).toBe('read');
  expect(edge(model, idOfRoute('GET /items/{id}'), table)?.label).toBe('read');
  expect(edge(model, idOfRoute('PUT /items/{id}'), table)?.label).toBe('write');
  expect(edge(model, idOfRoute('DELETE /items/{id}'), table)?.label).toBe('write');
  // GET /health has TABLE_NAME in its environment (function defaults) but no grant: no edge.
  expect(edge(model, idOfRoute('GET /health'), table)).toBeUndefined();
  for (const route of ['GET /items', 'GET /items/{id}', 'PUT /items/{id}', 'DELETE /items/{id}']) {
    expect(edge(model, idOfRoute(route), cache)).toMatchObject({ path: 'request', label: 'cache-aside' });
  }
  expect(edge(model, idOfRoute('GET /health'), cache)).toBeUndefined();
  expect(model.nodes.find((n) => n.id === cache)).toMatchObject({ kind: 'cache', inVpc: true });
  expect(model.nodes.find((n) => n.id === idOfRoute('GET /items/{id}'))?.label).toEqual(['GET /items/{id}', 'λ 512 MB arm64', 'edge 60 s · data 300 s']);
});

test('purge paths: table → stream → data purge → cache, then → request queue → edge purge → CloudFront; failed batches → queues', () => {
  const [table] = idsOfType('AWS::DynamoDB::GlobalTable');
  const [cache] = idsOfType('AWS::ElastiCache::ServerlessCache');
  const [distribution] = idsOfType('AWS::CloudFront::Distribution');
  const stream = `${table}.stream`;
  expect(edge(model, table, stream)).toMatchObject({ path: 'purge' });
  const purges = model.nodes.filter((n) => n.kind === 'function').map((n) => n.id);
  expect(purges).toHaveLength(2);
  const dataPurge = purges.find((id) => edge(model, id, cache))!;
  const edgePurge = purges.find((id) => edge(model, id, distribution))!;
  expect(dataPurge).not.toBe(edgePurge);
  // Only the data purge reads the stream; the edge purge follows it through its request queue.
  expect(edge(model, stream, dataPurge)).toMatchObject({ path: 'purge' });
  expect(edge(model, stream, edgePurge)).toBeUndefined();
  const requests = idsOfType('AWS::SQS::Queue').find((id) => id.includes('EdgePurgeRequests'))!;
  expect(edge(model, dataPurge, requests)).toMatchObject({ path: 'purge', label: 'then' });
  expect(edge(model, requests, edgePurge)).toMatchObject({ path: 'purge', label: 'batches of 1000' });
  expect(edge(model, edgePurge, requests)).toMatchObject({ label: 'retry later' });
  expect(edge(model, dataPurge, table)).toBeUndefined(); // reading the stream is not using the table
  const failures = edgesFrom(model, dataPurge).find((e) => e.label === 'failed batches');
  expect(template.Resources[failures!.to].Type).toBe('AWS::SQS::Queue');
  expect(edge(model, dataPurge, cache)).toMatchObject({ path: 'purge', label: 'delete keys' });
  expect(edge(model, edgePurge, distribution)).toMatchObject({ path: 'purge', label: 'invalidate' });
  // A purge back to CloudFront must not drag the edge to the right of the functions.
  expect(toDot(model)).toContain(`"${edgePurge}" -> "${distribution}" [label="invalidate", style=dashed, color="#d45b07", fontcolor="#d45b07", constraint=false];`);
});

test('works for other stacks: an API without CloudFront is reached directly, a function without ROUTE_KEY is named by its id', async () => {
  const small: CfnTemplate = {
    Resources: {
      Api1234ABCD: { Type: 'AWS::ApiGateway::RestApi', Properties: { Name: 'orders' } },
      Stage: { Type: 'AWS::ApiGateway::Stage', Properties: { RestApiId: { Ref: 'Api1234ABCD' }, StageName: 'prod' } },
      Orders: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'orders' } },
      Role: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': ['Orders', 'Arn'] } }] } }] } },
      Handler0A1B2C3D: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['Role', 'Arn'] }, MemorySize: 1024 } },
      Method: {
        Type: 'AWS::ApiGateway::Method',
        Properties: { RestApiId: { Ref: 'Api1234ABCD' }, Integration: { Uri: { 'Fn::Join': ['', ['arn:', { 'Fn::GetAtt': ['Handler0A1B2C3D', 'Arn'] }, '/invocations']] } } },
      },
      Provider: { Type: 'AWS::Lambda::Function', Properties: {} },
    },
  };
  const m = architectureModel(small, 'Orders');
  expect(m.nodes.map((n) => [n.id, n.kind, n.label[0]])).toEqual([
    ['viewer', 'viewer', 'Viewer'],
    ['Api1234ABCD', 'api', 'API Gateway'],
    ['Orders', 'table', 'DynamoDB table'],
    ['Handler0A1B2C3D', 'route', 'Handler'],
  ]);
  expect(m.edges).toEqual([
    { from: 'viewer', to: 'Api1234ABCD', path: 'request', label: 'HTTPS' },
    { from: 'Api1234ABCD', to: 'Handler0A1B2C3D', path: 'request' },
    { from: 'Handler0A1B2C3D', to: 'Orders', path: 'request', label: 'read/write' },
  ]);
  expect(m.nodes[1].label[1]).toBe('orders (stage prod)');
  const texts = svgTexts(await renderSvg(toDot(m)));
  expect(texts).toEqual(expect.arrayContaining(['Handler', 'λ 1024 MB', 'orders (stage prod)']));
});

test('npm run diagram: reads a template path, writes the SVG, and says what it drew', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cca-diagram-'));
  try {
    const templatePath = path.join(dir, 'CatalogStack.template.json');
    fs.writeFileSync(templatePath, JSON.stringify(template));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const written = await main([templatePath, 'out/architecture.svg'], dir);
    expect(written).toBe(path.join(dir, 'out', 'architecture.svg'));
    expect(log.mock.calls[0][0]).toMatch(/6 route functions, 2 stream functions, 1 caches, 1 tables, 1 distributions/);
    log.mockRestore();
    const texts = svgTexts(fs.readFileSync(written, 'utf8'));
    expect(texts).toContain('CatalogStack: what is deployed');
    for (const [id] of routeFunctions) expect(texts).toContain(routeKeyOf(id));
    await expect(main([path.join(dir, 'missing.template.json')], dir)).rejects.toThrow(/not found: synthesize first/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
