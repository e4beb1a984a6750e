import { CloudFrontClient, CreateInvalidationCommand, ListInvalidationsCommand, TooManyInvalidationsInProgress } from '@aws-sdk/client-cloudfront';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createEdgePurgeHandler, edgePurgeSettingsFromEnv, EdgePurgeSettings } from '../../lambda/purge/edge-purge';
import { edgePathBodies, parseEdgePathBody } from '../../lambda/purge/edge-queue';
import { invalidationPathMatches } from '../../lambda/purge/paths';
import { FakeCloudFront, seeded, SimClock } from './fake-cloudfront';
import { insert, streamEvent } from './stream-events';

const cloudFront = mockClient(CloudFrontClient);
const sqsMock = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/EdgePurgeRequests';
const FUNCTION_TIMEOUT_MS = 60_000;

interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  visibleAt: number;
  readonly sentAt: number;
}

/**
 * The edge purge fed by its request queue on a simulated clock: the data purge forwards each
 * second's writes as one message, the event source mapping waits `windowMs` to fill a batch of at
 * most `batchSize` messages, and the handler's hand-offs come back after their delay.
 */
class Simulation {
  readonly clock = new SimClock();
  readonly random = seeded(42);
  readonly cloudFront = new FakeCloudFront(this.clock, this.random);
  readonly queue: QueuedMessage[] = [];
  failedBatches = 0;
  invocations = 0;
  handedOffPaths = 0;
  /** Last write per item, and the last invalidation covering each item (created after it). */
  readonly lastWrite = new Map<string, number>();
  private nextMessage = 1;

  constructor(readonly settings: EdgePurgeSettings, readonly options = { batchSize: 10_000, windowMs: 5000 }) {
    this.cloudFront.install(cloudFront);
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ MessageBody: string; DelaySeconds?: number }> }) => {
      for (const entry of input.Entries) {
        this.enqueue(entry.MessageBody, this.clock.now + (entry.DelaySeconds ?? 0) * 1000);
        this.handedOffPaths += parseEdgePathBody(entry.MessageBody)!.length;
      }
      return { Successful: input.Entries.map((_e, i) => ({ Id: String(i), MessageId: `m${i}`, MD5OfMessageBody: '' })), Failed: [] };
    });
  }

  enqueue(body: string, visibleAt = this.clock.now): void {
    this.queue.push({ messageId: `msg-${this.nextMessage++}`, body, visibleAt, sentAt: this.clock.now });
  }

  /** Runs `seconds` of `writesPerSecond` writes over `items` ids, then drains the queue. */
  async run(seconds: number, writesPerSecond: number, items: number): Promise<void> {
    let written = 0;
    const writeUntil = (t: number) => {
      for (; written < Math.min(seconds, Math.floor(t / 1000)); written++) {
        const paths = new Set(['/items', '/items?*']);
        for (let w = 0; w < writesPerSecond; w++) {
          const id = `item-${Math.floor(this.random() * items)}`;
          paths.add(`/items/${id}`);
          this.lastWrite.set(id, written * 1000);
        }
        for (const body of edgePathBodies([...paths])) this.enqueue(body, written * 1000);
      }
    };
    const handler = createEdgePurgeHandler(() => ({
      client: new CloudFrontClient({}),
      sqs: new SQSClient({}),
      settings: this.settings,
      sleep: this.clock.sleep,
      random: this.random,
    }));
    for (let guard = 0; guard < 100_000; guard++) {
      writeUntil(this.clock.now);
      const visible = this.queue.filter((m) => m.visibleAt <= this.clock.now);
      if (visible.length === 0) {
        const next = Math.min(...this.queue.map((m) => m.visibleAt), written < seconds ? (written + 1) * 1000 : Infinity);
        if (next === Infinity) return;
        this.clock.now = Math.max(this.clock.now + 1, next);
        continue;
      }
      const oldest = Math.min(...visible.map((m) => m.visibleAt));
      if (visible.length < this.options.batchSize && this.clock.now < oldest + this.options.windowMs) {
        this.clock.now = oldest + this.options.windowMs; // the mapping's batching window
        continue;
      }
      const batch = visible.slice(0, this.options.batchSize);
      for (const m of batch) this.queue.splice(this.queue.indexOf(m), 1);
      const started = this.clock.now;
      this.invocations++;
      const event: SQSEvent = {
        Records: batch.map((m) => ({
          messageId: m.messageId, receiptHandle: m.messageId, body: m.body, attributes: {} as never, messageAttributes: {},
          md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:EdgePurgeRequests', awsRegion: 'eu-west-1',
        })),
      };
      const result = await handler(event, { getRemainingTimeInMillis: () => FUNCTION_TIMEOUT_MS - (this.clock.now - started) });
      expect(this.clock.now - started).toBeLessThanOrEqual(FUNCTION_TIMEOUT_MS);
      if (result.batchItemFailures.length > 0) {
        this.failedBatches++;
        const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
        for (const m of batch) if (failed.has(m.messageId)) this.queue.push({ ...m, visibleAt: this.clock.now + 360_000 });
      }
      if (this.clock.now === started) this.clock.now += 1;
    }
    throw new Error('simulation did not settle');
  }

  /** Items whose last write no invalidation created at or after it covers. */
  uncovered(): string[] {
    return [...this.lastWrite].filter(([id, at]) => this.coveredAt(id, at) === undefined).map(([id]) => id);
  }

  /** Longest time from an item's last write to the creation of the first invalidation covering it after it. */
  worstDelayMs(): number {
    return Math.max(0, ...[...this.lastWrite].map(([id, at]) => (this.coveredAt(id, at) ?? Infinity) - at));
  }

  private index?: { perItem: Map<string, number[]>; everything: number[] };

  /** When the first invalidation created at or after `at` covering the item was created. */
  private coveredAt(id: string, at: number): number | undefined {
    if (!this.index) {
      const perItem = new Map<string, number[]>();
      const everything: number[] = [];
      for (const inv of this.cloudFront.invalidations) {
        for (const path of inv.paths) {
          if (path.endsWith('*') && invalidationPathMatches(path, '/items/item-0') && invalidationPathMatches(path, '/items/item-99999')) everything.push(inv.createdAt);
          else if (path.startsWith('/items/item-')) perItem.set(path.slice('/items/'.length), [...(perItem.get(path.slice('/items/'.length)) ?? []), inv.createdAt]);
        }
      }
      this.index = { perItem, everything };
    }
    const first = (times: number[] | undefined) => times?.find((t) => t >= at) ?? Infinity;
    const t = Math.min(first(this.index.perItem.get(id)), first(this.index.everything));
    return t === Infinity ? undefined : t;
  }
}

