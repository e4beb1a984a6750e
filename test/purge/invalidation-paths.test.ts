import fc from 'fast-check';
import { parseRouteTable } from '../../lib/api/route-table';
import { edgePurgePaths } from '../../lib/sync/cache-sync';
import {
  edgeInvalidationPaths,
  encodeInvalidationPathValue,
  invalidationPathMatches,
  invalidationPathsForWrite,
  normaliseInvalidationPath,
} from '../../lib/edge/invalidation-paths';
import * as fromEdgeCache from '../../lib/edge/edge-cache';
import { catalogRoutes } from '../../lib/sample/catalog-routes';

const routes = parseRouteTable(catalogRoutes());
const RAW = ': @ + , ; = $ & * ! \' ( ) - . _'.split(' ');
/** RFC 1738 section 2.2 unsafe characters, plus space. */
const UNSAFE = [' ', '<', '>', '"', '#', '%', '{', '}', '|', '\\', '^', '~', '[', ']', '`'];

describe('list paths that do not match item paths', () => {
  test('a write to one item invalidates that item, the list and its query-string variants, and no other item (before: /items* matched /items/other)', () => {
    const paths = invalidationPathsForWrite(routes, { id: 'lamp-1' });
    expect(paths).toEqual(['/items', '/items?*', '/items/lamp-1']);
    const hits = (request: string) => paths.some((p) => invalidationPathMatches(p, request));
    for (const request of ['/items', '/items?limit=2', '/items?cursor=abc&limit=5', '/items/lamp-1']) expect(hits(request)).toBe(true);
    for (const request of ['/items/lamp-2', '/items/lamp-10', '/items/other?x=1', '/items-archive']) expect(hits(request)).toBe(false);
  });

  test('the purge templates are the edge cache\'s, and the names stay exported from lib/edge/edge-cache', () => {
    expect(edgePurgePaths(routes)).toEqual(edgeInvalidationPaths(routes));
    expect(edgePurgePaths(routes, '/api')).toEqual(['/api/items', '/api/items?*', '/api/items/{id}']);
    expect(fromEdgeCache.edgeInvalidationPaths).toBe(edgeInvalidationPaths);
    expect(typeof fromEdgeCache.edgePathPattern).toBe('function');
  });

  test('a write without the parameter purges from the literal prefix', () => {
    expect(invalidationPathsForWrite(routes, {})).toEqual(['/items', '/items?*', '/items/*']);
  });
});

describe('encoding as CloudFront matches requests', () => {
  test('`: @ + , ; = $ & *` stay raw: /items/sku:42 (before: /items/sku%3A42)', () => {
    expect(invalidationPathsForWrite(routes, { id: 'sku:42' })).toContain('/items/sku:42');
    for (const c of RAW) expect(encodeInvalidationPathValue(`a${c}b`)).toBe(`a${c}b`);
  });

  test('RFC 1738 unsafe characters, controls, non-ASCII, / and ? are percent-encoded', () => {
    for (const c of UNSAFE) expect(encodeInvalidationPathValue(c)).toBe(`%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
    expect(encodeInvalidationPathValue('é/?\n')).toBe('%C3%A9%2F%3F%0A');
    expect(encodeInvalidationPathValue('docs/a b', true)).toBe('docs/a%20b');
  });

  test('property: the encoded value decodes back, is ASCII without unsafe characters, and changes nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (value) => {
        const encoded = encodeInvalidationPathValue(value);
        expect(decodeURIComponent(encoded)).toBe(value);
        expect(encoded).toMatch(/^[\x21-\x7e]*$/);
        for (const c of encoded.replace(/%[0-9A-F]{2}/g, '')) {
          expect(UNSAFE.includes(c) || c === '/' || c === '?').toBe(false);
        }
        // What a browser or curl leaves raw in a path segment stays raw.
        const raw = [...value].filter((c) => /^[A-Za-z0-9:@+,;=$&*!'()._-]$/.test(c)).join('');
        expect(encodeInvalidationPathValue(raw)).toBe(raw);
        // Any spelling of the same path normalises to what the purge sends.
        expect(normaliseInvalidationPath(`/items/${encodeURIComponent(value)}`)).toBe(`/items/${encoded}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: an item write\'s paths match that item\'s request and never another item\'s', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), (id, other) => {
        fc.pre(id !== other);
        const paths = invalidationPathsForWrite(routes, { id });
        const request = (v: string) => `/items/${encodeInvalidationPathValue(v)}`;
        expect(paths.some((p) => invalidationPathMatches(p, request(id)))).toBe(true);
        // An id ending in * is a wildcard path: it may cover ids it prefixes (more purged, never less).
        if (!id.endsWith('*')) expect(paths.some((p) => invalidationPathMatches(p, request(other)))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});
