import * as net from 'node:net';
import { CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { dataPurgeDeps } from '../../lambda/purge/data-cache-purge';
import type { edgePurgeDeps } from '../../lambda/purge/edge-purge';
import { resetCacheClient } from '../../lambda/runtime/cache';
import { freePort } from '../support/servers';

// The purges' time reserves count one whole SDK attempt, bounded by the clients' requestTimeout.
// @smithy/node-http-handler 4 only logs a warning when requestTimeout passes unless
// throwOnRequestTimeout is set: against a server that accepts and never answers, the deployed
// clients waited until Lambda killed the function (found by the data purge's mutation run). These
// tests wait the real timeouts (3 s and 10 s): they assert only that the call ends, not when.

const saved = { ...process.env };
let silent: net.Server;
const sockets: net.Socket[] = [];
let endpoint: string;

beforeAll(async () => {
  // Accepts connections, reads the request, never answers.
  silent = net.createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
  Object.assign(process.env, {
    DATA_CACHE_ENGINE: 'redis',
    DATA_CACHE_ENDPOINT: `127.0.0.1:${await freePort()}`, // connected lazily, never used here
    DATA_PURGE_KEYS: 'item:{id}',
    DISTRIBUTION_ID: 'E2EXAMPLE',
    EDGE_PURGE_PATHS: '/items/{id}',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_CLOUDFRONT: endpoint,
  });
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterAll(async () => {
  jest.restoreAllMocks();
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  await resetCacheClient();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

/** The module's deps built inside the calling test (fresh module; they are memoised per container). */
function fresh<T>(path: string, name: string): T {
  let deps!: T;
  jest.isolateModules(() => (deps = require(path)[name]));
  return deps;
}

const batch = () => new SendMessageBatchCommand({ QueueUrl: `${endpoint}/123456789012/Q`, Entries: [{ Id: '0', MessageBody: 'x' }] });

test('the data purge\'s SQS client gives up on a server that never answers, after one attempt', async () => {
  const before = sockets.length;
  await expect((fresh<typeof dataPurgeDeps>('../../lambda/purge/data-cache-purge', 'dataPurgeDeps')().sqs as SQSClient).send(batch())).rejects.toThrow(/timeout/i);
  expect(sockets.length - before).toBe(1);
}, 30_000);

test('the edge purge\'s SQS and CloudFront clients give up on a server that never answers, after one attempt each', async () => {
  const deps = fresh<typeof edgePurgeDeps>('../../lambda/purge/edge-purge', 'edgePurgeDeps')();
  const before = sockets.length;
  await expect((deps.sqs as SQSClient).send(batch())).rejects.toThrow(/timeout/i);
  await expect(
    (deps.client as CloudFrontClient).send(
      new CreateInvalidationCommand({ DistributionId: 'E2EXAMPLE', InvalidationBatch: { CallerReference: 'r', Paths: { Quantity: 1, Items: ['/items/a'] } } }),
    ),
  ).rejects.toThrow(/timeout/i);
  expect(sockets.length - before).toBe(2);
}, 40_000);
