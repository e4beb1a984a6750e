import {
  AccessDenied,
  CloudFrontClient,
  CloudFrontServiceException,
  CreateInvalidationCommand,
  CreateInvalidationCommandInput,
  TooManyInvalidationsInProgress,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createEdgePurgeHandler,
  EdgePurgeSettings,
  edgePurgeSettingsFromEnv,
  handler,
  EDGE_PURGE_RESERVE_MS,
  EDGE_PURGE_TIMEOUTS,
  isRetryable,
} from '../../lambda/purge/edge-purge';
import { parseTemplateList } from '../../lambda/purge/templates';
import { contextWith, insert, modify, remove, streamEvent, streamRecord } from './stream-events';

const cloudFront = mockClient(CloudFrontClient);
const client = new CloudFrontClient({ region: 'us-east-1' });

function settings(paths: string, overrides: Partial<EdgePurgeSettings> = {}): EdgePurgeSettings {
  return { ...edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E2EXAMPLE', EDGE_PURGE_PATHS: paths }), ...overrides };
}

let sleeps: number[] = [];
function purge(paths = '/items/{id},/items,/items?*', overrides: Partial<EdgePurgeSettings> = {}, random = () => 1) {
  return createEdgePurgeHandler(() => ({
    client,
    settings: settings(paths, overrides),
    sleep: async (ms) => void sleeps.push(ms),
    random,
  }));
}

const calls = (): CreateInvalidationCommandInput[] => cloudFront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input);
const pathsOf = (call: CreateInvalidationCommandInput) => call.InvalidationBatch!.Paths!.Items!;
const referenceOf = (call: CreateInvalidationCommandInput) => call.InvalidationBatch!.CallerReference;

const throttled = () => new TooManyInvalidationsInProgress({ message: 'Too many invalidations', $metadata: { httpStatusCode: 400 } });
const unavailable = () =>
  new CloudFrontServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'Service unavailable', $metadata: { httpStatusCode: 503 } });

