import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import {
  createDataCachePurgeHandler,
  DATA_PURGE_RESERVE_MS,
  DataPurgeSettings,
  dataPurgeDeps,
  dataPurgeReserveMs,
  dataPurgeSettingsFromEnv,
  parseDataPurgeBody,
} from '../../lambda/purge/data-cache-purge';
import type { QueueSender } from '../../lambda/purge/edge-queue';
import { DEFAULT_COMMAND_TIMEOUT_MS, resetCacheClient } from '../../lambda/runtime/cache';
import { freePort } from '../support/servers';
import { Moto, startMoto } from '../support/moto';
import { insert, streamEvent } from './stream-events';

// The data purge's edges, written from the mutation run's survivors (docs/testing.md): settings
// that are zero or not numbers, the time budget at the millisecond (an injected clock, never wall
// time), retry-queue messages malformed field by field, queues not configured or failing on a real
// SQS (moto_server on loopback), and which console stream each line goes to.

let moto: Moto;
let sqs: SQSClient;
let edgeQueue: string;
let retryQueue: string;
/** A queue URL on the same moto_server that was never created: every send to it fails. */
let missingQueue: string;

beforeAll(async () => {
  moto = await startMoto();
  sqs = moto.sqs();
  edgeQueue = await moto.createQueue('EdgePurgeRequests');
  retryQueue = await moto.createQueue('DataPurgeRetries');
  missingQueue = edgeQueue.replace('EdgePurgeRequests', 'NoSuchQueue');
}, 30_000);
afterAll(async () => {
  sqs?.destroy();
  await moto?.stop();
});

/** What the handler sent, in order, before moto_server answered it. */
let sends: SendMessageBatchCommandInput[];
const recordingSqs: QueueSender = { send: (command) => (sends.push(command.input), sqs.send(command)) };
const bodiesSentTo = (queue: string) => sends.filter((s) => s.QueueUrl === queue).flatMap((s) => s.Entries!.map((e) => JSON.parse(e.MessageBody!)));

/** Drains a queue of moto_server (messages sent without delay). */
async function received(queue: string): Promise<unknown[]> {
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }));
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
}
const delayedCount = async (queue: string) =>
  Number((await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['ApproximateNumberOfMessagesDelayed'] }))).Attributes!.ApproximateNumberOfMessagesDelayed);

let logs: { warn: Record<string, unknown>[]; error: Record<string, unknown>[] };
beforeEach(async () => {
  sends = [];
  logs = { warn: [], error: [] };
  // The purge's lines are JSON; anything else (the AWS SDK's own warnings) is not the purge's.
  const keep = (into: unknown[]) => (line: unknown) => void (typeof line === 'string' && line.startsWith('{') && into.push(JSON.parse(line)));
  jest.spyOn(console, 'warn').mockImplementation(keep(logs.warn));
  jest.spyOn(console, 'error').mockImplementation(keep(logs.error));
  for (const queue of [edgeQueue, retryQueue]) while ((await received(queue)).length > 0);
});
afterEach(() => jest.restoreAllMocks());

/**
 * A purge over keys `item:{id}` (and the group `items` when asked), its time read from `clock`:
 * each invalidation costs `cost` ms of it, sleeps are recorded but cost nothing unless asked.
 */
