/** Small helpers for hand-written SVG: escaping, numbers that diff cleanly, a colour palette. */

/** Escapes text for SVG/XML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A coordinate with at most one decimal, so regenerated files only change when data does. */
export function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

export const FONT = 'font-family="Helvetica, Arial, sans-serif"';

/** Readable number: 3 significant digits, thousands grouped. */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}
