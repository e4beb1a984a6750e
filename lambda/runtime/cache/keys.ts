import { createHash } from 'node:crypto';

/**
 * Key layout. Every key carries a Redis hash tag (`{...}`) so that a value, its lease and its
 * group counter hash to one slot (multi-key scripts work on cluster-mode and serverless caches),
 * and stays under memcached's 250-byte limit:
 *
 *   value          <prefix>:{k:<key>}
 *   grouped value  <prefix>:{g:<group>}:<key>
 *   group counter  <prefix>:{g:<group>}#g
 *   lease          <value key>#l
 *
 * User parts are kept readable when short and made of safe characters; otherwise they are
 * replaced by `#` + a SHA-256. `{`, `}`, `#` and whitespace are never in a readable part, so no
 * two distinct inputs give the same key.
 *
 * The hash is of the UTF-8 bytes for well-formed strings. UTF-8 cannot represent a lone
 * surrogate (Node encodes each as U+FFFD, so `a\uD800`, `a\uDC00` and `a\uFFFD` would share a
 * key): an ill-formed string is hashed over its UTF-16 code units instead, and marked `#~`
 * (`~` is not a base64url character) so it can never meet the hash of a well-formed one.
 */

/** Longest user part kept readable: 32 (prefix) + 6 + 100 + 1 + 100 + 2 stays under 250 bytes. */
const MAX_READABLE_PART = 100;
const READABLE = /^[A-Za-z0-9_\-.:/=?&,+@!$*()~%;]*$/;
const PREFIX = /^[A-Za-z0-9_.-]{1,32}$/;
const LEASE_SUFFIX = '#l';
const GENERATION_SUFFIX = '#g';

/** memcached's key limit, in bytes. */
export const MAX_KEY_BYTES = 250;

export function assertKeyPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new Error(`Data cache key prefix must be 1-32 letters, digits or "._-", got "${prefix}"`);
  }
  return prefix;
}

/** A user key or group name as it appears inside a store key. */
export function encodeKeyPart(part: string): string {
  if (part.length > 0 && part.length <= MAX_READABLE_PART && READABLE.test(part)) return part;
  // String.prototype.isWellFormed: Node 20+ (the kit's minimum).
  if (!(part as unknown as { isWellFormed(): boolean }).isWellFormed()) return '#~' + createHash('sha256').update(Buffer.from(part, 'utf16le')).digest('base64url');
  return '#' + createHash('sha256').update(part).digest('base64url');
}


export interface EntryKeys {
  readonly key: string;
  /** Counter whose value tags every entry of the group; absent for ungrouped keys. */
  readonly generationKey?: string;
}

export function entryKeys(prefix: string, key: string, group?: string): EntryKeys {
  if (group === undefined) return { key: `${prefix}:{k:${encodeKeyPart(key)}}` };
  const groupTag = `${prefix}:{g:${encodeKeyPart(group)}}`;
  return { key: `${groupTag}:${encodeKeyPart(key)}`, generationKey: groupTag + GENERATION_SUFFIX };
}

export function groupGenerationKey(prefix: string, group: string): string {
  return `${prefix}:{g:${encodeKeyPart(group)}}${GENERATION_SUFFIX}`;
}

export function leaseKey(key: string): string {
  return key + LEASE_SUFFIX;
}

/** The hash tag of a key (what Redis Cluster hashes); memcached uses it to pick a server. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}