function harness(options: {
  failing?: ReadonlySet<string>;
  settings?: Partial<DataPurgeSettings>;
  env?: Record<string, string>;
  cost?: number;
  random?: number;
  sleepCosts?: boolean;
  withSqs?: boolean;
}) {
  const clock = { remaining: Number.POSITIVE_INFINITY };
  const calls: string[] = [];
  const sleeps: number[] = [];
  const call = async (name: string) => {
    calls.push(name);
    clock.remaining -= options.cost ?? 0;
    return !(options.failing ?? new Set()).has(name);
  };
  const env = options.env ?? { DATA_PURGE_KEYS: 'item:{id}', EDGE_PURGE_PATHS: '/items/{id}', EDGE_PURGE_QUEUE_URL: edgeQueue, DATA_PURGE_RETRY_QUEUE_URL: retryQueue };
  const settings = { ...dataPurgeSettingsFromEnv(env), reserveMs: 1000, ...options.settings };
  const handler = createDataCachePurgeHandler(() => ({
    cache: { invalidate: (key) => call(`key:${key}`), invalidateGroup: (group) => call(`group:${group}`) },
    settings,
    sleep: async (ms) => {
      sleeps.push(ms);
      if (options.sleepCosts) clock.remaining -= ms;
    },
    random: () => options.random ?? 0,
    ...(options.withSqs === false ? {} : { sqs: recordingSqs }),
  }));
  const context = { getRemainingTimeInMillis: () => clock.remaining };
  return { clock, calls, sleeps, run: (event: Parameters<typeof handler>[0]) => handler(event, context) };
}

const records = (...ids: string[]) => ids.map((id) => insert({ id }));
const seq = (record: DynamoDBRecord) => record.dynamodb!.SequenceNumber!;
const sqsEvent = (...bodies: Array<[string, string]>): SQSEvent =>
  ({ Records: bodies.map(([messageId, body]) => ({ messageId, body, eventSource: 'aws:sqs' })) }) as never;
const message = (fields: Record<string, unknown> = {}) => JSON.stringify({ kind: 'data-purge', keys: ['item:a'], groups: [], edgePaths: ['/items/a'], ...fields });

describe('the time reserve read from the cache timeouts', () => {
  test.each(['0', '-1', '-0.5', 'abc', 'Infinity', '-Infinity', 'NaN', ''])('a cache timeout of %p is not a usable number: the runtime default stands', (value) => {
    expect(dataPurgeReserveMs({ DATA_CACHE_CONNECT_TIMEOUT_MS: value, DATA_CACHE_COMMAND_TIMEOUT_MS: value })).toBe(DATA_PURGE_RESERVE_MS);
  });

  test('property: any positive finite timeout is kept as set, each variable on its own', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 1e7, noNaN: true }), fc.double({ min: 0.001, max: 1e7, noNaN: true }), (connect, command) => {
        const reserve = dataPurgeReserveMs({ DATA_CACHE_CONNECT_TIMEOUT_MS: String(connect), DATA_CACHE_COMMAND_TIMEOUT_MS: String(command) });
        expect(reserve).toBe(1000 + 3000 + connect + command + 1000);
        expect(dataPurgeReserveMs({ DATA_CACHE_CONNECT_TIMEOUT_MS: String(connect) })).toBe(1000 + 3000 + connect + DEFAULT_COMMAND_TIMEOUT_MS + 1000);
      }),
    );
  });
});

