import { esc, FONT, formatNumber, n, PALETTE } from './svg';

/** One series of a grouped bar chart: a value per group, and optionally the samples behind it. */
export interface BarSeries {
  readonly name: string;
  /** One value per group; undefined leaves the slot empty (and says "n/a"). */
  readonly values: ReadonlyArray<number | undefined>;
  /** Individual samples per group, drawn as dots over the bar (e.g. each run of a benchmark). */
  readonly samples?: ReadonlyArray<ReadonlyArray<number>>;
}

export interface BarChartSpec {
  readonly title: string;
  readonly subtitle?: string;
  /** Categories along the x axis. */
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  /** Label of the y axis (the unit). */
  readonly yLabel: string;
  /**
   * `log` for values spanning orders of magnitude (every tick a power of ten); `auto` picks log
   * when the largest value is over 20 times the smallest.
   * @default 'auto'
   */
  readonly scale?: 'linear' | 'log' | 'auto';
  /** Lines printed under the chart. */
  readonly notes?: readonly string[];
  readonly width?: number;
  readonly height?: number;
  readonly format?: (value: number) => string;
}

interface Scale {
  readonly y: (value: number) => number;
  readonly ticks: number[];
}

function niceStep(range: number, targetTicks: number): number {
  const raw = range / targetTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function makeScale(kind: 'linear' | 'log', values: number[], top: number, bottom: number): Scale {
  const max = Math.max(...values, kind === 'log' ? 1 : 0);
  if (kind === 'log') {
    const positive = values.filter((v) => v > 0);
    const min = Math.min(...positive, max);
    // A bar of the smallest value keeps a visible height: the axis starts a decade below it when needed.
    const lo = 10 ** (Math.floor(Math.log10(min)) - (Number.isInteger(Math.log10(min)) ? 1 : 0));
    const hi = 10 ** Math.ceil(Math.log10(max === lo ? max * 10 : max));
    const ticks: number[] = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
    const y = (v: number) => bottom - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (bottom - top);
    return { y, ticks };
  }
  const step = niceStep(max || 1, 5);
  const hi = Math.ceil((max || 1) / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= hi + step / 2; t += step) ticks.push(Math.round(t * 1e9) / 1e9);
  return { y: (v: number) => bottom - (v / hi) * (bottom - top), ticks };
}

/** A grouped bar chart as a standalone SVG document (no scripts, no external resources). */
export function barChart(spec: BarChartSpec): string {
  const width = spec.width ?? 760;
  const legendRows = Math.ceil(spec.series.length / 3);
  const notes = spec.notes ?? [];
  const format = spec.format ?? formatNumber;
  const margin = { left: 78, right: 24, top: spec.subtitle ? 64 : 46, bottom: 48 + legendRows * 18 + notes.length * 16 };
  const height = spec.height ?? margin.top + 240 + margin.bottom;
  const plot = { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom };
  const all = spec.series.flatMap((s) => [...s.values.filter((v): v is number => v !== undefined), ...(s.samples ?? []).flat()]);
  const positive = all.filter((v) => v > 0);
  const kind = spec.scale === 'log' || spec.scale === 'linear'
    ? spec.scale
    : positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 20 ? 'log' : 'linear';
  const scale = makeScale(kind, all.length > 0 ? all : [1], plot.top + 14, plot.bottom);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(spec.title)}">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${n(width / 2)}" y="24" text-anchor="middle" ${FONT} font-size="16" font-weight="bold" fill="#222">${esc(spec.title)}</text>`);
  if (spec.subtitle) out.push(`<text x="${n(width / 2)}" y="44" text-anchor="middle" ${FONT} font-size="12" fill="#555">${esc(spec.subtitle)}</text>`);

  // Grid and y axis.
  for (const tick of scale.ticks) {
    const y = scale.y(tick);
    out.push(`<line x1="${plot.left}" y1="${n(y)}" x2="${plot.right}" y2="${n(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${plot.left - 8}" y="${n(y + 4)}" text-anchor="end" ${FONT} font-size="11" fill="#555">${esc(format(tick))}</text>`);
  }
  out.push(`<line x1="${plot.left}" y1="${plot.top}" x2="${plot.left}" y2="${plot.bottom}" stroke="#999"/>`);
  out.push(`<line x1="${plot.left}" y1="${plot.bottom}" x2="${plot.right}" y2="${plot.bottom}" stroke="#999"/>`);
  const yMid = (plot.top + plot.bottom) / 2;
  out.push(`<text x="18" y="${n(yMid)}" text-anchor="middle" transform="rotate(-90 18 ${n(yMid)})" ${FONT} font-size="12" fill="#333">${esc(spec.yLabel + (kind === 'log' ? ' (log scale)' : ''))}</text>`);

  // Bars.
  const groupWidth = (plot.right - plot.left) / spec.groups.length;
  const inner = groupWidth * 0.78;
  const barWidth = inner / spec.series.length;
  spec.groups.forEach((group, g) => {
    const x0 = plot.left + g * groupWidth + (groupWidth - inner) / 2;
    spec.series.forEach((series, s) => {
      const x = x0 + s * barWidth;
      const value = series.values[g];
      const color = PALETTE[s % PALETTE.length];
      if (value === undefined) {
        out.push(`<text x="${n(x + barWidth / 2)}" y="${plot.bottom - 6}" text-anchor="middle" ${FONT} font-size="10" fill="#999">n/a</text>`);
        return;
      }
      const y = scale.y(value);
      out.push(`<rect x="${n(x + 1)}" y="${n(y)}" width="${n(Math.max(barWidth - 2, 1))}" height="${n(plot.bottom - y)}" fill="${color}"><title>${esc(`${series.name}, ${group}: ${format(value)}`)}</title></rect>`);
      // With sample dots over the bar, the value goes inside its top so the two do not collide.
      const inside = (series.samples?.[g]?.length ?? 0) > 0 && plot.bottom - y > 24;
      out.push(`<text x="${n(x + barWidth / 2)}" y="${n(inside ? y + 15 : y - 4)}" text-anchor="middle" ${FONT} font-size="${inside ? 12 : 10}" font-weight="${inside ? 'bold' : 'normal'}" fill="${inside ? '#ffffff' : '#222'}">${esc(format(value))}</text>`);
      for (const sample of series.samples?.[g] ?? []) {
        out.push(`<circle cx="${n(x + barWidth / 2)}" cy="${n(scale.y(sample))}" r="3" fill="#ffffff" stroke="#222" stroke-width="1"><title>${esc(format(sample))}</title></circle>`);
      }
    });
    out.push(`<text x="${n(plot.left + g * groupWidth + groupWidth / 2)}" y="${plot.bottom + 18}" text-anchor="middle" ${FONT} font-size="12" fill="#222">${esc(group)}</text>`);
  });

  // Legend and notes.
  const legendTop = plot.bottom + 38;
  const column = (plot.right - plot.left) / 3;
  spec.series.forEach((series, s) => {
    const x = plot.left + (s % 3) * column;
    const y = legendTop + Math.floor(s / 3) * 18;
    out.push(`<rect x="${n(x)}" y="${n(y - 10)}" width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"/>`);
    out.push(`<text x="${n(x + 18)}" y="${n(y)}" ${FONT} font-size="12" fill="#222">${esc(series.name)}</text>`);
  });
  notes.forEach((note, i) => {
    out.push(`<text x="${plot.left}" y="${n(legendTop + legendRows * 18 + 6 + i * 16)}" ${FONT} font-size="11" fill="#555">${esc(note)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
