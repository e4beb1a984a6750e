import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { ApiAuthorization } from './api-authorization';
import { StatelessFunctionOptions } from '../functions/stateless-function';

/**
 * The parts of a request that select a distinct cached response, at every cache layer
 * (CloudFront cache policy, API Gateway cache key parameters, data-cache key).
 */
export interface CacheKeySpec {
  /**
   * Query-string parameters that change the response. Each must also be declared in the
   * route's `request.queryStrings`, and every declared query string must be here, so a
   * cached route can never serve `/items?page=2` for `/items?page=3`.
   * @default - no query strings
   */
  readonly queryStrings?: string[];
  /**
   * Request headers that change the response; sent back in `Vary`.
   * @default - no headers
   */
  readonly headers?: string[];
  /**
   * Cookies that change the response (edge layer only).
   * @default - no cookies
   */
  readonly cookies?: string[];
}

/** How CloudFront and browsers cache a route's responses. */
export interface EdgeCacheSpec {
  /**
   * Shared-cache lifetime: the CloudFront default TTL and the `s-maxage` the handler sends.
   * Between 0 seconds and 365 days.
   */
  readonly ttl: Duration;
  /**
   * Longest time CloudFront may keep a response whatever the origin says.
   * @default - same as `ttl`
   */
  readonly maxTtl?: Duration;
  /**
   * Shortest time CloudFront keeps a response.
   * @default Duration.seconds(0)
   */
  readonly minTtl?: Duration;
  /**
   * Browser cache lifetime (`max-age`). Kept short because browsers cannot be purged.
   * @default Duration.seconds(0)
   */
  readonly browserTtl?: Duration;
  /**
   * `stale-while-revalidate` window sent to shared caches.
   * @default - none
   */
  readonly staleWhileRevalidate?: Duration;
  /**
   * `stale-if-error` window sent to shared caches.
   * @default - none
   */
  readonly staleIfError?: Duration;
}

/** API Gateway stage cache for a route (GET only). */
export interface GatewayCacheSpec {
  /** Time to live of the stage cache entry, 0 to 3600 seconds (API Gateway's limit). */
  readonly ttl: Duration;
  /**
   * Key the stage cache on the caller's identity source too (the `Authorization` header of a
   * Cognito or Lambda token authorizer, the identity sources of a request authorizer), so each
   * caller has entries of their own. Required on an authenticated route: API Gateway checks
   * each caller and then answers from the cache, so without it every caller would get the
   * first caller's response. Not possible with IAM, whose signature changes on every request.
   * @default false - only public routes may use the stage cache
   */
  readonly perCaller?: boolean;
}

/** How the route's handler caches origin reads in the data cache (ElastiCache). */
export interface DataCacheSpec {
  /** Lifetime of a cached value, 1 second to 7 days. */
  readonly ttl: Duration;
  /**
   * Lifetime of a cached "not found", 1 second up to `ttl`.
   * @default Duration.seconds(5)
   */
  readonly negativeTtl?: Duration;
  /**
   * Window after `ttl` in which a stale value is served while one caller refreshes it.
   * @default - none
   */
  readonly staleWhileRevalidate?: Duration;
  /**
   * Window after `ttl` in which a stale value is served when the origin fails.
   * @default - none
   */
  readonly staleIfError?: Duration;
  /**
   * Random fraction of `ttl` taken off each entry's lifetime so that entries written
   * together do not expire together (0 to 0.5).
   * @default 0.1
   */
  readonly jitter?: number;
}

/** Cache settings of one route, per layer. A layer left out does not cache the route. */
export interface RouteCacheSpec {
  /**
   * CloudFront edge cache.
   * @default - not cached at the edge
   */
  readonly edge?: EdgeCacheSpec;
  /**
   * API Gateway stage cache.
   * @default - not cached by API Gateway
   */
  readonly gateway?: GatewayCacheSpec;
  /**
   * Data cache (ElastiCache) in front of the primary store.
   * @default - the handler does not use the data cache
   */
  readonly data?: DataCacheSpec;
  /**
   * The request parts that key the cached responses, shared by every layer.
   * @default - the path alone
   */
  readonly key?: CacheKeySpec;
}

/** What API Gateway checks before a request reaches the route's handler. */
export interface RouteRequestSpec {
  /**
   * Query-string parameters the handler reads; `true` marks a required one.
   * @default - none
   */
  readonly queryStrings?: Record<string, boolean>;
  /**
   * Request headers the handler reads; `true` marks a required one.
   * @default - none
   */
  readonly headers?: Record<string, boolean>;
  /**
   * JSON schema of the request body, checked by API Gateway (methods with a body only).
   * @default - the body is not checked by API Gateway
   */
  readonly bodySchema?: apigw.JsonSchema;
  /**
   * Largest request body the handler accepts, in bytes (1 to 6 MiB, Lambda's payload limit);
   * larger bodies get a 413.
   * @default 16384
   */
  readonly maxBodyBytes?: number;
}

/** One entry of a route table: the handler that serves it and how it is checked and cached. */
export interface RouteOptions {
  /** Path of the handler's source file (TypeScript or JavaScript), relative to the working directory. */
  readonly entry: string;
  /**
   * Name of the exported handler function.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Overrides of the route function's settings.
   * @default - the API's `functionDefaults`
   */
  readonly function?: StatelessFunctionOptions;
  /**
   * Request validation.
   * @default - path parameters are required; nothing else is checked
   */
  readonly request?: RouteRequestSpec;
  /**
   * Cache settings per layer.
   * @default - not cached anywhere
   */
  readonly cache?: RouteCacheSpec;
  /**
   * Authorization of this route.
   * @default - the API's `authorization`
   */
  readonly authorization?: ApiAuthorization;
  /**
   * Callers must send an API key of one of the API's `consumers` in `x-api-key`; API Gateway
   * answers 403 without a valid one and 429 over the consumer's throttle or quota. A key
   * identifies a consumer for metering, it does not authenticate: combine it with
   * `authorization` for anything private. Not allowed with `cache.edge` (CloudFront would
   * answer from its cache without checking the key).
   * @default false
   */
  readonly requireApiKey?: boolean;
  /**
   * `STREAM` sends the handler's output to the caller as it is written (Lambda response
   * streaming through InvokeWithResponseStream); the handler must be a streaming handler
   * (`awslambda.streamifyResponse`). Used by the model routes for Server-Sent Events.
   * @default apigw.ResponseTransferMode.BUFFERED
   */
  readonly responseTransferMode?: apigw.ResponseTransferMode;
  /**
   * Alarms of this route's own (ApiMonitoring): Lambda errors and throttles of its function and,
   * on a data-cached read, its hit ratio. Without them the route's function is watched by the
   * API-level alarms that sum errors and throttles over up to 10 functions.
   * @default - the monitoring's `routeAlarms` (false)
   */
  readonly alarms?: boolean;
}

/** A route table: `'<METHOD> /path/{param}'` to the route's options. */
export type RouteTable = Record<string, RouteOptions>;