describe('the time budget at the millisecond (injected clock)', () => {
  test('a round starts with exactly the reserve left, not with one millisecond less', async () => {
    const atReserve = harness({ settings: { reserveMs: 1000 } });
    atReserve.clock.remaining = 1000;
    expect(await atReserve.run(streamEvent(...records('a')))).toEqual({ batchItemFailures: [] });
    expect(atReserve.calls).toEqual(['key:item:a']);

    sends = [];
    const below = harness({ settings: { reserveMs: 1000 } });
    below.clock.remaining = 999;
    const batch = records('a', 'b');
    expect(await below.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[0]) }] });
    expect(below.calls).toEqual([]);
    expect(sends).toEqual([]); // timed out: nothing handed to the retry queue, nothing forwarded
    expect(logs.warn).toEqual([{ level: 'WARN', message: 'Reporting the batch from the first record not purged', sequenceNumber: seq(batch[0]), timedOut: true, pendingCount: 2 }]);
    expect(logs.error).toEqual([]);
  });

  test('a retry waits only if the reserve is still left after the wait: exactly is enough', async () => {
    // random 1: waits of 100 then 400 ms. With reserve + 100 left, the first wait fits exactly, the second does not.
    const h = harness({ failing: new Set(['key:item:a']), random: 1, settings: { reserveMs: 1000 }, withSqs: false });
    h.clock.remaining = 1100;
    const batch = records('a');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[0]) }] });
    expect(h.sleeps).toEqual([100]);
    expect(h.calls).toEqual(['key:item:a', 'key:item:a']);
  });

  test('a round that succeeds first time does not wait', async () => {
    const h = harness({ random: 1 });
    expect(await h.run(streamEvent(...records('a', 'b')))).toEqual({ batchItemFailures: [] });
    expect(h.sleeps).toEqual([]);
  });

  test('work left after the last try is handed off with exactly the reserve left; the handed-off message names the rounds not started', async () => {
    // Two at a time: a fails for good, b succeeds, c and d are in a round never started.
    const h = harness({ failing: new Set(['key:item:a']), settings: { reserveMs: 1000, concurrency: 2 } });
    h.clock.remaining = 1000;
    const batch = records('a', 'b', 'c', 'd');
    const delayedBefore = await delayedCount(retryQueue);
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [] });
    expect(h.calls).toEqual(['key:item:a', 'key:item:b', 'key:item:a', 'key:item:a']);
    expect(bodiesSentTo(retryQueue)).toEqual([{ kind: 'data-purge', keys: ['item:a', 'item:c', 'item:d'], groups: [], edgePaths: ['/items/a', '/items/b', '/items/c', '/items/d'] }]);
    expect(bodiesSentTo(edgeQueue)).toEqual([]); // nothing before the first pending record
    expect(await delayedCount(retryQueue)).toBe(delayedBefore + 1); // moto_server holds it for its delay
    expect(logs.warn).toEqual([{ level: 'WARN', message: 'Data cache unreachable; work handed to the retry queue', keys: 3, groups: 0 }]);
    expect(logs.error).toEqual([]);
  });

  test('a batch the budget cuts short forwards what it purged, hands nothing off and warns (not an error)', async () => {
    const h = harness({ cost: 1, settings: { reserveMs: 1000, concurrency: 2 } });
    h.clock.remaining = 1001; // the first round leaves 999
    const batch = records('a', 'b', 'c', 'd');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[2]) }] });
    expect(h.calls).toEqual(['key:item:a', 'key:item:b']);
    expect(bodiesSentTo(retryQueue)).toEqual([]);
    expect(await received(edgeQueue)).toEqual([{ kind: 'edge-paths', paths: ['/items/a', '/items/b'] }]);
    expect(logs.warn).toEqual([{ level: 'WARN', message: 'Reporting the batch from the first record not purged', sequenceNumber: seq(batch[2]), timedOut: true, pendingCount: 2 }]);
    expect(logs.error).toEqual([]);
  });

  test('a batch whose budget runs out just after its last invalidation is not "timed out": an unusable record is an ERROR', async () => {
    const h = harness({ cost: 1, withSqs: false });
    h.clock.remaining = 1000; // the round starts at the reserve and ends 1 ms under it, with nothing pending
    const bad = insert({ id: 'b' });
    bad.dynamodb!.Keys = { id: { B: new Uint8Array([1]) } as never };
    expect(await h.run(streamEvent(insert({ id: 'a' }), bad))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(bad) }] });
    expect(h.calls).toEqual(['key:item:a']);
    expect(logs.warn).toEqual([]);
    expect(logs.error[1]).toEqual({ level: 'ERROR', message: 'Reporting the batch from the first record not purged', sequenceNumber: seq(bad), timedOut: false, pendingCount: 0 });
  });

  test('a retry-queue message runs with exactly the reserve left, and is reported untouched with less', async () => {
    const at = harness({});
    at.clock.remaining = 1000;
    expect(await at.run(sqsEvent(['m1', message()]))).toEqual({ batchItemFailures: [] });
    expect(at.calls).toEqual(['key:item:a']);

    const below = harness({});
    below.clock.remaining = 999;
    expect(await below.run(sqsEvent(['m2', message({ groups: ['items'] })]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(below.calls).toEqual([]);
    expect(bodiesSentTo(edgeQueue)).toEqual([{ kind: 'edge-paths', paths: ['/items/a'] }]); // m1's only
  });
});

describe('retry-queue messages, field by field', () => {
  const malformed: Array<[string, string]> = [
    ['not JSON', '{kind'],
    ['JSON null', 'null'],
    ['another kind', message({ kind: 'edge-paths' })],
    ['no kind', JSON.stringify({ keys: [], groups: [], edgePaths: [] })],
    ...(['keys', 'groups', 'edgePaths'] as const).flatMap((field): Array<[string, string]> => [
      [`${field} missing`, message({ [field]: undefined })],
      [`${field} a string`, message({ [field]: 'item:a' })],
      [`${field} with a number after a string`, message({ [field]: ['item:a', 1] })],
      [`${field} with a number before a string`, message({ [field]: [1, 'item:a'] })],
      [`${field} an object`, message({ [field]: { 0: 'item:a', length: 1 } })],
    ]),
  ];

  test.each(malformed)('%s: refused, reported by message id with an ERROR line, nothing purged', async (_what, body) => {
    expect(parseDataPurgeBody(body)).toBeUndefined();
    const h = harness({});
    expect(await h.run(sqsEvent(['bad', body], ['good', message({ keys: ['item:g'] })]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
    expect(h.calls).toEqual(['key:item:g']);
    expect(logs.error).toEqual([{ level: 'ERROR', message: 'Not a data-purge message; reported as a failure', messageId: 'bad' }]);
    expect(logs.warn).toEqual([]);
  });

  test('property: every well-formed message is accepted as sent, and replacing any one field by a non-list of strings refuses it', () => {
    const strings = fc.array(fc.string(), { maxLength: 5 });
    const notStrings = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.string()),
      fc.tuple(fc.array(fc.string(), { maxLength: 3 }), fc.oneof(fc.integer(), fc.constant(null), fc.boolean()), fc.array(fc.string(), { maxLength: 3 })).map(([a, x, b]) => [...a, x, ...b]),
    );
    fc.assert(
      fc.property(fc.record({ keys: strings, groups: strings, edgePaths: strings }), fc.constantFrom('keys', 'groups', 'edgePaths'), notStrings, (fields, field, bad) => {
        const good = { kind: 'data-purge', ...fields };
        expect(parseDataPurgeBody(JSON.stringify(good))).toEqual(good);
        expect(parseDataPurgeBody(JSON.stringify({ ...good, [field]: bad }))).toBeUndefined();
      }),
    );
  });
});

describe('queues failing on a real SQS (moto_server) or not configured', () => {
  const env = (over: Record<string, string | undefined>) =>
    Object.fromEntries(
      Object.entries({ DATA_PURGE_KEYS: 'item:{id}', EDGE_PURGE_PATHS: '/items/{id}', EDGE_PURGE_QUEUE_URL: edgeQueue, DATA_PURGE_RETRY_QUEUE_URL: retryQueue, ...over }).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    );

  test('a retry queue that refuses the hand-off: ERROR line, the batch reported from the first pending record, what was purged still forwarded', async () => {
    const h = harness({ failing: new Set(['key:item:b']), env: env({ DATA_PURGE_RETRY_QUEUE_URL: missingQueue }) });
    const batch = records('a', 'b', 'c');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[1]) }] });
    expect(await received(edgeQueue)).toEqual([{ kind: 'edge-paths', paths: ['/items/a'] }]);
    expect(logs.error).toHaveLength(2);
    expect(logs.error[0]).toEqual({ level: 'ERROR', message: 'Retry queue unreachable', error: expect.stringContaining('QueueDoesNotExist') });
    expect(logs.error[1]).toEqual({ level: 'ERROR', message: 'Reporting the batch from the first record not purged', sequenceNumber: seq(batch[1]), timedOut: false, pendingCount: 1 });
    expect(logs.warn).toEqual([]);
  });

  test('an edge queue that refuses the paths: ERROR line, the whole batch reported (its data purge is redone), a message reported', async () => {
    const h = harness({ env: env({ EDGE_PURGE_QUEUE_URL: missingQueue }) });
    const batch = records('a', 'b');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[0]) }] });
    expect(h.calls).toEqual(['key:item:a', 'key:item:b']);
    expect(logs.error).toHaveLength(2);
    expect(logs.error[0]).toEqual({ level: 'ERROR', message: 'Edge purge queue unreachable; the records are reported for a retry', error: expect.stringContaining('QueueDoesNotExist'), paths: 2 });
    expect(logs.error[1]).toMatchObject({ message: 'Reporting the batch from the first record not purged', sequenceNumber: seq(batch[0]), pendingCount: 0 });

    expect(await h.run(sqsEvent(['m1', message()]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
  });

  test('no retry queue configured: nothing sent there, no queue error, the batch reported from the first pending record', async () => {
    const h = harness({ failing: new Set(['key:item:b']), env: env({ DATA_PURGE_RETRY_QUEUE_URL: undefined }) });
    const batch = records('a', 'b');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[1]) }] });
    expect(sends.map((s) => s.QueueUrl)).toEqual([edgeQueue]);
    expect(logs.error.map((l) => l.message)).toEqual(['Reporting the batch from the first record not purged']);
  });

  test('no edge queue configured though edge paths are: the batch succeeds and nothing is sent', async () => {
    const h = harness({ env: env({ EDGE_PURGE_QUEUE_URL: undefined }) });
    expect(await h.run(streamEvent(...records('a')))).toEqual({ batchItemFailures: [] });
    expect(await h.run(sqsEvent(['m1', message()]))).toEqual({ batchItemFailures: [] });
    expect(sends).toEqual([]);
    expect(logs.error).toEqual([]);
  });

  test('no SQS client (queues configured): nothing forwarded or handed off, no queue error', async () => {
    const h = harness({ failing: new Set(['key:item:b']), withSqs: false });
    const batch = records('a', 'b');
    expect(await h.run(streamEvent(...batch))).toEqual({ batchItemFailures: [{ itemIdentifier: seq(batch[1]) }] });
    expect(await h.run(streamEvent(...records('c')))).toEqual({ batchItemFailures: [] });
    expect(logs.error.map((l) => l.message)).toEqual(['Reporting the batch from the first record not purged']);
  });
});

