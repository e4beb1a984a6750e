// Markdown helpers of the benchmark reports (bench/report.ts and its section files).
import { formatNumber } from './charts/svg';

/** The median (the mean of the two middle values for an even count). */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** A number as the report prints it, or `n/a`. */
export const fmt = (value: number | undefined, unit = ''): string => (value === undefined ? 'n/a' : `${formatNumber(value)}${unit}`);
export const round1 = (value: number): number => Math.round(value * 10) / 10;
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
/** A markdown table; the first column left-aligned, the others right-aligned unless `align` says otherwise. */
export const table = (headers: string[], rows: Array<Array<string | number>>, align: string[] = headers.map((_, i) => (i === 0 ? ':--' : '--:'))): string =>
  [row(headers), row(align), ...rows.map(row)].join('\n');

/** What a section adds to the report: chart files, and what the results lack. */
export interface ReportSink {
  readonly files: Record<string, string>;
  readonly gaps: string[];
}
