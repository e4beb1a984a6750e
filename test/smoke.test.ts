/**
 * The smoke command against stand-ins of a deployed stack: CloudFormation and Lambda mocked with
 * aws-sdk-client-mock (the mocked Invoke runs the real health handler on the event it is sent),
 * the local dev server as CloudFront, and a small server as the API's regional endpoint behind
 * the web ACL (403 without the origin-verify header).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { CATALOG_AUTHORIZATION, CATALOG_CONSUMERS, catalogRoutes } from '../lib/sample/catalog-routes';
import { handler as healthHandler } from '../lambda/catalog/health';
import { createDevServer, DevServer } from '../dev/server';
import { CHECKS, findOutput, formatSmokeTable, runSmoke, smokeCli, SmokeOptions } from '../dev/smoke';

const STACK = 'CatalogStack';
const OUTPUTS: Output[] = [
  { OutputKey: 'ApiUrl', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/' },
  { OutputKey: 'ApiCatalogEndpoint5E1E5B2F', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/' },
  { OutputKey: 'EdgeDistributionDomainNameA1B2C3D4', OutputValue: 'd111111abcdef8.cloudfront.net' },
  { OutputKey: 'CatalogHealthFunctionName', OutputValue: 'CatalogStack-ApiGetHealthFunction-AbC123' },
  { OutputKey: 'TableName', OutputValue: 'CatalogStack-Items-XYZ' },
];

const cloudFormation = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);

let edge: DevServer;
let uncachedEdge: DevServer;
let api: http.Server;
let apiUrl: string;
/** What the API stand-in answers a request carrying the origin-verify header, or lacking it. */
let apiAnswers = { withHeader: 200, without: 403 };

