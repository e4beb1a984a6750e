import { App, Duration, Stack } from 'aws-cdk-lib';
import { dataCacheKeyPrefix, parseRouteTable, RouteTable } from '../lib';

const entry = 'lambda/catalog/health.ts';

describe('parseRouteTable', () => {
  test('parses keys, path parameters, ids and resolved cache settings', () => {
    const [list, get] = parseRouteTable({
      'get /items/': {
        entry,
        request: { queryStrings: { page: false } },
        cache: { edge: { ttl: Duration.minutes(1) }, data: { ttl: Duration.minutes(5) }, key: { queryStrings: ['page'] } },
      },
      'GET /items/{id}': { entry, cache: { gateway: { ttl: Duration.seconds(30) } } },
    });
    expect(list).toMatchObject({ key: 'GET /items', method: 'GET', path: '/items', id: 'GetItems', pathParameters: [] });
    expect(list.cache.edge).toEqual({ ttl: 60, maxTtl: 60, minTtl: 0, browserTtl: 0, staleWhileRevalidate: undefined, staleIfError: undefined });
    expect(list.cache.data).toEqual({ ttl: 300, negativeTtl: 5, staleWhileRevalidate: 0, staleIfError: 0, jitter: 0.1 });
    expect(get).toMatchObject({ id: 'GetItemsById', pathParameters: ['id'], cache: { gateway: { ttl: 30 } } });
  });

  const invalid: Array<[string, RouteTable, RegExp]> = [
    ['empty table', {}, /routes must declare at least one route/],
    ['bad route string', { 'GETITEMS': { entry } }, /routes\['GETITEMS'\]: route key must be "<METHOD> \/<path>"/],
    ['unknown method', { 'FETCH /items': { entry } }, /method "FETCH" is not allowed; use one of GET, POST, PUT, PATCH, DELETE/],
    ['bad path segment', { 'GET /items/a b': { entry } }, /path segment|route key must be/],
    ['segment with illegal characters', { 'GET /items/$x': { entry } }, /path segment "\$x" is invalid/],
    ['greedy parameter not last', { 'GET /{path+}/x': { entry } }, /greedy parameter "\{path\+\}" must be the last path segment/],
    ['missing entry', { 'GET /items': {} as never }, /routes\['GET \/items'\]\.entry is required/],
    ['duplicate route', { 'GET /items/{id}': { entry }, 'get /items/{itemId}': { entry } }, /^routes\['get \/items\/\{itemId\}'\] duplicates routes\['GET \/items\/\{id\}'\]: API Gateway sees both as GET \/items\/\{\} \(path-parameter names do not tell routes apart\)$/],
    ['trailing-slash duplicate', { 'GET /items': { entry }, 'GET /items/': { entry } }, /^routes\['GET \/items\/'\] duplicates routes\['GET \/items'\]: both are GET \/items \(method case, spacing and a trailing slash do not tell routes apart\)$/],
    ['unknown route option', { 'GET /a': { entry, cahce: {} } as never }, /^routes\['GET \/a'\]: unknown option "cahce"; known options: entry, handler, function, request, cache, authorization, requireApiKey, responseTransferMode, alarms$/],
    ['unknown cache option', { 'GET /a': { entry, cache: { edge: { ttl: Duration.seconds(5), staleWhileRevalidation: Duration.seconds(5) } } } as never }, /^routes\['GET \/a'\]\.cache\.edge: unknown option "staleWhileRevalidation"; known options: ttl, maxTtl, minTtl, browserTtl, staleWhileRevalidate, staleIfError$/],
    ['unknown data-cache option', { 'GET /a': { entry, cache: { data: { ttl: Duration.seconds(5), negativeTTL: Duration.seconds(1) } } } as never }, /cache\.data: unknown option "negativeTTL"/],
    ['unknown cache-key option', { 'GET /a': { entry, cache: { key: { query: ['a'] } } } as never }, /cache\.key: unknown option "query"/],
    ['unknown request option', { 'GET /a': { entry, request: { maxBody: 10 } } as never }, /routes\['GET \/a'\]\.request: unknown option "maxBody"; known options: queryStrings, headers, bodySchema, maxBodyBytes$/],
    ['unknown function option', { 'GET /a': { entry, function: { memory: 1024 } } as never }, /routes\['GET \/a'\]\.function: unknown option "memory"; known options: runtime, architecture, memorySize/],
    ['sibling parameters with different names', { 'GET /items/{id}': { entry }, 'PUT /items/{itemId}': { entry } }, /uses \{itemId\} where "GET \/items\/\{id\}" uses \{id\}/],
    ['gateway TTL above 3600', { 'GET /a': { entry, cache: { gateway: { ttl: Duration.hours(2) } } } }, /routes\['GET \/a'\]\.cache\.gateway\.ttl must be an integer between 0 and 3600 seconds, got 7200/],
    ['edge TTL above a year', { 'GET /a': { entry, cache: { edge: { ttl: Duration.days(400) } } } }, /cache\.edge\.ttl must be an integer between 0 and 31536000 seconds/],
    ['edge maxTtl below ttl', { 'GET /a': { entry, cache: { edge: { ttl: Duration.minutes(5), maxTtl: Duration.minutes(1) } } } }, /cache\.edge\.maxTtl must be an integer between 300 and 31536000 seconds, got 60/],
    ['data TTL of zero', { 'GET /a': { entry, cache: { data: { ttl: Duration.seconds(0) } } } }, /cache\.data\.ttl must be an integer between 1 and 604800 seconds, got 0/],
    ['negative TTL above ttl', { 'GET /a': { entry, cache: { data: { ttl: Duration.seconds(10), negativeTtl: Duration.seconds(20) } } } }, /cache\.data\.negativeTtl must be an integer between 1 and 10 seconds, got 20/],
    ['fractional seconds', { 'GET /a': { entry, cache: { data: { ttl: Duration.millis(1500) } } } }, /cache\.data\.ttl must be a whole number of seconds, got 1\.5/],
    ['jitter above 0.5', { 'GET /a': { entry, cache: { data: { ttl: Duration.seconds(10), jitter: 0.9 } } } }, /cache\.data\.jitter must be between 0 and 0\.5/],
    ['edge cache on a write', { 'PUT /a': { entry, cache: { edge: { ttl: Duration.seconds(10) } } } }, /edge and gateway caching apply to GET routes only, not PUT/],
    ['undeclared query string in key', { 'GET /a': { entry, cache: { edge: { ttl: Duration.seconds(10) }, key: { queryStrings: ['page'] } } } }, /key\.queryStrings: page not declared in request\.queryStrings/],
    ['declared query string missing from key', { 'GET /a': { entry, request: { queryStrings: { page: false } }, cache: { edge: { ttl: Duration.seconds(10) } } } }, /must include every query string in request\.queryStrings of a cached route; missing: page/],
    ['Host in the cache key', { 'GET /a': { entry, cache: { key: { headers: ['Host'] } } } }, /"Host" cannot key a cache/],
    ['more than 10 key headers', { 'GET /a': { entry, cache: { key: { headers: Array.from({ length: 11 }, (_, i) => `x-h${i}`) } } } }, /key\.headers allows at most 10 names, got 11/],
    ['invalid query-string name', { 'GET /a': { entry, request: { queryStrings: { 'a b': false } } } }, /request\.queryStrings: "a b" is not a valid name/],
    ['body schema on GET', { 'GET /a': { entry, request: { bodySchema: {} } } }, /GET requests carry no body/],
    ['body limit above 6 MiB', { 'PUT /a': { entry, request: { maxBodyBytes: 7_000_000 } } }, /request\.maxBodyBytes must be an integer between 1 and 6291456 bytes, got 7000000/],
  ];
  test.each(invalid)('rejects %s with a message naming the prop', (_name, routes, message) => {
    expect(() => parseRouteTable(routes)).toThrow(message);
  });
});

