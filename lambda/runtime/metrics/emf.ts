/**
 * A minimal CloudWatch Embedded Metric Format writer: one JSON object per line on stdout, which
 * CloudWatch Logs turns into metrics. Written with `process.stdout.write` rather than `console.*`:
 * with Lambda's JSON log format the patched console wraps a line into `{"message": "..."}`,
 * and CloudWatch no longer finds the `_aws` member at the top level (metric loss).
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** CloudWatch units the kit uses (the spec allows every CloudWatch StandardUnit). */
export type EmfUnit = 'Count' | 'Milliseconds' | 'Microseconds' | 'Seconds' | 'Bytes' | 'Percent' | 'None';

/** One metric of a record: a value, or up to 100 values. */
export interface EmfMetric {
  readonly name: string;
  readonly unit: EmfUnit;
  readonly value: number | readonly number[];
  /** 1 for a high-resolution (per-second) metric. @default 60 */
  readonly storageResolution?: 1 | 60;
}

/** One EMF log event. */
export interface EmfRecord {
  readonly namespace: string;
  /** Dimension name to value; all of them form the record's single dimension set (at most 30). */
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: readonly EmfMetric[];
  /** Further top-level members: searchable in Logs Insights, not metrics. */
  readonly properties?: Readonly<Record<string, unknown>>;
  /** Epoch milliseconds. @default Date.now() */
  readonly timestamp?: number;
}

/** Spec limits. */
export const EMF_LIMITS = { dimensions: 30, metrics: 100, valuesPerMetric: 100 } as const;

/**
 * The EMF document of `record`. Properties come first so that a property never overwrites a
 * metric or dimension member of the same name. Metrics without a finite value are left out,
 * arrays are cut to 100 values, and a record without metrics has no `_aws` member (a plain
 * structured log line).
 */
export function emfDocument(record: EmfRecord): Record<string, unknown> {
  const definitions: Array<{ Name: string; Unit: EmfUnit; StorageResolution?: 1 }> = [];
  const members: Record<string, unknown> = {};
  for (const metric of record.metrics) {
    if (definitions.length === EMF_LIMITS.metrics) break;
    const value = Array.isArray(metric.value)
      ? (metric.value as number[]).filter(Number.isFinite).slice(0, EMF_LIMITS.valuesPerMetric)
      : metric.value;
    if (Array.isArray(value) ? value.length === 0 : !Number.isFinite(value)) continue;
    definitions.push(metric.storageResolution === 1 ? { Name: metric.name, Unit: metric.unit, StorageResolution: 1 } : { Name: metric.name, Unit: metric.unit });
    members[metric.name] = value;
  }
  const dimensionNames = Object.keys(record.dimensions).slice(0, EMF_LIMITS.dimensions);
  const doc: Record<string, unknown> = {};
  if (definitions.length > 0) {
    doc._aws = {
      Timestamp: record.timestamp ?? Date.now(),
      CloudWatchMetrics: [{ Namespace: record.namespace, Dimensions: [dimensionNames], Metrics: definitions }],
    };
  }
  Object.assign(doc, record.properties);
  for (const name of dimensionNames) doc[name] = record.dimensions[name];
  Object.assign(doc, members);
  return doc;
}

/** `record` as one line of JSON, without the newline. */
export function emfLine(record: EmfRecord): string {
  return JSON.stringify(emfDocument(record));
}

/** Writes `line` and a newline to stdout, where Lambda's log agent picks it up unchanged. */
export function writeLine(line: string): void {
  process.stdout.write(line + '\n');
}