beforeEach(() => {
  cloudFront.reset();
  cloudFront.on(CreateInvalidationCommand).resolves({ Invalidation: { Id: 'I1', Status: 'InProgress', CreateTime: new Date(), InvalidationBatch: undefined } });
  sleeps = [];
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('path mapping', () => {
  test('INSERT, MODIFY and REMOVE purge their item paths and the list once, in one invalidation', async () => {
    const result = await purge()(
      streamEvent(
        insert({ id: 'a', name: 'A', price: 1 }),
        modify({ id: 'b', name: 'B', price: 1 }, { id: 'b', name: 'B', price: 2 }),
        remove({ id: 'c', name: 'C', price: 3 }),
      ),
    );
    expect(result).toEqual({ batchItemFailures: [] });
    expect(calls()).toHaveLength(1);
    const [call] = calls();
    expect(call.DistributionId).toBe('E2EXAMPLE');
    expect(pathsOf(call)).toEqual(['/items', '/items?*', '/items/a', '/items/b', '/items/c']);
    expect(call.InvalidationBatch!.Paths!.Quantity).toBe(5);
  });

  test('paths are deduplicated across the batch', async () => {
    await purge()(
      streamEvent(
        insert({ id: 'a', price: 1 }),
        modify({ id: 'a', price: 1 }, { id: 'a', price: 2 }),
        remove({ id: 'a', price: 2 }),
        insert({ id: 'b', price: 1 }),
      ),
    );
    expect(pathsOf(calls()[0])).toEqual(['/items', '/items?*', '/items/a', '/items/b']);
  });

  test('values are encoded as CloudFront matches them (space, /, ?, non-ASCII), greedy parameters keep their slashes', async () => {
    await purge('/items/{id},/files/{path+}')(streamEvent(insert({ id: 'a b/c?é', path: 'docs/a b.txt' })));
    expect(pathsOf(calls()[0])).toEqual(['/items/a%20b%2Fc%3F%C3%A9', '/files/docs/a%20b.txt']);
  });

  test('non-key parameters come from the new and the old image: a move purges both places', async () => {
    await purge('/categories/{category}/items')(
      streamEvent(
        modify({ id: 'a', category: 'toys' }, { id: 'a', category: 'games' }),
        insert({ id: 'b', category: 'games' }),
        insert({ id: 'c', category: 7 as unknown as string }),
      ),
    );
    expect(pathsOf(calls()[0])).toEqual(['/categories/games/items', '/categories/toys/items', '/categories/7/items']);
  });

  test('a record without the parameter purges everything under the template instead', async () => {
    await purge('/categories/{category}/items')(streamEvent(insert({ id: 'a' })));
    expect(pathsOf(calls()[0])).toEqual(['/categories/*']);
  });

  test('templates without parameters purge once per batch; an empty batch or no template calls nothing', async () => {
    await purge('/items')(streamEvent(insert({ id: 'a' }), insert({ id: 'b' }), remove({ id: 'c' })));
    expect(calls().map(pathsOf)).toEqual([['/items']]);
    cloudFront.resetHistory();
    expect(await purge()(streamEvent())).toEqual({ batchItemFailures: [] });
    expect(await purge('')(streamEvent(insert({ id: 'a' })))).toEqual({ batchItemFailures: [] });
    expect(calls()).toHaveLength(0);
  });
});

describe('CallerReference', () => {
  const batch = () => [insert({ id: 'a' }, { sequenceNumber: '111' }), remove({ id: 'b' }, { sequenceNumber: '222' })];

  test('is the same when the same batch is retried, so CloudFront does not create a second invalidation', async () => {
    await purge()(streamEvent(...batch()));
    await purge()(streamEvent(...batch()));
    const [first, retried] = calls().map(referenceOf);
    expect(first).toMatch(/^cca-[A-Za-z0-9_-]{40}$/);
    expect(retried).toBe(first);
  });

  test('differs for other records with the same paths, and between the calls of one batch', async () => {
    await purge()(streamEvent(...batch()));
    await purge()(streamEvent(insert({ id: 'a' }, { sequenceNumber: '333' }), remove({ id: 'b' }, { sequenceNumber: '444' })));
    const [a, b] = calls().map(referenceOf);
    expect(pathsOf(calls()[0])).toEqual(pathsOf(calls()[1]));
    expect(b).not.toBe(a);
  });

  test('is kept across retries of one call', async () => {
    cloudFront.on(CreateInvalidationCommand).rejectsOnce(throttled()).resolves({});
    await purge()(streamEvent(...batch()));
    const [first, second] = calls().map(referenceOf);
    expect(second).toBe(first);
  });
});

describe('retries', () => {
  test.each([
    ['Throttling', () => new CloudFrontServiceException({ name: 'Throttling', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } })],
    ['a 5xx', unavailable],
    ['a network failure', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('%s is retried with exponential backoff until it succeeds', async (_case, error) => {
    cloudFront.on(CreateInvalidationCommand).rejectsOnce(error()).rejectsOnce(error()).rejectsOnce(error()).resolves({});
    const result = await purge()(streamEvent(insert({ id: 'a' })));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(calls()).toHaveLength(4);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  test('TooManyInvalidationsInProgress is quota pressure: waited out at the poll interval', async () => {
    cloudFront.on(CreateInvalidationCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves({});
    expect(await purge()(streamEvent(insert({ id: 'a' })))).toEqual({ batchItemFailures: [] });
    expect(sleeps).toEqual([5000, 5000]);
  });

  test('delays have full jitter and a ceiling', async () => {
    cloudFront.on(CreateInvalidationCommand).rejects(unavailable());
    await purge('/items/{id}', { maxAttempts: 8 }, () => 0.5)(streamEvent(insert({ id: 'a' })));
    expect(sleeps).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  test('a request CloudFront refuses for good is not retried and fails the batch from its first record', async () => {
    cloudFront.on(CreateInvalidationCommand).rejects(new AccessDenied({ message: 'denied', $metadata: { httpStatusCode: 403 } }));
    const records = [insert({ id: 'a' }), insert({ id: 'b' })];
    expect(await purge()(streamEvent(...records))).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
    expect(calls()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  test('after the last attempt, without a hand-off queue, the batch is reported from its first record not purged', async () => {
    const records = ['a', 'b', 'c', 'd'].map((id) => insert({ id }));
    // Room for two file paths: (a, b) goes out; (c, d) keeps failing.
    cloudFront.on(CreateInvalidationCommand).resolvesOnce({}).rejects(unavailable());
    const result = await purge('/items/{id}', { quotas: { filePathsInProgress: 2, wildcardPathsInProgress: 0 }, maxAttempts: 3 })(streamEvent(...records));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[2].dynamodb!.SequenceNumber }] });
    expect(calls().map(pathsOf)).toEqual([['/items/a', '/items/b'], ['/items/c', '/items/d'], ['/items/c', '/items/d'], ['/items/c', '/items/d']]);
  });

  test('does not start a request inside the time reserve, which covers a whole SDK attempt and the hand-off', async () => {
    const records = [insert({ id: 'a' })];
    const result = await purge()(streamEvent(...records), contextWith(EDGE_PURGE_RESERVE_MS - 1));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records[0].dynamodb!.SequenceNumber }]);
    expect(calls()).toHaveLength(0);
    // Before: a 5 s reserve against a 3 s connect + 10 s request attempt.
    const t = EDGE_PURGE_TIMEOUTS;
    expect(EDGE_PURGE_RESERVE_MS).toBeGreaterThanOrEqual(t.cloudFront.connectionTimeout + t.cloudFront.requestTimeout + t.sqs.connectionTimeout + t.sqs.requestTimeout);
    expect(settings('/items').reserveMs).toBe(EDGE_PURGE_RESERVE_MS);
  });

  test('isRetryable tells lasting refusals from passing trouble', () => {
    expect(isRetryable(throttled())).toBe(true);
    expect(isRetryable(unavailable())).toBe(true);
    expect(isRetryable(new AccessDenied({ message: 'x', $metadata: { httpStatusCode: 403 } }))).toBe(false);
    expect(isRetryable(new CloudFrontServiceException({ name: 'InvalidArgument', $fault: 'client', message: 'bad path', $metadata: { httpStatusCode: 400 } }))).toBe(false);
  });
});

describe('configuration from the environment', () => {
  test('the deployed handler reads DISTRIBUTION_ID and EDGE_PURGE_PATHS', async () => {
    const saved = { ...process.env };
    const restore = () => {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    };
    Object.assign(process.env, { DISTRIBUTION_ID: 'EDEPLOYED', EDGE_PURGE_PATHS: '/v1/items/{id}, /v1/items, /v1/items?*' });
    try {
      const record = streamRecord('REMOVE', { old: { id: 'x1' } });
      const result = await handler(streamEvent(record), contextWith(60_000));
      expect(result).toEqual({ batchItemFailures: [] });
      expect(calls()[0]).toMatchObject({ DistributionId: 'EDEPLOYED', InvalidationBatch: { Paths: { Items: ['/v1/items', '/v1/items?*', '/v1/items/x1'] } } });
    } finally {
      restore();
    }
  });

  test('a missing distribution id or a relative template is a deployment error', () => {
    expect(() => edgePurgeSettingsFromEnv({ EDGE_PURGE_PATHS: '/items' })).toThrow(/DISTRIBUTION_ID/);
    expect(() => edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E', EDGE_PURGE_PATHS: 'items/{id}' })).toThrow(/must start with \//);
    expect(parseTemplateList(' /a/{id} ,, /a/{id},/b ').map((t) => t.source)).toEqual(['/a/{id}', '/b']);
  });
});

describe('cost cap on file paths', () => {
  test('EDGE_PURGE_MAX_FILE_PATHS collapses item paths beyond it into the route wildcard', async () => {
    const capped = edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E', EDGE_PURGE_PATHS: '/items/{id},/items,/items?*', EDGE_PURGE_MAX_FILE_PATHS: '2' });
    expect(capped.maxFilePathsPerInvalidation).toBe(2);
    await createEdgePurgeHandler(() => ({ client, settings: capped, sleep: async () => undefined, random: () => 1 }))(
      streamEvent(insert({ id: 'a' }), insert({ id: 'b' }), insert({ id: 'c' })),
    );
    expect(calls().map(pathsOf)).toEqual([['/items', '/items?*', '/items/*']]);
    expect(() => edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E', EDGE_PURGE_MAX_FILE_PATHS: '3001' })).toThrow(/EDGE_PURGE_MAX_FILE_PATHS must be an integer from 0 to 3000/);
    expect(edgePurgeSettingsFromEnv({ DISTRIBUTION_ID: 'E' }).maxFilePathsPerInvalidation).toBe(3000);
  });
});
