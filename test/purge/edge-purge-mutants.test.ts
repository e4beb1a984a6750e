import { AccessDenied, CloudFrontClient, CreateInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createEdgePurgeHandler, EDGE_PURGE_RESERVE_MS, EdgePurgeSettings, edgePurgeSettingsFromEnv } from '../../lambda/purge/edge-purge';
import { edgePathBodies, parseEdgePathBody } from '../../lambda/purge/edge-queue';
import { Moto, startMoto } from '../support/moto';
import { FakeCloudFront, SimClock } from './fake-cloudfront';
import { contextWith, insert, STREAM_ARN, streamEvent } from './stream-events';

// The edge purge's own lines that the stream tests of edge-purge.test.ts do not reach: batches from
// the request queue (malformed messages, failures per message, the hand-off to a real SQS on
// moto_server), the batch identity behind the CallerReference, the settings' edges and the
// deployed sleep. Written to kill the StrykerJS survivors of lambda/purge/edge-purge.ts.

const cloudFront = mockClient(CloudFrontClient);

let lines: Array<Record<string, unknown>>;
beforeEach(() => {
  cloudFront.reset();
  lines = [];
  for (const stream of ['log', 'warn', 'error'] as const) jest.spyOn(console, stream).mockImplementation((...args: unknown[]) => void lines.push(JSON.parse(String(args[0]))));
});
afterEach(() => jest.restoreAllMocks());

function settings(overrides: Partial<EdgePurgeSettings> = {}): EdgePurgeSettings {
  return { ...edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E1', EDGE_PURGE_PATHS: '/items/{id},/items' }), ...overrides };
}

function purge(overrides: Partial<EdgePurgeSettings> = {}, sqs?: SQSClient) {
  const clock = new SimClock();
  return createEdgePurgeHandler(() => ({ client: new CloudFrontClient({ region: 'us-east-1' }), sqs, settings: settings(overrides), sleep: clock.sleep, random: () => 1 }));
}

const message = (messageId: string, body: string): SQSRecord => ({
  messageId,
  receiptHandle: messageId,
  body,
  attributes: {} as never,
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:EdgePurgeRequests',
  awsRegion: 'eu-west-1',
});
const pathsMessage = (messageId: string, ...paths: string[]) => message(messageId, edgePathBodies(paths)[0]);
const queueEvent = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

const created = () => cloudFront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch!.Paths!.Items!);
const references = () => cloudFront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch!.CallerReference);

describe('batches from the request queue', () => {
  test("every message's paths go out once; a malformed message alone is a failure, logged by id (at most 20)", async () => {
    new FakeCloudFront(new SimClock(), () => 0).install(cloudFront);
    const bad = Array.from({ length: 21 }, (_, i) => message(`bad${i}`, i === 0 ? 'not json' : JSON.stringify({ kind: 'other' })));
    const result = await purge()(queueEvent(pathsMessage('m1', '/a', '/b'), bad[0], pathsMessage('m3', '/b', '/c'), ...bad.slice(1)));
    expect(created().map((p) => [...p].sort())).toEqual([['/a', '/b', '/c']]);
    expect(result).toEqual({ batchItemFailures: bad.map((m) => ({ itemIdentifier: m.messageId })) });
    const error = lines.find((l) => l.level === 'ERROR')!;
    expect(error).toEqual({ level: 'ERROR', message: 'Messages that are not edge-paths messages; reported as failures', messageIds: bad.slice(0, 20).map((m) => m.messageId) });

    lines = [];
    expect(await purge()(queueEvent(pathsMessage('m4', '/d')))).toEqual({ batchItemFailures: [] });
    expect(lines.filter((l) => l.level === 'ERROR')).toEqual([]);
  });

  test('a lasting refusal fails the messages from the first one whose paths did not go out, and the malformed ones', async () => {
    cloudFront.on(ListInvalidationsCommand).resolves({});
    cloudFront.on(CreateInvalidationCommand).resolvesOnce({}).rejects(new AccessDenied({ message: 'denied', $metadata: { httpStatusCode: 403 } }));
    const quotas = { filePathsInProgress: 2, wildcardPathsInProgress: 0 };
    const result = await purge({ quotas })(queueEvent(pathsMessage('m1', '/a', '/b'), message('m2', '{}'), pathsMessage('m3', '/c'), pathsMessage('m4', '/a')));
    expect(created()).toEqual([['/a', '/b'], ['/c']]);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm3' }, { itemIdentifier: 'm4' }] });
  });

  test('the CallerReference follows the message ids', async () => {
    new FakeCloudFront(new SimClock(), () => 0).install(cloudFront);
    await purge()(queueEvent(pathsMessage('m1', '/a')));
    await purge()(queueEvent(pathsMessage('m1', '/a')));
    await purge()(queueEvent(pathsMessage('m2', '/a')));
    const [first, again, other] = references();
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });
});

