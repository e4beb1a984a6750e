import { CloudFrontClient, CloudFrontServiceException, CreateInvalidationCommand, GetInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { CLOUDFRONT_QUOTAS, NeededPath } from '../../lambda/purge/invalidation-planner';
import { describe as describeError, InProgressLedger, isQuotaPressure, isRetryable, ledgerFor, log, RunnerSettings, runInvalidations } from '../../lambda/purge/invalidation-runner';
import { FakeCloudFront, SimClock } from './fake-cloudfront';

// The runner on its own, against the fake CloudFront on a simulated clock (nothing really waits):
// the in-progress ledger page by page, the waits against maxWaitMs and the time reserve at the
// millisecond, the hand-off and the failure, and the log lines. Written to kill the StrykerJS
// survivors of lambda/purge/invalidation-runner.ts (docs/testing.md, "Mutation testing").

const cloudFront = mockClient(CloudFrontClient);

const base: RunnerSettings = {
  distributionId: 'E1',
  quotas: CLOUDFRONT_QUOTAS,
  maxFilePathsPerInvalidation: 3000,
  maxAttempts: 3,
  baseDelayMs: 400,
  maxDelayMs: 10_000,
  reserveMs: 1000,
  pollMs: 5000,
  maxWaitMs: 30_000,
};

let clock: SimClock;
let sleeps: number[];
let lines: Array<{ stream: string; line: Record<string, unknown> }>;

beforeEach(() => {
  cloudFront.reset();
  clock = new SimClock();
  sleeps = [];
  lines = [];
  for (const stream of ['log', 'warn', 'error'] as const) {
    jest.spyOn(console, stream).mockImplementation((...args: unknown[]) => void lines.push({ stream, line: JSON.parse(String(args[0])) }));
  }
});
afterEach(() => jest.restoreAllMocks());

/** A fake CloudFront whose invalidations each stay in progress `ms` of simulated time. */
function fake(options: Partial<FakeCloudFront['options']> = {}, ms = 20_000): FakeCloudFront {
  const f = new FakeCloudFront(clock, () => 0, { files: 3000, wildcards: 15, minMs: ms, maxMs: ms, pageSize: 100, ...options });
  f.install(cloudFront);
  return f;
}

/** A fresh client per test: the ledger is kept per client. */
const newClient = () => new CloudFrontClient({ region: 'us-east-1' });

async function create(client: CloudFrontClient, paths: string[]): Promise<void> {
  await client.send(new CreateInvalidationCommand({ DistributionId: 'E1', InvalidationBatch: { CallerReference: `other-${paths.join()}-${clock.now}`, Paths: { Quantity: paths.length, Items: paths } } }));
}

const need = (...paths: string[]): NeededPath[] => paths.map((path, firstNeed) => ({ path, firstNeed }));

function deps(client: CloudFrontClient, settings: Partial<RunnerSettings> = {}, extra: { budgetMs?: number; handOff?: (paths: string[]) => Promise<void>; random?: () => number } = {}) {
  const budget = extra.budgetMs ?? 60_000;
  return {
    client,
    settings: { ...base, ...settings },
    sleep: async (ms: number) => {
      sleeps.push(ms);
      await clock.sleep(ms);
    },
    random: extra.random ?? (() => 1),
    remaining: () => budget - clock.now,
    handOff: extra.handOff,
  };
}

const listCalls = () => cloudFront.commandCalls(ListInvalidationsCommand).length;
const getCalls = () => cloudFront.commandCalls(GetInvalidationCommand).map((c) => c.args[0].input.Id);
const createdPaths = () => cloudFront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch!.Paths!.Items!);

