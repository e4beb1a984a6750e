import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createDataCachePurgeHandler, dataPurgeSettingsFromEnv } from '../../lambda/purge/data-cache-purge';
import { findRedrivePairs, parseRedriveArgs, redriveCli, runRedrive } from '../../dev/redrive';
import { insert, streamEvent } from './stream-events';

const cfn = mockClient(CloudFormationClient);
const sqs = mockClient(SQSClient);
const url = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/CatalogStack-${name}`;
const RESOURCES = [
  { LogicalResourceId: 'CacheSyncEdgePurgeFailures1A2B3C4D', PhysicalResourceId: url('EdgeFailures'), ResourceType: 'AWS::SQS::Queue' },
  { LogicalResourceId: 'CacheSyncEdgePurgeRequestsC6857642', PhysicalResourceId: url('EdgeRequests'), ResourceType: 'AWS::SQS::Queue' },
  { LogicalResourceId: 'CacheSyncDataPurgeFailures7D81B95E', PhysicalResourceId: url('DataFailures'), ResourceType: 'AWS::SQS::Queue' },
  { LogicalResourceId: 'CacheSyncDataPurgeRetriesE3D0FB26', PhysicalResourceId: url('DataRetries'), ResourceType: 'AWS::SQS::Queue' },
  { LogicalResourceId: 'CacheSyncFailuresDlqAAAAAAAA', PhysicalResourceId: url('Dlq'), ResourceType: 'AWS::SQS::Queue' },
  { LogicalResourceId: 'Items5C12978B', PhysicalResourceId: 'Items', ResourceType: 'AWS::DynamoDB::GlobalTable' },
].map((r) => ({ ...r, LastUpdatedTimestamp: new Date(), ResourceStatus: 'CREATE_COMPLETE' as const }));

/** SQS queues in memory: enough of Send, SendMessageBatch, Receive and Delete for the redrive. */
const queues = new Map<string, Array<{ id: string; body: string }>>();
let nextId = 1;
const q = (u: string) => (queues.has(u) ? queues.get(u)! : (queues.set(u, []), queues.get(u)!));
function installQueues() {
  queues.clear();
  sqs.on(SendMessageCommand).callsFake((i) => (q(i.QueueUrl).push({ id: `m${nextId++}`, body: i.MessageBody }), { MessageId: 'x' }));
  sqs.on(SendMessageBatchCommand).callsFake((i) => {
    for (const e of i.Entries) q(i.QueueUrl).push({ id: `m${nextId++}`, body: e.MessageBody });
    return { Successful: [], Failed: [] };
  });
  sqs.on(ReceiveMessageCommand).callsFake((i) => ({ Messages: q(i.QueueUrl).slice(0, i.MaxNumberOfMessages).map((m) => ({ MessageId: m.id, ReceiptHandle: m.id, Body: m.body })) }));
  sqs.on(DeleteMessageCommand).callsFake((i) => {
    const list = q(i.QueueUrl);
    list.splice(list.findIndex((m) => m.id === i.ReceiptHandle), 1);
    return {};
  });
}

const env = {
  DATA_PURGE_KEYS: 'item:{id}',
  DATA_PURGE_GROUPS: 'items',
  EDGE_PURGE_PATHS: '/items/{id},/items,/items?*',
  EDGE_PURGE_QUEUE_URL: url('EdgeRequests'),
  DATA_PURGE_RETRY_QUEUE_URL: url('DataRetries'),
};

beforeEach(() => {
  cfn.reset();
  sqs.reset();
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: RESOURCES });
  installQueues();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

test('pairs each failure queue with the queue its purge reads', () => {
  expect(findRedrivePairs(RESOURCES)).toEqual([
    { kind: 'edge', failures: url('EdgeFailures'), target: url('EdgeRequests') },
    { kind: 'data', failures: url('DataFailures'), target: url('DataRetries') },
  ]);
});

test('a purge the cache refused lands on the failure queue with its keys; the redrive replays it and the purge completes it', async () => {
  const purged: string[] = [];
  let reachable = false;
  const cache = {
    invalidate: async (k: string) => (reachable && purged.push(`key:${k}`), reachable),
    invalidateGroup: async (g: string) => (reachable && purged.push(`group:${g}`), reachable),
  };
  const purge = createDataCachePurgeHandler(() => ({ cache, settings: dataPurgeSettingsFromEnv(env), sleep: async () => undefined, random: () => 0, sqs: new SQSClient({}) }));

  // The stream batch: the cache is down, the work goes to the retry queue; the stream moves on.
  expect(await purge(streamEvent(insert({ id: 'lamp-1' })))).toEqual({ batchItemFailures: [] });
  const retry = q(url('DataRetries')).splice(0);
  expect(retry).toHaveLength(1);
  // Five failed receives later, SQS's redrive policy moves it to the failure queue as it is.
  const record = (body: string): SQSRecord => ({ messageId: 'r1', body, eventSource: 'aws:sqs' }) as SQSRecord;
  expect((await purge({ Records: [record(retry[0].body)] })).batchItemFailures).toEqual([{ itemIdentifier: 'r1' }]);
  q(url('DataFailures'))!.push(retry[0]);
  // A stream failure record (shard metadata only) shares the queue.
  q(url('DataFailures'))!.push({ id: 'meta', body: JSON.stringify({ DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '100', endSequenceNumber: '200', streamArn: 'arn:stream' } }) });

  const dry = await runRedrive({ stack: 'CatalogStack', dryRun: true }, { cloudFormation: new CloudFormationClient({}), sqs: new SQSClient({}) });
  expect(dry.replayed).toBe(1);
  expect(q(url('DataRetries'))).toEqual([]);

  expect(await redriveCli(['--stack', 'CatalogStack'], { cloudFormation: new CloudFormationClient({}), sqs: new SQSClient({}) })).toBe(0);
  expect(q(url('DataFailures'))!.map((m) => m.id)).toEqual(['meta']);
  const replayed = q(url('DataRetries')).splice(0);
  expect(replayed).toHaveLength(1);

  // The cache is back: the replayed message purges the keys, then forwards the edge paths.
  reachable = true;
  expect(await purge({ Records: [record(replayed[0].body)] })).toEqual({ batchItemFailures: [] });
  expect(purged).toEqual(['group:items', 'key:item:lamp-1']);
  expect(q(url('EdgeRequests'))!.map((m) => JSON.parse(m.body))).toEqual([{ kind: 'edge-paths', paths: ['/items', '/items?*', '/items/lamp-1'] }]);
});

test('edge failure messages go back to the edge request queue', async () => {
  queues.set(url('EdgeFailures'), [{ id: 'e1', body: JSON.stringify({ kind: 'edge-paths', paths: ['/items/a'] }) }, { id: 'junk', body: 'not json' }]);
  const report = await runRedrive({ stack: 'CatalogStack' }, { cloudFormation: new CloudFormationClient({}), sqs: new SQSClient({}) });
  expect(report).toMatchObject({ replayed: 1, unknown: 1, errors: [] });
  expect(q(url('EdgeRequests'))!.map((m) => m.body)).toEqual([JSON.stringify({ kind: 'edge-paths', paths: ['/items/a'] })]);
  expect(q(url('EdgeFailures'))!.map((m) => m.id)).toEqual(['junk']);
});

test('arguments, and a stack without CacheSync queues', async () => {
  expect(parseRedriveArgs(['--stack', 'S', '--region', 'eu-west-1', '--dry-run', '--max', '5'])).toEqual({ stack: 'S', region: 'eu-west-1', dryRun: true, max: 5 });
  expect(() => parseRedriveArgs([])).toThrow('--stack NAME is required');
  expect(() => parseRedriveArgs(['--stack'])).toThrow('--stack needs a value');
  expect(() => parseRedriveArgs(['--stack', 'S', '--max', '0'])).toThrow('--max must be a positive integer');
  expect(await redriveCli(['--bogus'])).toBe(2);
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  expect(await redriveCli(['--stack', 'Empty'], { cloudFormation: new CloudFormationClient({}), sqs: new SQSClient({}) })).toBe(1);
});
