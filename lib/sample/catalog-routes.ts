import * as fs from 'fs';
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ApiAuthorization } from '../api/api-authorization';
import type { ApiConsumer } from '../api/api-consumers';
import { RouteTable } from '../api/route-spec';

/** Where the sample's handlers live, whatever the working directory. */
export const CATALOG_HANDLERS_DIR = path.join(__dirname, '..', '..', 'lambda', 'catalog');

/** A sample handler's source: the TypeScript file in the repository, the compiled one in the package. */
function catalogHandler(name: string): string {
  const source = path.join(CATALOG_HANDLERS_DIR, `${name}.ts`);
  return fs.existsSync(source) ? source : path.join(CATALOG_HANDLERS_DIR, `${name}.js`);
}

/** Reads are public content; writes need IAM credentials. */
export const CATALOG_PUBLIC_READS = ApiAuthorization.publicAccess(
  'Catalog reads serve public product data, cached at the edge for every visitor',
);

/** Callers of the sample's writes sign with IAM (SigV4); reads say why they are public. */
export const CATALOG_AUTHORIZATION = ApiAuthorization.iam();

/**
 * The sample's API consumer: a partner that reads the catalog through `GET /partner/items`
 * with its API key (kept in Secrets Manager), at most 10 requests per second (burst 20) and
 * 10,000 a day.
 */
export const CATALOG_CONSUMERS: ApiConsumer[] = [
  { name: 'partner', throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 10_000, period: apigw.Period.DAY } },
];

/**
 * The data-cache keys a change to an item invalidates: the item's own key and the group of
 * every list page. lambda/catalog/cache-keys.ts holds the same scheme (test/env-contract.test.ts).
 */
export const CATALOG_DATA_PURGE = { keys: ['item:{id}'], groups: ['items'] };

/** Options of the sample catalog's route table. */
export interface CatalogRoutesOptions {
  /**
   * Cache item reads in the API Gateway stage cache too (billed per hour while on).
   * @default false
   */
  readonly gatewayCache?: boolean;
  /**
   * Add `GET /partner/items`, the metered partner feed that needs an API key of
   * `CATALOG_CONSUMERS` (pass them as the API's `consumers`).
   * @default false
   */
  readonly partnerFeed?: boolean;
  /**
   * Reserve concurrency per route (`function.reservedConcurrentExecutions`), as the strict
   * compliance profile asks: reads 20 each, writes 5 each, the partner feed 5, health 2. Each
   * route then has a ceiling (excess calls get 429 from API Gateway) and a floor no other
   * function of the account can take.
   * @default false
   */
  readonly reservedConcurrency?: boolean;
}

/** Reserved concurrency of each route when `reservedConcurrency` is on. */
export const CATALOG_RESERVED_CONCURRENCY: Readonly<Record<string, number>> = {
  'GET /items': 20,
  'GET /items/{id}': 20,
  'PUT /items/{id}': 5,
  'DELETE /items/{id}': 5,
  'GET /health': 2,
  'GET /partner/items': 5,
};

/**
 * The sample catalog's route table: the single source of truth for the stack and for the
 * local dev server.
 */
export function catalogRoutes(options: CatalogRoutesOptions = {}): RouteTable {
  const gateway = options.gatewayCache ? { ttl: Duration.seconds(30) } : undefined;
  const routes: RouteTable = {
    'GET /items': {
      entry: catalogHandler('list-items'),
      authorization: CATALOG_PUBLIC_READS,
      request: { queryStrings: { limit: false, cursor: false } },
      cache: {
        edge: { ttl: Duration.seconds(30), staleWhileRevalidate: Duration.seconds(30), staleIfError: Duration.minutes(5) },
        gateway,
        data: { ttl: Duration.seconds(60), negativeTtl: Duration.seconds(5) },
        key: { queryStrings: ['limit', 'cursor'] },
      },
    },
    'GET /items/{id}': {
      entry: catalogHandler('get-item'),
      authorization: CATALOG_PUBLIC_READS,
      cache: {
        edge: { ttl: Duration.seconds(60), staleWhileRevalidate: Duration.seconds(30), staleIfError: Duration.minutes(5) },
        gateway,
        data: { ttl: Duration.minutes(5), negativeTtl: Duration.seconds(10), staleIfError: Duration.minutes(10) },
      },
    },
    'PUT /items/{id}': {
      entry: catalogHandler('put-item'),
      request: { bodySchema: ITEM_BODY_SCHEMA, maxBodyBytes: 16_384 },
      // A cache client too, so the write invalidates what the reads cached.
      cache: { data: { ttl: Duration.minutes(5) } },
    },
    'DELETE /items/{id}': {
      entry: catalogHandler('delete-item'),
      cache: { data: { ttl: Duration.minutes(5) } },
    },
    'GET /health': {
      entry: catalogHandler('health'),
      authorization: ApiAuthorization.publicAccess('Health checks come from load balancers and uptime monitors without credentials'),
      function: { memorySize: 256 },
    },
    ...(options.partnerFeed ? partnerFeed() : {}),
  };
  if (!options.reservedConcurrency) return routes;
  return Object.fromEntries(
    Object.entries(routes).map(([key, route]) => [
      key,
      { ...route, function: { ...route.function, reservedConcurrentExecutions: CATALOG_RESERVED_CONCURRENCY[key] } },
    ]),
  );
}

/**
 * The partner feed: the same pages as `GET /items`, metered per partner by API key (throttle
 * and daily quota of its usage plan). Never edge-cached: CloudFront would answer without
 * checking the key.
 */
function partnerFeed(): RouteTable {
  return {
    'GET /partner/items': {
      entry: catalogHandler('list-items'),
      authorization: ApiAuthorization.publicAccess(
        'The partner feed serves the public catalog; the API key meters each partner (throttle, daily quota) and is not authentication',
      ),
      requireApiKey: true,
      request: { queryStrings: { limit: false, cursor: false } },
      cache: { data: { ttl: Duration.seconds(60), negativeTtl: Duration.seconds(5) } },
    },
  };
}

/** API Gateway's first check of a PUT body; the handler checks the same rules and names the field. */
export const ITEM_BODY_SCHEMA: apigw.JsonSchema = {
  schema: apigw.JsonSchemaVersion.DRAFT4,
  type: apigw.JsonSchemaType.OBJECT,
  required: ['name', 'price'],
  additionalProperties: false,
  properties: {
    name: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 200 },
    price: { type: apigw.JsonSchemaType.NUMBER, minimum: 0, maximum: 1_000_000_000 },
    description: { type: apigw.JsonSchemaType.STRING, maxLength: 2000 },
    tags: {
      type: apigw.JsonSchemaType.ARRAY,
      maxItems: 20,
      items: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 50 },
    },
  },
};