describe('the in-progress ledger', () => {
  test('counts the files and wildcards in progress page by page, stops at a page without one, and remembers the paths', async () => {
    fake({ pageSize: 2 }, 1000);
    const client = newClient();
    // Four completed (two pages of them), then four in progress (two pages).
    for (const p of ['/old1', '/old2', '/old3', '/old4']) await create(client, [p]);
    clock.now = 5000;
    await create(client, ['/a', '/b*']);
    await create(client, ['/c']);
    await create(client, ['/d*', '/e*', '/f']);
    await create(client, ['/g?*']);
    const ledger = new InProgressLedger(client, 'E1');
    expect(await ledger.inProgress()).toEqual({ files: 3, wildcards: 4 });
    expect(listCalls()).toBe(3);
    expect(getCalls()).toEqual(['I8', 'I7', 'I6', 'I5']);

    // Known paths are not fetched again; a finished invalidation is forgotten.
    expect(await ledger.inProgress()).toEqual({ files: 3, wildcards: 4 });
    expect(getCalls()).toHaveLength(4);
    clock.now = 7000;
    expect(await ledger.inProgress()).toEqual({ files: 0, wildcards: 0 });
    expect((ledger as unknown as { sizes: Map<string, unknown> }).sizes.size).toBe(0);
  });

  test('reads at most maxPages pages, and stops at a truncated page without a marker', async () => {
    fake({ pageSize: 1 });
    const client = newClient();
    for (const p of ['/a', '/b', '/c']) await create(client, [p]);
    expect(await new InProgressLedger(client, 'E1', 2).inProgress()).toEqual({ files: 2, wildcards: 0 });
    expect(listCalls()).toBe(2);

    cloudFront.reset();
    cloudFront.on(ListInvalidationsCommand).resolves({ InvalidationList: { Items: [{ Id: 'X', Status: 'InProgress' } as never], IsTruncated: true } as never });
    cloudFront.on(GetInvalidationCommand).resolves({ Invalidation: { InvalidationBatch: { Paths: { Items: ['/x', '/y*'] } } } as never });
    expect(await new InProgressLedger(client, 'E1').inProgress()).toEqual({ files: 1, wildcards: 1 });
    expect(listCalls()).toBe(1);
  });

  test('skips items that are not in progress or have no id; reads empty answers as nothing in progress', async () => {
    const client = newClient();
    cloudFront.on(ListInvalidationsCommand).resolves({
      InvalidationList: { Items: [{ Status: 'InProgress' }, { Id: 'C', Status: 'Completed' }, { Id: 'P', Status: 'InProgress' }] as never, IsTruncated: false } as never,
    });
    cloudFront.on(GetInvalidationCommand).resolves({});
    expect(await new InProgressLedger(client, 'E1').inProgress()).toEqual({ files: 0, wildcards: 0 });
    expect(getCalls()).toEqual(['P']);

    cloudFront.reset();
    cloudFront.on(ListInvalidationsCommand).resolves({});
    expect(await new InProgressLedger(client, 'E1').inProgress()).toEqual({ files: 0, wildcards: 0 });
    const bare = { send: async () => undefined };
    expect(await new InProgressLedger(bare, 'E1').inProgress()).toEqual({ files: 0, wildcards: 0 });

    // Invalidations whose description lacks the paths at any level count as empty.
    const partial = [undefined, {}, { Invalidation: {} }, { Invalidation: { InvalidationBatch: {} } }, { Invalidation: { InvalidationBatch: { Paths: {} } } }];
    const sparse = {
      send: async (command: unknown) =>
        command instanceof ListInvalidationsCommand
          ? { InvalidationList: { Items: partial.map((_p, i) => ({ Id: String(i), Status: 'InProgress' })) } }
          : partial[Number((command as GetInvalidationCommand).input.Id)],
    };
    expect(await new InProgressLedger(sparse, 'E1').inProgress()).toEqual({ files: 0, wildcards: 0 });
  });

  test('an invalidation recorded by its creator is not fetched; one without an id is not recorded', async () => {
    fake();
    const client = newClient();
    await create(client, ['/a', '/b*', '/c']);
    const ledger = new InProgressLedger(client, 'E1');
    ledger.record('I1', ['/a', '/b*', '/c']);
    ledger.record(undefined, ['/z']);
    expect(await ledger.inProgress()).toEqual({ files: 2, wildcards: 1 });
    expect(getCalls()).toEqual([]);
  });

  test('is kept per client and per distribution', () => {
    const a = newClient();
    const b = newClient();
    expect(ledgerFor(a, 'E1')).toBe(ledgerFor(a, 'E1'));
    expect(ledgerFor(a, 'E1')).not.toBe(ledgerFor(a, 'E2'));
    expect(ledgerFor(a, 'E2')).toBe(ledgerFor(a, 'E2'));
    expect(ledgerFor(b, 'E1')).not.toBe(ledgerFor(a, 'E1'));
  });
});