const settings = (overrides: Partial<EdgePurgeSettings> = {}): EdgePurgeSettings => ({
  ...edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E2EXAMPLE', EDGE_PURGE_PATHS: '/items/{id},/items,/items?*', EDGE_PURGE_QUEUE_URL: QUEUE_URL }),
  ...overrides,
});

beforeEach(() => {
  cloudFront.reset();
  sqsMock.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('a fake CloudFront that enforces the in-progress quotas, on a simulated clock', () => {
  test('a batch with 16 wildcard paths is not a failed batch (it failed before: TooManyInvalidationsInProgress)', async () => {
    const sim = new Simulation(settings({ templates: edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E', EDGE_PURGE_PATHS: '/items/{id}*' }).templates }));
    const handler = createEdgePurgeHandler(() => ({ client: new CloudFrontClient({}), sqs: new SQSClient({}), settings: sim.settings, sleep: sim.clock.sleep, random: sim.random }));
    const records = Array.from({ length: 16 }, (_, i) => insert({ id: `i${i}` }));
    expect(await handler(streamEvent(...records), { getRemainingTimeInMillis: () => 60_000 })).toEqual({ batchItemFailures: [] });
    expect(sim.cloudFront.refusals).toBe(0);
    expect(sim.cloudFront.maxWildcardsInProgress).toBeLessThanOrEqual(15);
  });

  test('a 10,000-record batch while other invalidations fill most of the quotas: 0 failures, quotas never exceeded, every item covered', async () => {
    const sim = new Simulation(settings());
    // Another writer's invalidations: 2,900 files and 14 wildcards in progress.
    await new CloudFrontClient({}).send(new CreateInvalidationCommand({
      DistributionId: 'E2EXAMPLE',
      InvalidationBatch: { CallerReference: 'other', Paths: { Quantity: 2914, Items: [...Array.from({ length: 2900 }, (_, i) => `/other/${i}`), ...Array.from({ length: 14 }, (_, i) => `/w${i}/*`)] } },
    }));
    const handler = createEdgePurgeHandler(() => ({ client: new CloudFrontClient({}), sqs: new SQSClient({}), settings: sim.settings, sleep: sim.clock.sleep, random: sim.random }));
    const records = Array.from({ length: 10_000 }, (_, i) => insert({ id: `item-${i}` }));
    const result = await handler(streamEvent(...records), { getRemainingTimeInMillis: () => 60_000 - sim.clock.now });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sim.cloudFront.refusals).toBe(0);
    expect(sim.cloudFront.maxFilesInProgress).toBeLessThanOrEqual(3000);
    expect(sim.cloudFront.maxWildcardsInProgress).toBeLessThanOrEqual(15);
    const ours = sim.cloudFront.invalidations.slice(1).flatMap((i) => i.paths);
    const handedOff = sqsMock.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries!.flatMap((e) => parseEdgePathBody(e.MessageBody!)!));
    for (const request of ['/items', '/items?limit=2', '/items/item-0', '/items/item-9999']) {
      expect([...ours, ...handedOff].some((p) => invalidationPathMatches(p, request))).toBe(true);
    }
  });

  test.each([
    [1, 100_000, 3000],
    [10, 100_000, 3000],
    [100, 100_000, 3000],
    [100, 100_000, 0],
  ])('a sustained %i writes/s over %i items for a simulated hour, at most %i file paths per invalidation: 0 failed batches, quotas never exceeded, every write purged after it', async (rate, items, maxFilePaths) => {
    const sim = new Simulation(settings({ maxFilePathsPerInvalidation: maxFilePaths }));
    await sim.run(3600, rate, items);
    expect(sim.failedBatches).toBe(0);
    expect(sim.cloudFront.refusals).toBe(0);
    expect(sim.cloudFront.maxFilesInProgress).toBeLessThanOrEqual(3000);
    expect(sim.cloudFront.maxWildcardsInProgress).toBeLessThanOrEqual(15);
    expect(sim.uncovered()).toEqual([]);
    expect(sim.queue).toEqual([]);
    const paths = sim.cloudFront.invalidations.reduce((n, i) => n + i.paths.length, 0);
    // Printed for the docs' cost table: paths billed per write at this rate.
    console.info(`${rate} writes/s for an hour, max ${maxFilePaths} file paths: ${sim.invocations} invocations, ${sim.cloudFront.invalidations.length} invalidations, ${paths} paths (${(paths / (3600 * rate)).toFixed(3)} per write), ${sim.handedOffPaths} paths handed off, worst write-to-invalidation ${(sim.worstDelayMs() / 1000).toFixed(1)} s`);
  }, 120_000);

  test('CloudFront refusing for quota reasons the ledger did not see is waited out, then handed off, never a failure', async () => {
    const clock = new SimClock();
    cloudFront.on(CreateInvalidationCommand).rejects(new TooManyInvalidationsInProgress({ message: 'busy', $metadata: { httpStatusCode: 400 } }));
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const handler = createEdgePurgeHandler(() => ({ client: new CloudFrontClient({}), sqs: new SQSClient({}), settings: settings(), sleep: clock.sleep, random: () => 1 }));
    const result = await handler(streamEvent(insert({ id: 'a' })), { getRemainingTimeInMillis: () => 60_000 - clock.now });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(clock.now).toBeLessThanOrEqual(60_000 - settings().reserveMs);
    const sent = sqsMock.commandCalls(SendMessageBatchCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(QUEUE_URL);
    expect(sent.Entries![0].DelaySeconds).toBe(30);
    expect(parseEdgePathBody(sent.Entries![0].MessageBody!)!.sort()).toEqual(['/items', '/items/a', '/items?*']);
  });
});

describe('edges of the planner', () => {
  test('a role that may not list invalidations still purges: the count is skipped, not the batch', async () => {
    const clock = new SimClock();
    cloudFront.on(ListInvalidationsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    cloudFront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
    const handler = createEdgePurgeHandler(() => ({ client: new CloudFrontClient({}), settings: settings(), sleep: clock.sleep, random: () => 1 }));
    expect(await handler(streamEvent(insert({ id: 'a' })), { getRemainingTimeInMillis: () => 60_000 })).toEqual({ batchItemFailures: [] });
    expect(cloudFront.commandCalls(CreateInvalidationCommand)).toHaveLength(1);
  });

  test('a 100,000-record stream batch answers with no failure within its budget (issue 13: purges at any batch size)', async () => {
    const sim = new Simulation(settings());
    const handler = createEdgePurgeHandler(() => ({ client: new CloudFrontClient({}), sqs: new SQSClient({}), settings: sim.settings, sleep: sim.clock.sleep, random: sim.random }));
    const records = Array.from({ length: 100_000 }, (_, i) => insert({ id: `item-${i}` }));
    const result = await handler(streamEvent(...records), { getRemainingTimeInMillis: () => FUNCTION_TIMEOUT_MS - sim.clock.now });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(sim.clock.now).toBeLessThanOrEqual(FUNCTION_TIMEOUT_MS - sim.settings.reserveMs);
    expect(sim.cloudFront.invalidations.flatMap((i) => i.paths).sort()).toEqual(['/items', '/items/*', '/items?*']);
  });

  test('out of time, the rest is handed off, never a failure; without a queue to hand off to, it is a partial batch failure', async () => {
    const sim = new Simulation(settings());
    const records = Array.from({ length: 3 }, (_, i) => insert({ id: `item-${i}` }));
    const deps = (queueUrl?: string) => () => ({ client: new CloudFrontClient({}), sqs: new SQSClient({}), settings: { ...sim.settings, queueUrl }, sleep: sim.clock.sleep, random: sim.random });
    const almostOut = { getRemainingTimeInMillis: () => sim.settings.reserveMs - 1 };
    expect(await createEdgePurgeHandler(deps(QUEUE_URL))(streamEvent(...records), almostOut)).toEqual({ batchItemFailures: [] });
    expect(sim.handedOffPaths).toBe(5);
    expect(await createEdgePurgeHandler(deps(undefined))(streamEvent(...records), almostOut)).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
  });
});
