import { createHash } from 'node:crypto';
import { CreateInvalidationCommand, GetInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { CLOUDFRONT_QUOTAS, fitPaths, NeededPath } from './invalidation-planner';
import { isWildcardPath } from './paths';

/** The CloudFront calls the runner makes (a CloudFrontClient, or a fake in tests). */
export interface CloudFrontCalls {
  send(command: CreateInvalidationCommand | ListInvalidationsCommand | GetInvalidationCommand): Promise<unknown>;
}

export interface RunnerSettings {
  readonly distributionId: string;
  /** The in-progress quotas to stay within (CloudFront's unless a test says otherwise). */
  readonly quotas: { readonly filePathsInProgress: number; readonly wildcardPathsInProgress: number };
  /**
   * Most file paths one invalidation carries; beyond it, file paths collapse into wildcards
   * (`/items/*`): fewer billed paths at high write rates, against more edge misses.
   */
  readonly maxFilePathsPerInvalidation: number;
  /** Calls per CloudFront request on errors other than quota pressure, the first included. */
  readonly maxAttempts: number;
  /** Backoff: full jitter over min(maxDelayMs, baseDelayMs * 2^attempt). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Time kept for one more whole SDK attempt and the hand-off before the function times out. */
  readonly reserveMs: number;
  /** Wait between looks at the invalidations in progress while the quotas are full. */
  readonly pollMs: number;
  /** Longest wait for quota room in one invocation before the rest is handed off. */
  readonly maxWaitMs: number;
}

export interface RunnerDeps {
  readonly client: CloudFrontCalls;
  readonly settings: RunnerSettings;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  /** Milliseconds the invocation has left. */
  readonly remaining: () => number;
  /** Queues paths for a later invocation (throws when that is impossible). */
  readonly handOff?: (paths: string[]) => Promise<void>;
}

export interface RunResult {
  /** Invalidations created. */
  readonly created: string[][];
  /** Paths queued for later (quota pressure or time). */
  readonly handedOff: string[];
  /** The earliest input whose paths neither went out nor were handed off; undefined when all did. */
  readonly failedFrom?: number;
  readonly error?: string;
}

interface Size {
  readonly files: number;
  readonly wildcards: number;
}

function sizeOf(paths: readonly string[]): Size {
  const wildcards = paths.filter(isWildcardPath).length;
  return { files: paths.length - wildcards, wildcards };
}

/**
 * The distribution's invalidations in progress and their path counts: ListInvalidations gives the
 * ids and statuses (newest first), GetInvalidation each unknown one's paths, remembered per container
 * (an invalidation's paths never change). Other writers' invalidations count as well as ours.
 */
export class InProgressLedger {
  private readonly sizes = new Map<string, Size>();

  constructor(private readonly client: CloudFrontCalls, private readonly distributionId: string, private readonly maxPages = 10) {}

  record(id: string | undefined, paths: readonly string[]): void {
    if (id) this.sizes.set(id, sizeOf(paths));
  }

  async inProgress(): Promise<Size> {
    let files = 0;
    let wildcards = 0;
    let marker: string | undefined;
    const seen = new Set<string>();
    for (let page = 0; page < this.maxPages; page++) {
      const out = (await this.client.send(new ListInvalidationsCommand({ DistributionId: this.distributionId, Marker: marker, MaxItems: 100 }))) as {
        InvalidationList?: { Items?: Array<{ Id?: string; Status?: string }>; IsTruncated?: boolean; NextMarker?: string };
      };
      const list = out?.InvalidationList;
      let anyInProgress = false;
      for (const item of list?.Items ?? []) {
        if (item.Status !== 'InProgress' || !item.Id) continue;
        anyInProgress = true;
        seen.add(item.Id);
        const size = this.sizes.get(item.Id) ?? (await this.fetch(item.Id));
        files += size.files;
        wildcards += size.wildcards;
      }
      // In-progress invalidations are the newest: a page without one ends the look.
      if (!anyInProgress || !list?.IsTruncated || !list.NextMarker) break;
      marker = list.NextMarker;
    }
    for (const id of this.sizes.keys()) if (!seen.has(id)) this.sizes.delete(id);
    return { files, wildcards };
  }

  private async fetch(id: string): Promise<Size> {
    const out = (await this.client.send(new GetInvalidationCommand({ DistributionId: this.distributionId, Id: id }))) as {
      Invalidation?: { InvalidationBatch?: { Paths?: { Items?: string[] } } };
    };
    const size = sizeOf(out?.Invalidation?.InvalidationBatch?.Paths?.Items ?? []);
    this.sizes.set(id, size);
    return size;
  }
}

const ledgers = new WeakMap<CloudFrontCalls, Map<string, InProgressLedger>>();

/** The container's ledger of a distribution, per client (kept across invocations; refreshed on every use). */
export function ledgerFor(client: CloudFrontCalls, distributionId: string): InProgressLedger {
  let byDistribution = ledgers.get(client);
  if (!byDistribution) ledgers.set(client, (byDistribution = new Map()));
  let ledger = byDistribution.get(distributionId);
  if (!ledger) byDistribution.set(distributionId, (ledger = new InProgressLedger(client, distributionId)));
  return ledger;
}

/**
 * Worth another try: throttling, too many invalidations in progress, 5xx, and failures that got
 * no HTTP answer at all (connection reset, DNS, timeout). Other 4xx (access denied, no such
 * distribution, invalid path) would fail again.
 */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  if (isQuotaPressure(error) || e?.name === 'Throttling' || e?.name === 'ThrottlingException') return true;
  if (e?.$retryable !== undefined) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500 || status === 429;
}