describe('errors', () => {
  const named = (name: string, status?: number) => new CloudFrontServiceException({ name, $fault: 'client', message: 'm', $metadata: { httpStatusCode: status } });

  test('isRetryable: throttling by either name, SDK-retryable, 429 and 5xx from 500, no answer at all', () => {
    expect(isRetryable(named('ThrottlingException', 400))).toBe(true);
    expect(isRetryable(named('Throttling', 400))).toBe(true);
    expect(isRetryable(Object.assign(named('Odd', 400), { $retryable: {} }))).toBe(true);
    expect(isRetryable(named('TooManyRequests', 429))).toBe(true);
    expect(isRetryable(named('InternalError', 500))).toBe(true);
    expect(isRetryable(named('Conflict', 409))).toBe(false);
    expect(isRetryable(named('Odd', 499))).toBe(false);
    expect(isRetryable(undefined)).toBe(true);
    expect(isRetryable(null)).toBe(true);
    expect(isQuotaPressure(undefined)).toBe(false);
  });

  test('describe names the error, or says Error, and takes the message or the value', () => {
    expect(describeError(named('AccessDenied', 403))).toBe('AccessDenied: m');
    expect(describeError({ message: 'no name' })).toBe('Error: no name');
    expect(describeError('text')).toBe('Error: text');
    expect(describeError(undefined)).toBe('Error: undefined');
  });

  test('log writes one JSON line to the stream of its level', () => {
    log('ERROR', 'e', { a: 1 });
    log('WARN', 'w', {});
    log('INFO', 'i', { b: 'x' });
    expect(lines).toEqual([
      { stream: 'error', line: { level: 'ERROR', message: 'e', a: 1 } },
      { stream: 'warn', line: { level: 'WARN', message: 'w' } },
      { stream: 'log', line: { level: 'INFO', message: 'i', b: 'x' } },
    ]);
  });
});