describe('the deployed wiring (dataPurgeDeps)', () => {
  const saved = { ...process.env };
  beforeAll(async () => {
    // A cache endpoint nothing listens on: the client connects lazily and these tests never use it.
    Object.assign(process.env, { DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: `127.0.0.1:${await freePort()}`, DATA_PURGE_KEYS: 'item:{id}', AWS_REGION: 'us-east-1' });
  });
  afterAll(async () => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
    await resetCacheClient();
  });

  test('its sleep waits for the timer it sets (fake timers, no wall time)', async () => {
    jest.useFakeTimers();
    try {
      let done = false;
      const sleeping = Promise.resolve(dataPurgeDeps().sleep(5_000)).then(() => (done = true));
      await Promise.resolve();
      await Promise.resolve();
      expect(done).toBe(false);
      jest.advanceTimersByTime(5_000);
      await sleeping;
      expect(done).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  test('its SQS client makes one attempt per call: the time reserve covers exactly one', async () => {
    // A fresh copy of the module: the deps are memoised per container, and built here, inside this test.
    let fresh!: typeof dataPurgeDeps;
    jest.isolateModules(() => ({ dataPurgeDeps: fresh } = require('../../lambda/purge/data-cache-purge')));
    expect(await (fresh().sqs as SQSClient).config.maxAttempts()).toBe(1);
  });
});
