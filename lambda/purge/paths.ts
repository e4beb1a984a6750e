import type { DynamoDBRecord } from 'aws-lambda';
import { fillTemplate, literalPrefix, Template } from './templates';

/** CloudFront's path limits (Developer Guide, "Invalidation paths"; quotas). */
export const CLOUDFRONT_PATH_LIMITS = {
  maxPathLength: 4000,
} as const;

/**
 * Characters RFC 1738 (section 2.2) calls unsafe, percent-encoded in invalidation paths besides
 * control characters, space and non-ASCII. CloudFront matches an invalidation path against the
 * request as the viewer sent it and asks for exactly these to be encoded: anything else encoded
 * (`:` as `%3A`) would name another object than the one a client requesting `/items/sku:42` got.
 */
const RFC1738_UNSAFE = new Set(['<', '>', '"', '#', '%', '{', '}', '|', '\\', '^', '~', '[', ']', '`']);

/**
 * One parameter value as a viewer's URL carries it: RFC 1738 unsafe characters, controls, space
 * and non-ASCII (as UTF-8 bytes) percent-encoded; `: @ + , ; = $ & * ! ' ( )` kept raw. `/` is
 * encoded unless the parameter is greedy (`{path+}` spans segments), and `?` always (it would
 * start a query string). A lone surrogate, which has no UTF-8 form, becomes U+FFFD as in a URL.
 */
export function encodeInvalidationPathValue(value: string, greedy = false): string {
  let out = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (code > 0x7e || code <= 0x20 || RFC1738_UNSAFE.has(char) || char === '?' || (char === '/' && !greedy)) {
      for (const byte of Buffer.from(char, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    } else {
      out += char;
    }
  }
  return out;
}

/**
 * A request path as the purge spells it: each segment decoded and re-encoded with
 * `encodeInvalidationPathValue`, so `/items/sku%3A42` and `/items/sku:42` compare equal. A
 * segment that is not valid percent-encoding is kept as sent.
 */
export function normaliseInvalidationPath(path: string): string {
  return path
    .split('/')
    .map((segment) => {
      try {
        return encodeInvalidationPathValue(decodeURIComponent(segment));
      } catch {
        return segment;
      }
    })
    .join('/');
}

/**
 * Whether a CloudFront invalidation path matches a request (path and query string as the viewer
 * sent them): a path ending in `*` matches every request starting with what precedes it, query
 * string included; any other path only that exact request (`/items` is not `/items?limit=2`:
 * the kit never relies on an exact path reaching query-string variants, it adds `/items?*`).
 */
export function invalidationPathMatches(invalidationPath: string, request: string): boolean {
  if (invalidationPath.endsWith('*')) return request.startsWith(invalidationPath.slice(0, -1));
  return request === invalidationPath;
}

/** Whether CloudFront counts the path against the wildcard quota. */
export function isWildcardPath(path: string): boolean {
  return path.endsWith('*');
}

/**
 * Viewer paths of one record: each template filled from the record's attributes, values encoded
 * with `encodeInvalidationPathValue`. A template whose parameter the record does not carry (or
 * whose filled path is longer than CloudFront accepts) purges everything under its literal
 * prefix instead (`/items/{id}` becomes `/items/*`): too much rather than a stale page.
 */
export function recordPaths(record: DynamoDBRecord, templates: readonly Template[]): string[] {
  const paths: string[] = [];
  for (const template of templates) {
    if (!template.hasParams) continue;
    const filled = fillTemplate(template, record, encodeInvalidationPathValue);
    if (filled === undefined || filled.some((p) => p.length > CLOUDFRONT_PATH_LIMITS.maxPathLength)) {
      paths.push(literalPrefix(template) + '*');
    } else {
      paths.push(...filled);
    }
  }
  return paths;
}

/**
 * The viewer paths a batch of records needs, deduplicated, in the order of the first record needing
 * each (templates without parameters are needed by the first record).
 */
export function batchPaths(records: readonly DynamoDBRecord[], templates: readonly Template[]): Map<string, number> {
  const firstNeed = new Map<string, number>();
  const need = (path: string, index: number) => {
    if (!firstNeed.has(path)) firstNeed.set(path, index);
  };
  if (records.length > 0) for (const t of templates) if (!t.hasParams) need(t.source, 0);
  records.forEach((record, index) => {
    for (const path of recordPaths(record, templates)) need(path, index);
  });
  return firstNeed;
}
