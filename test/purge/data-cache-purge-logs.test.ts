import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createDataCachePurgeHandler, dataPurgeSettingsFromEnv } from '../../lambda/purge/data-cache-purge';
import { insert, streamEvent } from './stream-events';

// What the data purge tells an operator, and how it treats malformed input: found by mutation
// testing (docs/testing.md), where changing these lines left every other purge test passing.

/** A cache whose invalidations of the named keys and groups always fail; it records every call. */
function failingCache(failing: ReadonlySet<string> = new Set()) {
  const calls: string[] = [];
  const call = async (name: string) => {
    calls.push(name);
    return !failing.has(name);
  };
  return {
    calls,
    cache: { invalidate: (key: string) => call(`key:${key}`), invalidateGroup: (group: string) => call(`group:${group}`) },
  };
}

const purgeWith = (cache: ReturnType<typeof failingCache>['cache'], env: Record<string, string> = { DATA_PURGE_KEYS: 'item:{id}', DATA_PURGE_GROUPS: 'items' }) =>
  createDataCachePurgeHandler(() => ({ cache, settings: dataPurgeSettingsFromEnv(env), sleep: async () => undefined, random: () => 0 }));

let logs: { warn: unknown[]; error: unknown[] };
beforeEach(() => {
  logs = { warn: [], error: [] };
  jest.spyOn(console, 'warn').mockImplementation((line: string) => void logs.warn.push(JSON.parse(line)));
  jest.spyOn(console, 'error').mockImplementation((line: string) => void logs.error.push(JSON.parse(line)));
});
afterEach(() => jest.restoreAllMocks());

test('a lasting failure with no retry queue logs one ERROR line naming the sequence number reported and how much is pending', async () => {
  const records = Array.from({ length: 25 }, (_, i) => insert({ id: `item-${String(i).padStart(2, '0')}` }));
  const failing = new Set(records.map((_, i) => `key:item:item-${String(i).padStart(2, '0')}`));
  const result = await purgeWith(failingCache(failing).cache)(streamEvent(...records));
  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[0].dynamodb!.SequenceNumber }] });
  expect(logs.error).toEqual([
    {
      level: 'ERROR',
      message: 'Reporting the batch from the first record not purged',
      sequenceNumber: records[0].dynamodb!.SequenceNumber,
      timedOut: false,
      pendingCount: 25,
    },
  ]);
});

test('a record without a non-key template attribute has nothing of that template to purge: no call, no warning, no failure', async () => {
  // An optional attribute (a category that was never set, or became NULL) names no cache key.
  const fake = failingCache();
  const record = insert({ id: 'a' });
  const result = await purgeWith(fake.cache, { DATA_PURGE_KEYS: 'category:{category}' })(streamEvent(record));
  expect(result).toEqual({ batchItemFailures: [] });
  expect(fake.calls).toEqual([]);
  expect(logs.warn).toEqual([]);
  expect(logs.error).toEqual([]);
});

test('an event without records purges nothing and reports no failure', async () => {
  const fake = failingCache();
  expect(await purgeWith(fake.cache)({} as DynamoDBStreamEvent)).toEqual({ batchItemFailures: [] });
  expect(fake.calls).toEqual([]);
});

test('a record without its change data is a reported failure, not a crash and not a silent success', async () => {
  // Not something DynamoDB Streams sends, but the handler must not throw on it (a throw retries the
  // whole batch forever), nor report it purged: it is a batch item failure, logged with its problem.
  const fake = failingCache();
  const result = await purgeWith(fake.cache)({ Records: [{ eventName: 'MODIFY' }] } as DynamoDBStreamEvent);
  expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: '' }] });
  expect(fake.calls).toEqual([]);
  expect(logs.error).toEqual([
    { level: 'ERROR', message: 'Record cannot be purged; reported as a batch item failure', problem: 'the record carries no change data or keys' },
    { level: 'ERROR', message: 'Reporting the batch from the first record not purged', timedOut: false, pendingCount: 0 },
  ]);
});