beforeAll(async () => {
  const routes = catalogRoutes({ partnerFeed: true });
  const consumers = CATALOG_CONSUMERS.map((c) => ({ ...c, apiKey: 'smoke-test-partner-key-0123456789' }));
  const common = { routes, consumers, authorization: CATALOG_AUTHORIZATION, port: 0, environment: { TABLE_NAME: 'memory' }, log: () => undefined };
  edge = await createDevServer(common);
  uncachedEdge = await createDevServer({ ...common, edgeCache: false });
  api = http.createServer((req, res) => {
    const status = req.headers['x-origin-verify'] ? apiAnswers.withHeader : apiAnswers.without;
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: status === 403 ? 'Forbidden' : 'ok' }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/v1/`;
});

afterAll(async () => {
  await edge?.close();
  await uncachedEdge?.close();
  await new Promise((resolve) => api?.close(resolve));
});

const invokedEvents: APIGatewayProxyEvent[] = [];

/** A Lambda Invoke response payload (the SDK's Uint8Array with `transformToString`). */
const payload = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
};

beforeEach(() => {
  apiAnswers = { withHeader: 200, without: 403 };
  invokedEvents.length = 0;
  cloudFormation.reset();
  lambda.reset();
  cloudFormation.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: OUTPUTS }],
  });
  // The real health handler answers the event the smoke command sends.
  lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
    const event = JSON.parse(new TextDecoder().decode(input.Payload)) as APIGatewayProxyEvent;
    invokedEvents.push(event);
    const result = await healthHandler(event);
    return { StatusCode: 200, Payload: payload(result) };
  });
});

const options = (overrides: Partial<SmokeOptions> = {}): SmokeOptions => ({
  stackName: STACK,
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  lambda: new LambdaClient({ region: 'eu-west-1' }),
  edgeBaseUrl: edge.url,
  apiBaseUrl: apiUrl,
  retryDelayMs: 10,
  ...overrides,
});

/** The injected clients and URLs, for the CLI (which takes the stack name from its arguments). */
const cliOverrides = (overrides: Partial<SmokeOptions> = {}): Partial<SmokeOptions> => {
  const { stackName, ...rest } = options(overrides);
  void stackName;
  return rest;
};

const statuses = (checks: { name: string; status: string }[]) => Object.fromEntries(checks.map((c) => [c.name, c.status]));

test('every check passes against a healthy stack (the dev server standing in for CloudFront)', async () => {
  const report = await runSmoke(options());
  expect(statuses(report.checks)).toEqual({
    [CHECKS.outputs]: 'PASS',
    [CHECKS.health]: 'PASS',
    [CHECKS.edge]: 'PASS',
    [CHECKS.hit]: 'PASS',
    [CHECKS.apiKey]: 'PASS',
    [CHECKS.origin]: 'PASS',
  });
  expect(report.ok).toBe(true);
  expect(report.checks.find((c) => c.name === CHECKS.apiKey)!.detail).toMatch(/\/partner\/items\?limit=1 403 INVALID_API_KEY$/);
  expect(report.checks.find((c) => c.name === CHECKS.hit)!.detail).toMatch(/Miss from dev-edge → 200 Hit from dev-edge/);

  expect(cloudFormation.commandCalls(DescribeStacksCommand)[0].args[0].input).toEqual({ StackName: STACK });
  const invoke = lambda.commandCalls(InvokeCommand)[0].args[0].input;
  expect(invoke).toMatchObject({ FunctionName: 'CatalogStack-ApiGetHealthFunction-AbC123', InvocationType: 'RequestResponse' });
  // A proxy event as API Gateway sends it.
  expect(invokedEvents[0]).toMatchObject({ httpMethod: 'GET', path: '/health', resource: '/health', requestContext: { httpMethod: 'GET' } });

  const table = formatSmokeTable(report);
  expect(table.split('\n')).toHaveLength(8);
  expect(table).toMatch(/^check\s+result\s+time\s+detail$/m);
  expect(table).toContain(`smoke ${STACK}: all 6 checks passed`);
});

test('the CLI prints the table and exits 0 when every check passes', async () => {
  let printed = '';
  const code = await smokeCli(['--stack', STACK, '--region', 'eu-west-1'], cliOverrides(), (t) => (printed += t));
  expect(code).toBe(0);
  expect(printed).toContain('all 6 checks passed');
});

test.each([
  [
    'the health function fails',
    () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorMessage: 'boom' }) }),
    CHECKS.health,
    /function error Unhandled: .*boom/,
  ],
  [
    'the health function answers 500',
    () => lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: payload({ statusCode: 500, body: '{}' }) }),
    CHECKS.health,
    /statusCode 500/,
  ],
  ['the API answers without the origin-verify header', () => (apiAnswers = { withHeader: 200, without: 200 }), CHECKS.origin, /answered 200, not 403/],
])('exits 1 when %s', async (_case, breakIt, failing, detail) => {
  breakIt();
  let printed = '';
  const code = await smokeCli(['--stack', STACK], cliOverrides(), (t) => (printed += t));
  expect(code).toBe(1);
  const report = await runSmoke(options());
  const check = report.checks.find((c) => c.name === failing)!;
  expect(check.status).toBe('FAIL');
  expect(check.detail).toMatch(detail);
  expect(report.checks.filter((c) => c.status !== 'PASS').map((c) => c.name)).toEqual([failing]);
  expect(printed).toMatch(new RegExp(`${failing.replace(/[()]/g, '\\$&')}\\s+FAIL`));
  expect(printed).toContain('1 of 6 checks did not pass');
});

test('fails the cache check when the edge never answers from its cache', async () => {
  const report = await runSmoke(options({ edgeBaseUrl: uncachedEdge.url, hitAttempts: 2 }));
  const check = report.checks.find((c) => c.name === CHECKS.hit)!;
  expect(check.status).toBe('FAIL');
  expect(check.detail).toBe('GET /items?limit=1 was never a cache hit: 200 Miss from dev-edge → 200 Miss from dev-edge → 200 Miss from dev-edge');
  expect(report.ok).toBe(false);
});

test('fails the outputs check, naming what is missing, and skips what needs it', async () => {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [{ StackName: STACK, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date(), Outputs: [OUTPUTS[4]] }],
  });
  const report = await runSmoke(options({ edgeBaseUrl: undefined, apiBaseUrl: undefined }));
  expect(statuses(report.checks)).toEqual({
    [CHECKS.outputs]: 'FAIL',
    [CHECKS.health]: 'SKIP',
    [CHECKS.edge]: 'SKIP',
    [CHECKS.hit]: 'SKIP',
    [CHECKS.apiKey]: 'SKIP',
    [CHECKS.origin]: 'SKIP',
  });
  expect(report.checks[0].detail).toBe('CREATE_COMPLETE has no output ApiUrl, DistributionDomainName, HealthFunctionName (outputs: TableName)');
  expect(report.ok).toBe(false);
});

test('fails the API-key check when a keyed route answers without a key', async () => {
  const report = await runSmoke(options({ apiKeyPath: '/health' }));
  const check = report.checks.find((c) => c.name === CHECKS.apiKey)!;
  expect(check).toMatchObject({ status: 'FAIL' });
  expect(check.detail).toMatch(/^GET \/health without x-api-key answered 200, not 403/);
  expect(report.checks.filter((c) => c.status !== 'PASS').map((c) => c.name)).toEqual([CHECKS.apiKey]);
});

test('fails when the stack does not exist', async () => {
  cloudFormation.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
  const report = await runSmoke(options({ stackName: 'Nope' }));
  expect(report.checks[0]).toMatchObject({ status: 'FAIL', detail: 'Stack with id Nope does not exist' });
  expect(report.ok).toBe(false);
});

test('findOutput matches by key, key suffix or CDK hash suffix, and refuses ambiguity', () => {
  expect(findOutput(OUTPUTS, 'ApiUrl')).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/');
  expect(findOutput(OUTPUTS, 'DistributionDomainName')).toBe('d111111abcdef8.cloudfront.net');
  expect(findOutput(OUTPUTS, 'HealthFunctionName')).toBe('CatalogStack-ApiGetHealthFunction-AbC123');
  expect(findOutput(OUTPUTS, 'Missing')).toBeUndefined();
  const twice: Output[] = [
    { OutputKey: 'AApiUrl', OutputValue: 'a' },
    { OutputKey: 'BApiUrl', OutputValue: 'b' },
  ];
  expect(() => findOutput(twice, 'ApiUrl')).toThrow('several outputs match ApiUrl: AApiUrl, BApiUrl');
});

test('usage errors exit 2', async () => {
  const printed: string[] = [];
  expect(await smokeCli([], {}, (t) => printed.push(t))).toBe(2);
  expect(printed[0]).toContain('--stack is required');
  expect(await smokeCli(['--stack', 'X', '--bogus'], {}, (t) => printed.push(t))).toBe(2);
  expect(await smokeCli(['--stack', 'X', '--path', 'items'], {}, (t) => printed.push(t))).toBe(2);
});
