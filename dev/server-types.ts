// The dev server's options and the shapes it hands back (dev/server.ts builds them).
import type { CorsOptions } from 'aws-cdk-lib/aws-apigateway';
import type { ApiAuthorization } from '../lib/api/api-authorization';
import type { RouteTable } from '../lib/api/route-spec';
import type { ParsedRoute } from '../lib/api/route-table';
import type { DevConsumer } from './api-keys';
import type { DevEdgeCache } from './edge-cache';
import type { RequireModule } from './handler-loader';
import type { HttpHardeningOptions } from './http-hardening';
import type { DevOriginVerification } from './origin-verification';
import type { DevStageCache } from './stage-cache';

/** Data-cache keys and groups a write invalidates, as CacheSync's data purge does (`{param}` from the write's path). */
export interface DevDataPurge {
  readonly keys: readonly string[];
  readonly groups: readonly string[];
}

export interface DevServerOptions extends HttpHardeningOptions {
  /** The route table, as given to CacheableApi. */
  readonly routes: RouteTable;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** 0 picks a free port. @default 3000 */
  readonly port?: number;
  /** Stage name in the events' request context. @default 'v1' */
  readonly stage?: string;
  /** Data-cache key prefix of every route (the stack name in a stack). @default 'dev' */
  readonly keyPrefix?: string;
  /**
   * Variables every route's function gets, like CacheableApi's `functionDefaults.environment`
   * (a route's own `function.environment` replaces them, as in the stack). They are also set in
   * `process.env`, where code that is the same for every route reads them.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** Emulate the CloudFront cache of edge-cached routes. @default true */
  readonly edgeCache?: boolean;
  /** What a write purges from the data cache. @default - nothing */
  readonly dataPurge?: DevDataPurge;
  /**
   * Reload handlers when their sources change: `true` watches each route's entry directory and
   * the kit's `lambda/` directory; a list names the directories. Only modules under them are
   * ever reloaded (by `reload()` too).
   * @default false
   */
  readonly watch?: boolean | readonly string[];
  /** One line per request and per reload. @default console.log */
  readonly log?: (line: string) => void;
  /** Loads handler modules. @default require (tsx must be registered for `.ts` entries) */
  readonly requireModule?: RequireModule;
  /** Clock of the edge cache, the stage cache and the API-key throttles (tests). @default Date.now */
  readonly now?: () => number;
  /**
   * The API's default authorization (CacheableApi's `authorization`): the dev server does not
   * authenticate, but refuses the stage-cache settings the stack refuses and keys `perCaller`
   * entries on the same identity source.
   * @default - only needed when a route with `cache.gateway` has no `authorization` of its own
   */
  readonly authorization?: ApiAuthorization;
  /** CORS as CacheableApi's `cors`: pre-flight, handler and gateway-error headers, Origin in cache keys. @default - no CORS */
  readonly cors?: CorsOptions;
  /** API keys accepted on routes with `requireApiKey`, with their throttles and quotas. @default - none */
  readonly consumers?: readonly DevConsumer[];
  /** Emulate API Gateway's stage cache of routes with `cache.gateway`. @default true */
  readonly stageCache?: boolean;
  /**
   * The regional web ACL's origin check (dev/origin-verification.ts): requests without an
   * accepted header value get its 403. The dev server plays the origin, so clients send the
   * header as CloudFront would. @default - no check
   */
  readonly originVerification?: DevOriginVerification;
}

/** A route as the dev server serves it. */
export interface DevRoute {
  readonly route: ParsedRoute;
  /** Resolved handler file. */
  readonly entry: string;
  readonly exportName: string;
  readonly functionName: string;
  readonly memorySize: number;
  readonly timeoutMs: number;
  /** The environment the handler sees (through the invocation env). */
  readonly env: NodeJS.ProcessEnv;
}

export interface DevServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly routes: readonly DevRoute[];
  readonly edgeCache: DevEdgeCache;
  readonly stageCache: DevStageCache;
  /** The directories watched for changes (empty without `watch`). */
  readonly watching: readonly string[];
  /** Forgets the given changed files and what imports them (what a watch event does). */
  reload(changedFiles: readonly string[]): Promise<void>;
  /** Stops listening, closes open connections, watchers and the data cache's connections. */
  close(): Promise<void>;
}
