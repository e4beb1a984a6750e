/** Private to ApiMonitoring: API-level alarms that sum one metric over many functions. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * Metrics one alarm's math expression may read: a hard CloudWatch limit (PutMetricAlarm takes at
 * most 10 MetricStat queries), so a sum over more functions takes several alarms.
 */
export const MAX_METRICS_PER_ALARM = 10;

/** `items` cut into runs of at most `size`, in order. */
export function chunked<T>(items: readonly T[], size = MAX_METRICS_PER_ALARM): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * One series: the per-period sum of `metrics` (ids `<prefix>0`, `<prefix>1`, ... in order).
 * `SUM([...])` adds what each period has, so a function without invocations (no datapoint)
 * does not blank the sum the way `a + b` would.
 */
export function sumOf(prefix: string, metrics: readonly cloudwatch.IMetric[], period: Duration, label: string): cloudwatch.MathExpression {
  if (metrics.length === 0 || metrics.length > MAX_METRICS_PER_ALARM) {
    throw new Error(`sumOf: 1 to ${MAX_METRICS_PER_ALARM} metrics per alarm, got ${metrics.length}`);
  }
  const ids = metrics.map((_, i) => `${prefix}${i}`);
  return new cloudwatch.MathExpression({
    expression: `SUM([${ids.join(', ')}])`,
    usingMetrics: Object.fromEntries(ids.map((id, i) => [id, metrics[i]])),
    period,
    label,
  });
}
