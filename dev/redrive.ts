/**
 * `npm run redrive -- --stack NAME [--region R] [--dry-run] [--max N]`: replays what the cache
 * purges of a deployed stack gave up on. CacheSync's failure queues hold self-contained messages
 * (the data purge's keys, groups and edge paths; the edge purge's viewer paths): each is sent back
 * to the queue its purge reads (the data purge's retry queue, the edge purge's request queue) and
 * deleted from the failure queue once sent. A DynamoDB-stream failure record (shard and sequence
 * range only, written by Lambda when a stream batch ran out of retries) names no keys and is left
 * in place, listed; the cache TTLs bound those entries' staleness.
 */
import { CloudFormationClient, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseDataPurgeBody } from '../lambda/purge/data-cache-purge';
import { parseEdgePathBody } from '../lambda/purge/edge-queue';

export interface RedriveOptions {
  readonly stack: string;
  readonly region?: string;
  /** List what would be replayed, send and delete nothing. */
  readonly dryRun?: boolean;
  /** Most messages read per failure queue. @default 10000 */
  readonly max?: number;
}

export interface RedriveClients {
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
  readonly sqs: Pick<SQSClient, 'send'>;
}

/** A failure queue and the queue its messages are replayed to. */
export interface RedrivePair {
  readonly failures: string;
  readonly target: string;
  readonly kind: 'edge' | 'data';
}

export interface RedriveReport {
  readonly pairs: RedrivePair[];
  readonly replayed: number;
  /** Stream failure records: not replayable from the queue (no keys), left in place. */
  readonly streamRecords: string[];
  /** Messages of no known shape, left in place. */
  readonly unknown: number;
  readonly errors: string[];
}

/** CacheSync's queue ids (lib/sync/cache-sync.ts); logical ids end in an 8-character hash. */
const QUEUES = {
  edge: { failures: 'EdgePurgeFailures', target: 'EdgePurgeRequests' },
  data: { failures: 'DataPurgeFailures', target: 'DataPurgeRetries' },
} as const;

/** The failure queues of every CacheSync in the stack, each paired with its replay target. */
export function findRedrivePairs(resources: readonly StackResourceSummary[]): RedrivePair[] {
  const queues = resources.filter((r) => r.ResourceType === 'AWS::SQS::Queue' && r.PhysicalResourceId);
  const pairs: RedrivePair[] = [];
  for (const kind of ['edge', 'data'] as const) {
    const { failures, target } = QUEUES[kind];
    for (const q of queues) {
      const match = new RegExp(`^(.*)${failures}[0-9A-F]{8}$`).exec(q.LogicalResourceId ?? '');
      if (!match) continue;
      const partner = queues.find((t) => new RegExp(`^${match[1]}${target}[0-9A-F]{8}$`).test(t.LogicalResourceId ?? ''));
      if (partner) pairs.push({ failures: q.PhysicalResourceId!, target: partner.PhysicalResourceId!, kind });
    }
  }
  return pairs;
}

function describeStreamRecord(body: string): string | undefined {
  try {
    const record = JSON.parse(body) as { DDBStreamBatchInfo?: { shardId?: string; startSequenceNumber?: string; endSequenceNumber?: string; streamArn?: string } };
    const info = record.DDBStreamBatchInfo;
    if (!info) return undefined;
    return `${info.streamArn ?? '?'} shard ${info.shardId ?? '?'} sequence ${info.startSequenceNumber ?? '?'}..${info.endSequenceNumber ?? '?'}`;
  } catch {
    return undefined;
  }
}

export async function runRedrive(options: RedriveOptions, clients: RedriveClients): Promise<RedriveReport> {
  const resources: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    const out = await clients.cloudFormation.send(new ListStackResourcesCommand({ StackName: options.stack, NextToken: token }));
    resources.push(...(out.StackResourceSummaries ?? []));
    token = out.NextToken;
  } while (token);
  const pairs = findRedrivePairs(resources);
  const report = { pairs, replayed: 0, streamRecords: [] as string[], unknown: 0, errors: [] as string[] };
  const max = options.max ?? 10_000;

  for (const pair of pairs) {
    const seen = new Set<string>();
    for (let read = 0; read < max; ) {
      const out = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: pair.failures, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 120 }),
      );
      const messages = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (messages.length === 0) break;
      for (const message of messages) {
        read++;
        seen.add(message.MessageId!);
        const body = message.Body ?? '';
        const replayable = pair.kind === 'edge' ? parseEdgePathBody(body) !== undefined : parseDataPurgeBody(body) !== undefined;
        if (!replayable) {
          const stream = describeStreamRecord(body);
          if (stream) report.streamRecords.push(stream);
          else report.unknown++;
          continue;
        }
        if (options.dryRun) {
          report.replayed++;
          continue;
        }
        try {
          await clients.sqs.send(new SendMessageCommand({ QueueUrl: pair.target, MessageBody: body }));
          await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: pair.failures, ReceiptHandle: message.ReceiptHandle }));
          report.replayed++;
        } catch (error) {
          report.errors.push(`${pair.failures}: ${(error as Error)?.message ?? String(error)}`);
        }
      }
    }
  }
  return report;
}

export function formatRedriveReport(report: RedriveReport, options: RedriveOptions): string {
  const lines = [
    `${options.dryRun ? 'would replay' : 'replayed'}: ${report.replayed} message(s) from ${report.pairs.length} failure queue(s)`,
    ...report.pairs.map((p) => `  ${p.kind}: ${p.failures} -> ${p.target}`),
  ];
  if (report.streamRecords.length > 0) {
    lines.push(`left in place: ${report.streamRecords.length} stream failure record(s) (no keys to replay; the cache TTLs bound their staleness):`);
    lines.push(...report.streamRecords.slice(0, 20).map((s) => `  ${s}`));
  }
  if (report.unknown > 0) lines.push(`left in place: ${report.unknown} message(s) of no known shape`);
  if (report.errors.length > 0) lines.push(`errors: ${report.errors.length}`, ...report.errors.slice(0, 20).map((e) => `  ${e}`));
  return lines.join('\n');
}

export function parseRedriveArgs(argv: readonly string[]): RedriveOptions {
  let stack: string | undefined;
  let region: string | undefined;
  let dryRun = false;
  let max: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--stack') stack = value();
    else if (arg === '--region') region = value();
    else if (arg === '--dry-run') dryRun = true;
    else if (arg === '--max') {
      max = Number(value());
      if (!Number.isInteger(max) || max < 1) throw new Error('--max must be a positive integer');
    } else throw new Error(`unknown argument ${arg}; usage: npm run redrive -- --stack NAME [--region R] [--dry-run] [--max N]`);
  }
  if (!stack) throw new Error('--stack NAME is required (the stack with the CacheSync)');
  return { stack, region, dryRun, max };
}

/** The CLI: exit code 0 when everything replayable was replayed, 1 on any error. */
export async function redriveCli(argv: readonly string[], clients?: RedriveClients): Promise<number> {
  let options: RedriveOptions;
  try {
    options = parseRedriveArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const region = options.region ? { region: options.region } : {};
  const report = await runRedrive(options, clients ?? { cloudFormation: new CloudFormationClient(region), sqs: new SQSClient(region) });
  console.log(formatRedriveReport(report, options));
  if (report.pairs.length === 0) {
    console.error(`stack ${options.stack} has no CacheSync failure queues`);
    return 1;
  }
  return report.errors.length > 0 ? 1 : 0;
}
