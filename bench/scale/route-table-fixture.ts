/**
 * A large route table as a new user writes one, for the scale measurements of issue 16 (resources
 * per route, template size, synth time) and the scale tests: N routes over `/r<i>/{id}`, public,
 * data-cached, the first `edgeCached` cached at CloudFront too, monitoring on by default.
 * `methods` spreads several methods over each path (the first one a GET) for mixed tables.
 * Generic on purpose: benchmarks and tests build their tables from it instead of restating one.
 */
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { ApiAuthorization, CacheableApi, CacheableApiProps, DataCache, RouteOptions, RouteTable } from '../../lib';
import { CATALOG_HANDLERS_DIR } from '../../lib/sample';

/** What the table holds; every field has the default the measurement used. */
export interface RouteTableFixtureOptions {
  /** Number of routes. */
  readonly routes: number;
  /**
   * How many of the first GET routes are edge-cached (CloudFront allows 25 behaviors).
   * @default 20
   */
  readonly edgeCached?: number;
  /**
   * Methods per path, in order; route i is `methods[i % methods.length] /r<floor(i / methods.length)>/{id}`.
   * @default ['GET']
   */
  readonly methods?: ReadonlyArray<'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
  /**
   * Data-cache every route (writes carry the settings to invalidate).
   * @default true
   */
  readonly dataCached?: boolean;
  /**
   * Edge TTL of the edge-cached routes; pass a function to give routes different settings.
   * @default 60 seconds for every edge-cached route
   */
  readonly edgeTtl?: (index: number) => Duration;
  /**
   * Extra options per route, merged over the generated ones (e.g. an authorization kind); `scope`
   * holds the stack and data cache when the table is built by `routeTableStack`.
   * @default - none
   */
  readonly routeOptions?: (index: number, key: string, scope?: FixtureScope) => Partial<RouteOptions>;
  /**
   * CacheableApi props merged over the fixture's (e.g. `monitoring: false`).
   * @default - none
   */
  readonly apiProps?: Partial<CacheableApiProps>;
}

/** What a route's options may build on: the fixture's stack and data cache. */
export interface FixtureScope {
  readonly stack: Stack;
  readonly dataCache: DataCache;
}

const GET_ITEM = path.join(CATALOG_HANDLERS_DIR, 'get-item.ts');
const PUT_ITEM = path.join(CATALOG_HANDLERS_DIR, 'put-item.ts');

/** The route table of the fixture. */
export function fixtureRouteTable(options: RouteTableFixtureOptions, scope?: FixtureScope): RouteTable {
  const methods = options.methods ?? ['GET'];
  const edgeCached = options.edgeCached ?? 20;
  const dataCached = options.dataCached ?? true;
  const table: Record<string, RouteOptions> = {};
  let edgeSoFar = 0;
  for (let i = 0; i < options.routes; i++) {
    const method = methods[i % methods.length];
    const key = `${method} /r${Math.floor(i / methods.length)}/{id}`;
    const isGet = method === 'GET';
    const edge = isGet && edgeSoFar < edgeCached;
    if (edge) edgeSoFar++;
    const base: RouteOptions = {
      entry: isGet ? GET_ITEM : PUT_ITEM,
      cache: {
        ...(dataCached ? { data: { ttl: Duration.minutes(5) } } : {}),
        ...(edge ? { edge: { ttl: options.edgeTtl?.(i) ?? Duration.seconds(60) } } : {}),
      },
    };
    table[key] = { ...base, ...options.routeOptions?.(i, key, scope) };
  }
  return table;
}

/** A stack holding a DataCache and a CacheableApi over the fixture's table. */
export function routeTableStack(app: App, id: string, options: RouteTableFixtureOptions): { stack: Stack; api: CacheableApi; dataCache: DataCache } {
  const stack = new Stack(app, id, { env: { region: 'eu-west-1' } });
  const dataCache = new DataCache(stack, 'DataCache');
  const api = new CacheableApi(stack, 'Api', {
    apiName: id.toLowerCase(),
    authorization: ApiAuthorization.publicAccess('Scale fixture: a public catalog read by anyone'),
    routes: fixtureRouteTable(options, { stack, dataCache }),
    dataCache,
    edge: { forwardAuthorizationToWrites: true },
    functionDefaults: { environment: { TABLE_NAME: 'memory' } },
    ...options.apiProps,
  });
  return { stack, api, dataCache };
}
