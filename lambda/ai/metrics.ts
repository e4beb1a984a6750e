import { emfLine, EmfMetric, writeLine } from '../runtime/metrics/emf';

/** How a completion was served. */
export type AiCacheOutcome = 'hit' | 'miss' | 'coalesced' | 'bypass' | 'error';

export interface AiRequestRecord {
  readonly alias: string;
  readonly consumer: string;
  readonly outcome: AiCacheOutcome | 'rejected';
  readonly status: number;
  readonly servedBy?: string;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
  readonly tokensSaved?: number;
  readonly upstreamMs?: number;
  readonly throttles?: number;
  readonly budgetRejected?: boolean;
  readonly stream: boolean;
  readonly requestId?: string;
}

/**
 * EMF records of one model request: one per model alias and one per consumer (a record has a
 * single dimension set), with tokens in and out, tokens the cache saved, upstream latency,
 * cache hits and misses, upstream throttles and budget rejections.
 */
export function aiMetricLines(namespace: string, r: AiRequestRecord, timestamp = Date.now()): string[] {
  const metrics: EmfMetric[] = [
    { name: 'InputTokens', unit: 'Count', value: r.inputTokens ?? 0 },
    { name: 'OutputTokens', unit: 'Count', value: r.outputTokens ?? 0 },
    { name: 'TokensSaved', unit: 'Count', value: r.tokensSaved ?? 0 },
    { name: 'CacheHit', unit: 'Count', value: r.outcome === 'hit' || r.outcome === 'coalesced' ? 1 : 0 },
    { name: 'CacheMiss', unit: 'Count', value: r.outcome === 'miss' ? 1 : 0 },
    { name: 'UpstreamThrottles', unit: 'Count', value: r.throttles ?? 0 },
    { name: 'BudgetRejections', unit: 'Count', value: r.budgetRejected ? 1 : 0 },
    ...(r.upstreamMs === undefined ? [] : [{ name: 'UpstreamLatency', unit: 'Milliseconds' as const, value: r.upstreamMs }]),
  ];
  const properties = { requestId: r.requestId, outcome: r.outcome, status: r.status, servedBy: r.servedBy, stream: r.stream, model: r.alias, consumer: r.consumer };
  return [
    emfLine({ namespace, dimensions: { Model: r.alias }, metrics, properties, timestamp }),
    emfLine({ namespace, dimensions: { Consumer: r.consumer }, metrics, properties, timestamp }),
  ];
}

export function writeAiMetrics(namespace: string | undefined, r: AiRequestRecord): void {
  if (!namespace) return;
  for (const line of aiMetricLines(namespace, r)) writeLine(line);
}