describe('hand-off to the request queue (moto_server)', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let queueUrl: string;
  beforeAll(async () => {
    moto = await startMoto();
    sqs = moto.sqs();
    queueUrl = await moto.createQueue('EdgePurgeRequests');
  }, 30_000);
  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  test('with a queue and a client, what finds no room is sent there; without either it fails', async () => {
    // No room at all for the next minutes, and no time to wait for it.
    const clock = new SimClock();
    const fakeCloudFront = new FakeCloudFront(clock, () => 0, { files: 1, wildcards: 0, minMs: 600_000, maxMs: 600_000, pageSize: 100 });
    fakeCloudFront.install(cloudFront);
    const busy = new CloudFrontClient({ region: 'us-east-1' });
    await busy.send(new CreateInvalidationCommand({ DistributionId: 'E1', InvalidationBatch: { CallerReference: 'busy', Paths: { Quantity: 1, Items: ['/busy'] } } }));
    const quotas = { filePathsInProgress: 1, wildcardPathsInProgress: 0 };
    const records = [insert({ id: 'a' }), insert({ id: 'b' })];
    const ok = await purge({ quotas, maxWaitMs: 0, queueUrl, handOffDelaySeconds: 0 }, sqs)(streamEvent(...records));
    expect(ok).toEqual({ batchItemFailures: [] });
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }));
    expect((received.Messages ?? []).flatMap((m) => parseEdgePathBody(m.Body!)!).sort()).toEqual(['/items', '/items/a', '/items/b']);

    const first = { batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] };
    const failure = () => lines.filter((l) => l.level === 'ERROR').map((l) => l.error);
    lines = [];
    expect(await purge({ quotas, maxWaitMs: 0 }, sqs)(streamEvent(...records))).toEqual(first);
    expect(await purge({ quotas, maxWaitMs: 0, queueUrl })(streamEvent(...records))).toEqual(first);
    expect(failure()).toEqual(['Error: no hand-off queue is configured', 'Error: no hand-off queue is configured']);
  });
});

