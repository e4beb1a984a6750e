/**
 * The scale tests' and `npm run bench:scale`'s route table: N routes as a larger API has them,
 * five item paths under each first path segment (`/area<k>/item<i>` and `/area<k>/item<i>/{id}`)
 * with GET, PUT and DELETE on the item and POST (with a body schema) on the collection; auth
 * cycles over public, IAM, Cognito and public-with-API-key per path; the GETs data-cached (their functions in the cache's VPC);
 * the GETs of the first public paths edge-cached too (CloudFront allows 25 behaviors).
 */
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization, CacheableApi, CacheableApiProps, DataCache, RouteOptions, RouteTable } from '../../lib';
import { CATALOG_HANDLERS_DIR } from '../../lib/sample';

/** What the table holds; every field has a default. */
export interface ScaleFixtureOptions {
  /** Number of routes (4 per item path). */
  readonly routes: number;
  /**
   * Most edge-cached GET routes.
   * @default 20
   */
  readonly edgeCached?: number;
  /**
   * Item paths under each first path segment.
   * @default 5 (20 routes per segment)
   */
  readonly pathsPerSegment?: number;
  /**
   * CacheableApi props merged over the fixture's (e.g. `routeStacks: 'never'`).
   * @default - none
   */
  readonly apiProps?: Partial<CacheableApiProps>;
  /**
   * Another table in the fixture's stack (e.g. `issueRouteTable(40)`).
   * @default - scaleRouteTable(options)
   */
  readonly table?: RouteTable;
}

const handler = (name: string) => path.join(CATALOG_HANDLERS_DIR, `${name}.ts`);
const PUBLIC = ApiAuthorization.publicAccess('Public catalog reads of the scale fixture');
const ITEM_SCHEMA: apigw.JsonSchema = { type: apigw.JsonSchemaType.OBJECT, required: ['name'], properties: { name: { type: apigw.JsonSchemaType.STRING } } };
type AuthKind = 'public' | 'iam' | 'cognito' | 'apiKey';
const AUTH_KINDS: AuthKind[] = ['public', 'iam', 'cognito', 'apiKey'];

/** The fixture's route table; `cognitoAuth` is the Cognito authorization the table's Cognito routes use. */
export function scaleRouteTable(options: ScaleFixtureOptions, cognitoAuth: ApiAuthorization): RouteTable {
  const perSegment = options.pathsPerSegment ?? 5;
  const edgeCached = options.edgeCached ?? 20;
  const table: Record<string, RouteOptions> = {};
  let edgeSoFar = 0;
  for (let i = 0; Object.keys(table).length < options.routes; i++) {
    const base = `/area${Math.floor(i / perSegment)}/item${i}`;
    const kind = AUTH_KINDS[i % AUTH_KINDS.length];
    const authorization = kind === 'iam' ? ApiAuthorization.iam() : kind === 'cognito' ? cognitoAuth : PUBLIC;
    const auth: Partial<RouteOptions> = { authorization, ...(kind === 'apiKey' ? { requireApiKey: true } : {}) };
    const data = { data: { ttl: Duration.minutes(5) } };
    const edge = kind === 'public' && edgeSoFar < edgeCached;
    if (edge) edgeSoFar++;
    const routes: Array<[string, RouteOptions]> = [
      [`GET ${base}/{id}`, { entry: handler('get-item'), ...auth, cache: { ...data, ...(edge ? { edge: { ttl: Duration.seconds(60) } } : {}) } }],
      [`PUT ${base}/{id}`, { entry: handler('put-item'), ...auth }],
      [`DELETE ${base}/{id}`, { entry: handler('delete-item'), ...auth }],
      [`POST ${base}`, { entry: handler('put-item'), ...auth, request: { bodySchema: ITEM_SCHEMA } }],
    ];
    for (const [key, route] of routes) if (Object.keys(table).length < options.routes) table[key] = route;
  }
  return table;
}

/**
 * The table of issue 16's first measurement: `GET /r<i>/{id}`, public, data-cached, the first 20
 * edge-cached (one first path segment per route).
 */
export function issueRouteTable(routes: number): RouteTable {
  const table: Record<string, RouteOptions> = {};
  for (let i = 0; i < routes; i++) {
    table[`GET /r${i}/{id}`] = {
      entry: handler('get-item'),
      authorization: PUBLIC,
      cache: { data: { ttl: Duration.minutes(5) }, ...(i < 20 ? { edge: { ttl: Duration.seconds(60) } } : {}) },
    };
  }
  return table;
}

/** A stack holding the fixture: VPC and data cache, a Cognito user pool, API consumers, the API. */
export function scaleStack(app: App, id: string, options: ScaleFixtureOptions): { stack: Stack; api: CacheableApi } {
  const stack = new Stack(app, id, { env: { region: 'eu-west-1' } });
  const dataCache = new DataCache(stack, 'DataCache');
  const pool = new cognito.UserPool(stack, 'Users', {
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { sms: false, otp: true },
    passwordPolicy: { minLength: 12, requireDigits: true, requireSymbols: true, requireUppercase: true, requireLowercase: true },
  });
  // The pool is a fixture of the scale table, not the construct measured.
  Validations.of(pool).acknowledge({ id: 'AwsSolutions-COG8', reason: 'Scale fixture user pool: no Cognito Plus plan needed' });
  const routes = options.table ?? scaleRouteTable(options, ApiAuthorization.cognito({ userPools: [pool] }));
  const keyed = Object.values(routes).some((r) => r.requireApiKey);
  const api = new CacheableApi(stack, 'Api', {
    authorization: ApiAuthorization.iam(),
    routes,
    dataCache,
    functionDefaults: { environment: { TABLE_NAME: 'memory' } },
    consumers: keyed ? [{ name: 'partner', throttle: { rateLimit: 10, burstLimit: 20 } }] : undefined,
    ...options.apiProps,
  });
  return { stack, api };
}
