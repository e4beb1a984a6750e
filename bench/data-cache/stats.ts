/** Percentile of a sample (nearest-rank), in the sample's unit. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export interface LatencySummary {
  readonly ops: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
  readonly opsPerSec: number;
  /**
   * Mean CPU time (user + system) of this process per op, µs: the client's own work (encoding,
   * parsing, syscalls), which the round trip's wait does not stretch.
   */
  readonly cpuUsPerOp?: number;
}

/** Summary of per-op durations given in microseconds, over a run that took `totalMs`. */
export function summarize(samplesUs: readonly number[], totalMs: number, cpuUs?: number): LatencySummary {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    ops: sorted.length,
    p50Us: round(percentile(sorted, 50)),
    p90Us: round(percentile(sorted, 90)),
    p99Us: round(percentile(sorted, 99)),
    meanUs: round(sum / sorted.length),
    opsPerSec: Math.round(sorted.length / (totalMs / 1000)),
    ...(cpuUs === undefined ? {} : { cpuUsPerOp: round(cpuUs / sorted.length) }),
  };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `a / b` to two decimals: how the bench reports the kit against a raw client. */
export function ratio(a: number, b: number): number {
  return Math.round((a / b) * 100) / 100;
}

/**
 * Times every path once per round, `warmUp` rounds discarded then `ops` rounds measured.
 * Interleaved per operation, alternating the order, so machine noise (GC, CPU frequency,
 * other processes on a shared host) falls on every path alike; ops/s counts each path's own time.
 */
export async function measureInterleaved<P extends string>(
  paths: Record<P, () => Promise<unknown>>,
  ops: number,
  warmUp: number,
): Promise<Record<P, LatencySummary>> {
  const names = Object.keys(paths) as P[];
  const reversed = [...names].reverse();
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<P, number[]>;
  const elapsed = Object.fromEntries(names.map((n) => [n, 0])) as Record<P, number>;
  const cpu = Object.fromEntries(names.map((n) => [n, 0])) as Record<P, number>;
  for (let i = 0; i < warmUp + ops; i++) {
    for (const name of i % 2 === 0 ? names : reversed) {
      // The CPU reading brackets the wall-clock one, so its own cost stays out of the latency.
      const cpuBefore = process.cpuUsage();
      const t = performance.now();
      await paths[name]();
      const d = performance.now() - t;
      const c = process.cpuUsage(cpuBefore);
      if (i >= warmUp) {
        samples[name].push(d * 1000);
        elapsed[name] += d;
        cpu[name] += c.user + c.system;
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarize(samples[n], elapsed[n], cpu[n])])) as Record<P, LatencySummary>;
}