describe('stream batches', () => {
  test('a failing record without change data is reported with an empty sequence number', async () => {
    cloudFront.on(ListInvalidationsCommand).resolves({});
    cloudFront.on(CreateInvalidationCommand).rejects(new AccessDenied({ message: 'denied', $metadata: { httpStatusCode: 403 } }));
    const bare = { eventID: 'e1', eventName: 'INSERT', eventSource: 'aws:dynamodb', eventSourceARN: STREAM_ARN } as DynamoDBRecord;
    expect(await purge()(streamEvent(bare))).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  });

  test('an event without records calls nothing', async () => {
    expect(await purge()({} as never)).toEqual({ batchItemFailures: [] });
    expect(cloudFront.calls()).toHaveLength(0);
  });

  test('the CallerReference follows the stream ARN and the sequence number (the event id only without one)', async () => {
    new FakeCloudFront(new SimClock(), () => 0).install(cloudFront);
    const record = (arn: string | undefined, sequence: string | undefined, eventID: string | undefined) => {
      const r = insert({ id: 'a' }, { sequenceNumber: '1' });
      return { ...r, eventSourceARN: arn, eventID, dynamodb: sequence === undefined ? undefined : { ...r.dynamodb, SequenceNumber: sequence } } as DynamoDBRecord;
    };
    const cases = [
      record(STREAM_ARN, '1', 'e1'),
      record(STREAM_ARN, '1', 'e2'), // same position: same reference
      record('arn:other', '1', 'e1'),
      record(STREAM_ARN, '2', 'e1'),
      record(STREAM_ARN, undefined, 'e1'),
      record(STREAM_ARN, undefined, 'e2'),
      record(undefined, undefined, undefined),
      record('', '', ''), // the same text as the one before
    ];
    for (const c of cases) await purge({ templates: settings().templates.filter((t) => t.source === '/items') })(streamEvent(c));
    const refs = references();
    expect(refs).toHaveLength(cases.length);
    expect(refs[1]).toBe(refs[0]);
    expect(new Set([refs[0], refs[2], refs[3], refs[4], refs[5], refs[6]]).size).toBe(6);
    expect(refs[7]).toBe(refs[6]);
  });

  test('the reserve is one CloudFront attempt, one SQS attempt and the margin; a request at exactly the reserve goes', async () => {
    expect(EDGE_PURGE_RESERVE_MS).toBe(3000 + 10_000 + 1000 + 3000 + 1000);
    // Also from a fresh copy of the module: StrykerJS credits module-level lines only to the tests that load it.
    jest.isolateModules(() => expect(require('../../lambda/purge/edge-purge').EDGE_PURGE_RESERVE_MS).toBe(18_000));
    cloudFront.on(ListInvalidationsCommand).resolves({});
    cloudFront.on(CreateInvalidationCommand).resolves({});
    expect(await purge()(streamEvent(insert({ id: 'a' })), contextWith(EDGE_PURGE_RESERVE_MS))).toEqual({ batchItemFailures: [] });
    expect(created()).toHaveLength(1);
  });
});

describe('settings and deployed deps', () => {
  test('EDGE_PURGE_MAX_FILE_PATHS: 0 and 3000 are allowed; negative or fractional are not; an empty queue URL is none', () => {
    const env = { DISTRIBUTION_ID: 'E' };
    expect(edgePurgeSettingsFromEnv({ ...env, EDGE_PURGE_MAX_FILE_PATHS: '0' }).maxFilePathsPerInvalidation).toBe(0);
    expect(() => edgePurgeSettingsFromEnv({ ...env, EDGE_PURGE_MAX_FILE_PATHS: '-1' })).toThrow(/from 0 to 3000, got "-1"/);
    expect(() => edgePurgeSettingsFromEnv({ ...env, EDGE_PURGE_MAX_FILE_PATHS: '1.5' })).toThrow(/from 0 to 3000, got "1.5"/);
    expect(edgePurgeSettingsFromEnv({ ...env, EDGE_PURGE_QUEUE_URL: '' }).queueUrl).toBeUndefined();
    expect(edgePurgeSettingsFromEnv({ ...env, EDGE_PURGE_QUEUE_URL: 'https://q' }).queueUrl).toBe('https://q');
    expect(edgePurgeSettingsFromEnv(env).queueUrl).toBeUndefined();
  });

  test('the deployed sleep waits the time asked (fake timers)', async () => {
    const saved = process.env.DISTRIBUTION_ID;
    process.env.DISTRIBUTION_ID = 'E';
    jest.useFakeTimers();
    try {
      let fresh!: typeof import('../../lambda/purge/edge-purge');
      jest.isolateModules(() => (fresh = require('../../lambda/purge/edge-purge')));
      let done = false;
      const slept = fresh.edgePurgeDeps().sleep(1000).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(999);
      expect(done).toBe(false);
      await jest.advanceTimersByTimeAsync(1);
      await slept;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
      if (saved === undefined) delete process.env.DISTRIBUTION_ID;
      else process.env.DISTRIBUTION_ID = saved;
    }
  });
});
