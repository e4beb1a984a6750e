/**
 * Encoding of a cached entry. The metadata travels with the value, so freshness and the stale
 * windows work the same on every engine (memcached TTLs are whole seconds; the store's own
 * expiry only has to outlive the last stale window):
 *
 *   1|<written-at ms>|<fresh-until ms>|<group generation>|<JSON value, empty for "not found">
 *
 * A plain header in front of the JSON (not a JSON wrapper) keeps the hit path to one
 * JSON.parse of the value itself.
 */

const FORMAT = '1|';

export interface Entry {
  readonly writtenAt: number;
  /** Epoch ms after which the entry is stale. */
  readonly freshUntil: number;
  /** Group generation the entry was loaded under; empty when not grouped. */
  readonly generation: string;
  /** The value's JSON; undefined for a cached "not found". */
  readonly json: string | undefined;
}

export function encodeEntry(writtenAt: number, freshUntil: number, generation: string, json: string | undefined): string {
  return `${FORMAT}${writtenAt}|${freshUntil}|${generation}|${json ?? ''}`;
}

/** Undefined for anything that is not an entry of this format (foreign or corrupt data is a miss). */
export function decodeEntry(text: string): Entry | undefined {
  if (!text.startsWith(FORMAT)) return undefined;
  const a = text.indexOf('|', 2);
  const b = a < 0 ? -1 : text.indexOf('|', a + 1);
  const c = b < 0 ? -1 : text.indexOf('|', b + 1);
  if (c < 0) return undefined;
  const writtenAt = Number(text.slice(2, a));
  const freshUntil = Number(text.slice(a + 1, b));
  if (!Number.isFinite(writtenAt) || !Number.isFinite(freshUntil)) return undefined;
  return {
    writtenAt,
    freshUntil,
    generation: text.slice(b + 1, c),
    json: c + 1 === text.length ? undefined : text.slice(c + 1),
  };
}