describe('dataCacheKeyPrefix', () => {
  const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,32}$/; // what lambda/runtime/cache/keys.ts accepts

  test('is the stack name when it fits the runtime, else a shortened name with a hash', () => {
    const app = new App();
    expect(dataCacheKeyPrefix(new Stack(app, 'CatalogStack'))).toBe('CatalogStack');
    const long = dataCacheKeyPrefix(new Stack(app, 'AVeryLongStackNameForTheCatalogOfProducts-prod-eu-west-1'));
    const other = dataCacheKeyPrefix(new Stack(app, 'AVeryLongStackNameForTheCatalogOfProducts-prod-eu-west-2'));
    expect(long).toMatch(KEY_PREFIX);
    expect(other).toMatch(KEY_PREFIX);
    expect(long).not.toBe(other);
  });
});

describe('gateway cache per caller', () => {
  test('perCaller is off unless set, and resolved with the TTL', () => {
    const [shared, perCaller] = parseRouteTable({
      'GET /a': { entry, cache: { gateway: { ttl: Duration.seconds(30) } } },
      'GET /b': { entry, cache: { gateway: { ttl: Duration.seconds(30), perCaller: true } } },
    });
    expect(shared.cache.gateway).toEqual({ ttl: 30, perCaller: false });
    expect(perCaller.cache.gateway).toEqual({ ttl: 30, perCaller: true });
  });
});