export function isQuotaPressure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'TooManyInvalidationsInProgress';
}

export function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(error)}`;
}

/**
 * Invalidates the paths within the in-progress quotas: before each request it counts what is in
 * progress, fits the pending paths into the room left (collapsing them to broader wildcards rather
 * than exceeding a quota), and sends one invalidation. With no room it waits for invalidations to
 * complete, up to `maxWaitMs` and never into the time reserve; what is still pending then (or
 * after passing errors outlast their retries) is handed off for a later invocation. Only a lasting
 * refusal (access denied, invalid path) or a failed hand-off is a failure.
 */
export async function runInvalidations(needed: readonly NeededPath[], batchId: string, deps: RunnerDeps): Promise<RunResult> {
  const { client, settings, sleep, random, remaining } = deps;
  const ledger = ledgerFor(client, settings.distributionId);
  const created: string[][] = [];
  let pending = [...needed];
  let waited = 0;
  let attempt = 0;
  let lastError: string | undefined;
  const canWait = (ms: number) => waited + ms <= settings.maxWaitMs && remaining() - ms >= settings.reserveMs;

  while (pending.length > 0 && remaining() >= settings.reserveMs) {
    let now: NeededPath[];
    let later: NeededPath[];
    try {
      const busy = await ledger.inProgress();
      ({ now, later } = fitPaths(pending, {
        files: Math.min(settings.maxFilePathsPerInvalidation, settings.quotas.filePathsInProgress - busy.files),
        wildcards: settings.quotas.wildcardPathsInProgress - busy.wildcards,
      }));
    } catch (error) {
      // Without a count (even a lasting refusal such as a role without ListInvalidations), send
      // within the quotas as if nothing else were in progress: CloudFront refuses what does not
      // fit, and that refusal is handled as quota pressure below. Counting is an optimisation.
      log('WARN', 'Cannot count the invalidations in progress; planning against the whole quotas', { error: describe(error) });
      ({ now, later } = fitPaths(pending, {
        files: Math.min(settings.maxFilePathsPerInvalidation, settings.quotas.filePathsInProgress),
        wildcards: settings.quotas.wildcardPathsInProgress,
      }));
    }
    if (now.length === 0) {
      if (!canWait(settings.pollMs)) break;
      await sleep(settings.pollMs);
      waited += settings.pollMs;
      continue;
    }
    const paths = now.map((p) => p.path);
    const callerReference = `cca-${createHash('sha256').update(`${batchId}\n${paths.join('\n')}`).digest('base64url').slice(0, 40)}`;
    try {
      const out = (await client.send(
        new CreateInvalidationCommand({
          DistributionId: settings.distributionId,
          InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: paths } },
        }),
      )) as { Invalidation?: { Id?: string } } | undefined;
      ledger.record(out?.Invalidation?.Id, paths);
      created.push(paths);
      log('INFO', 'Invalidation created', { invalidationId: out?.Invalidation?.Id, paths: paths.length, wildcards: sizeOf(paths).wildcards, callerReference });
      pending = later;
      attempt = 0;
    } catch (error) {
      lastError = describe(error);
      if (!isRetryable(error)) return fail(pending, created, error);
      attempt++;
      const delay = isQuotaPressure(error)
        ? settings.pollMs
        : Math.round(random() * Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1)));
      if ((!isQuotaPressure(error) && attempt >= settings.maxAttempts) || !canWait(delay)) break;
      log('WARN', 'Invalidation refused for now; retrying', { error: lastError, attempt, delayMs: delay });
      await sleep(delay);
      waited += delay;
    }
  }

  if (pending.length === 0) return { created, handedOff: [] };
  const rest = pending.map((p) => p.path);
  try {
    if (!deps.handOff) throw new Error('no hand-off queue is configured');
    await deps.handOff(rest);
    log('WARN', 'Quota pressure or time: paths handed off for a later invocation', { paths: rest.length, lastError });
    return { created, handedOff: rest };
  } catch (error) {
    return fail(pending, created, error);
  }
}

function fail(pending: readonly NeededPath[], created: string[][], error: unknown): RunResult {
  const failedFrom = Math.min(...pending.map((p) => p.firstNeed));
  log('ERROR', 'Invalidation failed; reporting the inputs from the first one not purged', { error: describe(error), paths: pending.length, failedFrom });
  return { created, handedOff: [], failedFrom, error: describe(error) };
}

export function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, detail: Record<string, unknown>): void {
  const line = JSON.stringify({ level, message, ...detail });
  if (level === 'ERROR') console.error(line);
  else if (level === 'WARN') console.warn(line);
  else console.log(line);
}

export { CLOUDFRONT_QUOTAS };