describe('runInvalidations', () => {
  test('plans against the room left by what is in progress, files and wildcards', async () => {
    fake({ files: 3, wildcards: 2 });
    const client = newClient();
    await create(client, ['/busy1', '/busy2', '/busy*']);
    const result = await runInvalidations(need('/a/x', '/a/y'), 'batch', deps(client, { quotas: { filePathsInProgress: 3, wildcardPathsInProgress: 2 } }));
    // One file of room: the two collapse into the one wildcard left.
    expect(result).toEqual({ created: [['/a/*']], handedOff: [] });
    expect(lines.filter((l) => l.line.message === 'Invalidation created').map((l) => l.line)).toEqual([
      { level: 'INFO', message: 'Invalidation created', invalidationId: 'I2', paths: 1, wildcards: 1, callerReference: expect.stringMatching(/^cca-[\w-]{40}$/) },
    ]);
  });

  test('wildcards in progress take wildcard room: two wanted in the one place left merge', async () => {
    fake({ wildcards: 2 });
    const client = newClient();
    await create(client, ['/busy*']);
    const result = await runInvalidations(need('/p/*', '/q/*'), 'batch', deps(client, { quotas: { filePathsInProgress: 3000, wildcardPathsInProgress: 2 } }));
    expect(result).toEqual({ created: [['/*']], handedOff: [] });
  });

  test('without a count it plans against the whole quotas, still capped per invalidation, and says so', async () => {
    fake();
    cloudFront.on(ListInvalidationsCommand).rejects(named403());
    const client = newClient();
    const result = await runInvalidations(need('/a/x', '/a/y', '/a/z'), 'batch', deps(client, { maxFilePathsPerInvalidation: 2 }));
    expect(result.created).toEqual([['/a/*']]);
    expect(lines[0]).toEqual({ stream: 'warn', line: { level: 'WARN', message: 'Cannot count the invalidations in progress; planning against the whole quotas', error: 'AccessDenied: no' } });
  });

  test('with no room it polls until an invalidation completes; one at exactly the reserve still goes', async () => {
    fake({ files: 1 }, 10_000);
    const client = newClient();
    await create(client, ['/busy']);
    // 11 s left: two 5 s polls fit (the second ends at exactly the 1 s reserve), then the room is back.
    const result = await runInvalidations(need('/x'), 'batch', deps(client, { quotas: { filePathsInProgress: 1, wildcardPathsInProgress: 0 } }, { budgetMs: 11_000 }));
    expect(sleeps).toEqual([5000, 5000]);
    expect(result).toEqual({ created: [['/x']], handedOff: [] });
  });

  test('waits no longer than maxWaitMs (to the millisecond) nor into the reserve, then hands off', async () => {
    fake({ files: 1 }, 600_000);
    const client = newClient();
    await create(client, ['/busy']);
    const handedOff: string[][] = [];
    const handOff = async (paths: string[]) => void handedOff.push(paths);
    const quotas = { filePathsInProgress: 1, wildcardPathsInProgress: 0 };
    const result = await runInvalidations(need('/x', '/y'), 'batch', deps(client, { quotas, maxWaitMs: 10_000 }, { handOff }));
    expect(sleeps).toEqual([5000, 5000]);
    expect(result).toEqual({ created: [], handedOff: ['/x', '/y'] });
    expect(handedOff).toEqual([['/x', '/y']]);
    expect(lines.at(-1)).toEqual({ stream: 'warn', line: { level: 'WARN', message: 'Quota pressure or time: paths handed off for a later invocation', paths: 2 } });

    // The reserve: 11 s left allows two polls (6 s, then exactly 1 s left after the second).
    sleeps = [];
    clock.now = 0;
    await runInvalidations(need('/x'), 'batch2', deps(client, { quotas }, { budgetMs: 11_000, handOff }));
    expect(sleeps).toEqual([5000, 5000]);
    sleeps = [];
    clock.now = 0;
    await runInvalidations(need('/x'), 'batch3', deps(client, { quotas }, { budgetMs: 10_999, handOff }));
    expect(sleeps).toEqual([5000]);
  });

  test('retry delays count towards maxWaitMs; the retry is logged; the last error goes with the hand-off', async () => {
    const client = newClient();
    cloudFront.on(ListInvalidationsCommand).resolves({});
    cloudFront.on(CreateInvalidationCommand).rejects(new CloudFrontServiceException({ name: 'ServiceUnavailable', $fault: 'server', message: 'busy', $metadata: { httpStatusCode: 503 } }));
    const handOff = async () => undefined;
    const result = await runInvalidations(need('/x'), 'batch', deps(client, { maxAttempts: 10, maxWaitMs: 1000 }, { handOff }));
    // 400, then 800 would take the wait to 1200 ms.
    expect(sleeps).toEqual([400]);
    expect(result).toEqual({ created: [], handedOff: ['/x'] });
    expect(lines.map((l) => l.line)).toEqual([
      { level: 'WARN', message: 'Invalidation refused for now; retrying', error: 'ServiceUnavailable: busy', attempt: 1, delayMs: 400 },
      { level: 'WARN', message: 'Quota pressure or time: paths handed off for a later invocation', paths: 1, lastError: 'ServiceUnavailable: busy' },
    ]);
  });

  test('without a hand-off the pending paths fail from their earliest input, with an ERROR line', async () => {
    fake({ files: 1 }, 600_000);
    const client = newClient();
    await create(client, ['/busy']);
    const needed = [{ path: '/x', firstNeed: 3 }, { path: '/y', firstNeed: 1 }, { path: '/z', firstNeed: 2 }];
    const result = await runInvalidations(needed, 'batch', deps(client, { quotas: { filePathsInProgress: 1, wildcardPathsInProgress: 0 }, maxWaitMs: 0 }));
    expect(result).toEqual({ created: [], handedOff: [], failedFrom: 1, error: 'Error: no hand-off queue is configured' });
    expect(lines.at(-1)).toEqual({
      stream: 'error',
      line: { level: 'ERROR', message: 'Invalidation failed; reporting the inputs from the first one not purged', error: 'Error: no hand-off queue is configured', paths: 3, failedFrom: 1 },
    });
  });

  test('the CallerReference separates the paths, and an answer without an invalidation is fine', async () => {
    fake();
    const client = newClient();
    await runInvalidations(need('/a', '/b'), 'batch', deps(client));
    await runInvalidations(need('/a/b'), 'batch', deps(client));
    const refs = cloudFront.commandCalls(CreateInvalidationCommand).map((c) => c.args[0].input.InvalidationBatch!.CallerReference);
    expect(new Set(refs).size).toBe(2);
    expect(createdPaths()).toEqual([['/a', '/b'], ['/a/b']]);

    const bare = { send: async () => undefined };
    expect(await runInvalidations(need('/a'), 'batch', { ...deps(client), client: bare })).toEqual({ created: [['/a']], handedOff: [] });
  });
});

function named403() {
  return new CloudFrontServiceException({ name: 'AccessDenied', $fault: 'client', message: 'no', $metadata: { httpStatusCode: 403 } });
}
