import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { checkConsumers } from '../lib/api/api-consumers';
import { checkCors, corsEnvironment, withCorsCacheKey } from '../lib/api/cors';
import { routeEnvironment } from '../lib/api/route-environment';
import { checkGatewayCache, gatewayCacheKeyParameters } from '../lib/api/stage-cache';
import { parseRouteTable } from '../lib/api/route-table';
import { INVOCATION_ENV } from '../lambda/runtime/invocation-env';
import { toProxyEvent } from './apigw-event';
import {
  DevEdgeCache,
  EdgeResponse,
  edgeTtlSeconds,
  ifNoneMatchHits,
  isEdgeCached,
  planEdgeRequest,
  purgePathsForWrite,
  X_CACHE,
} from './edge-cache';
import { HandlerLoader, SourceWatch, watchSources } from './handler-loader';
import { createLambdaContext } from './lambda-context';
import { DevApiKeys } from './api-keys';
import { gatewayErrorCorsHeaders, preflightHeaders } from './cors';
import { DevStageCache, stageCacheKey } from './stage-cache';
import { isStreamingRoute, serveStreaming } from './response-streaming';
import { hardenServer, isRefused, resolveHardening, routingMethod, serverOptions } from './http-hardening';

import { badGateway, gatewayError, headerValue, isGatewayResponse, notModified, proxyResultToResponse, withHeaders, writeResponse } from './gateway-responses';
import { DEV_LIMITS } from './limits';
import { fillTemplate, headerPairs, matchRoute, missingParameters, readBody, splitUrl } from './request-routing';
import type { DevRoute, DevServer, DevServerOptions } from './server-types';

export { DEV_LIMITS } from './limits';
export type { DevDataPurge, DevRoute, DevServer, DevServerOptions } from './server-types';

/** Where the data-cache runtime lives: its container-wide CacheClient is what the dev server purges and closes. */
export const DATA_CACHE_RUNTIME = path.join(__dirname, '..', 'lambda', 'runtime', 'cache', 'from-env.ts');
/** Handler sources the dev server watches besides the routes' own directories. */
export const LAMBDA_SOURCES = path.join(__dirname, '..', 'lambda');

/** The web ACL's answer to a request without an accepted origin-verify value (lib/edge/origin-verification.ts). */
const ORIGIN_FORBIDDEN: EdgeResponse = {
  statusCode: 403,
  headers: [['Content-Type', 'application/json'], ['cache-control', 'no-store']],
  body: Buffer.from('{"code":"FORBIDDEN","message":"Forbidden"}'),
};


/** What one request came to, for the log line. */
interface Outcome {
  edge: string;
  data: string;
  notes: string[];
}

/**
 * A local HTTP server that answers like the deployed stack: CloudFront's cache in front (per
 * route, keyed as the route's cache policy), API Gateway REST's routing, limits and proxy
 * events, and each route's real handler invoked in-process with its own environment.
 */
export async function createDevServer(options: DevServerOptions): Promise<DevServer> {
  checkCors(options.cors);
  const parsed = withCorsCacheKey(parseRouteTable(options.routes), options.cors);
  // The same refusals and per-caller keys as the stack's stage cache.
  const stageKeyParameters = new Map<string, string[]>();
  for (const route of parsed.filter((r) => r.cache.gateway)) {
    const authorization = route.options.authorization ?? options.authorization;
    if (!authorization) {
      throw new Error(`routes['${route.key}'].cache.gateway: pass authorization (the API's default) so the dev server keys the stage cache as the stack does`);
    }
    checkGatewayCache(route, authorization);
    stageKeyParameters.set(route.key, gatewayCacheKeyParameters(route, authorization));
  }
  const stageCache = new DevStageCache(options.now);
  const stageCacheEnabled = options.stageCache ?? true;
  // The same refusals as synth: keyed routes without consumers, keyed edge-cached routes, ...
  if (options.consumers?.length || parsed.some((r) => r.options.requireApiKey)) checkConsumers(options.consumers ? [...options.consumers] : undefined, parsed);
  const apiKeys = new DevApiKeys(options.consumers ?? [], options.now);
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? DEV_LIMITS.stageName;
  const keyPrefix = options.keyPrefix ?? 'dev';
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const log = options.log ?? ((line: string) => console.log(line));
  const edgeEnabled = options.edgeCache ?? true;
  const loader = new HandlerLoader(options.requireModule);
  const requireModule = options.requireModule ?? ((file: string) => require(file));
  const edge = new DevEdgeCache(options.now);
  const invocationEnv = installInvocationEnv();

  // Settings shared by every function (table name, data-cache connection) are process-wide in
  // Lambda too; the data-cache runtime reads its container-wide settings from process.env.
  Object.assign(process.env, options.environment ?? {}, { DATA_CACHE_KEY_PREFIX: keyPrefix });
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: region, AWS_DEFAULT_REGION: region };

  const routes: DevRoute[] = parsed.map((route) => {
    const fn = route.options.function;
    const functionName = `${keyPrefix}-${route.id}Function`;
    const memorySize = fn?.memorySize ?? DEV_LIMITS.memorySize;
    // One object per route, kept for the server's life: the runtime caches parsed settings per env object.
    const env: NodeJS.ProcessEnv = {
      ...baseEnv,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
      // As CacheableApi: the route's function options replace the defaults, then the route's settings.
      ...(fn?.environment ?? options.environment ?? {}),
      ...routeEnvironment(route, keyPrefix),
      ...corsEnvironment(options.cors),
    };
    return {
      route,
      entry: resolveEntry(route.options.entry),
      exportName: route.options.handler ?? 'handler',
      functionName,
      memorySize,
      timeoutMs: (fn?.timeout?.toSeconds() ?? DEV_LIMITS.timeoutSeconds) * 1000,
      env,
    };
  });

  const closeCacheClient = async (exports: unknown) => {
    const reset = (exports as { resetCacheClient?: () => Promise<void> } | undefined)?.resetCacheClient;
    if (typeof reset === 'function') await reset().catch((e: unknown) => log(`data cache: close failed: ${String(e)}`));
  };

  const watchRoots = Array.isArray(options.watch)
    ? (options.watch as readonly string[])
    : [...routes.map((r) => path.dirname(r.entry)), LAMBDA_SOURCES];

  const reload = async (changedFiles: readonly string[]) => {
    const dropped = await loader.invalidate(changedFiles, watchRoots, async (id, exports) => {
      if (id === DATA_CACHE_RUNTIME) await closeCacheClient(exports);
    });
    const reloaded = routes.filter((r) => dropped.includes(r.entry));
    const purged = edge.invalidateRoutes(new Set(reloaded.map((r) => r.route.key)));
    const changed = changedFiles.map((f) => path.relative(process.cwd(), f)).join(', ');
    log(
      `reload: ${changed} changed; ${dropped.length} module(s) will load again` +
        (reloaded.length ? ` (${reloaded.map((r) => r.route.key).join(', ')})` : '') +
        (purged ? `; ${purged} edge entr${purged === 1 ? 'y' : 'ies'} of those routes dropped` : ''),
    );
  };

  let watch: SourceWatch | undefined;
  if (options.watch) watch = watchSources({ roots: watchRoots, onChange: (files) => void reload(files) });

  const purgeDataCache = async (pathParameters: Record<string, string>): Promise<string | undefined> => {
    const purge = options.dataPurge;
    if (!purge || purge.keys.length + purge.groups.length === 0) return undefined;
    const runtime = requireModule(DATA_CACHE_RUNTIME) as {
      getCacheClient(): { invalidate(key: string): Promise<boolean>; invalidateGroup(group: string): Promise<boolean> };
    };
    const cache = runtime.getCacheClient();
    const keys = purge.keys.map((t) => fillTemplate(t, pathParameters)).filter((k): k is string => k !== undefined);
    const groups = purge.groups.map((t) => fillTemplate(t, pathParameters)).filter((g): g is string => g !== undefined);
    const done = await Promise.all([...keys.map((k) => cache.invalidate(k)), ...groups.map((g) => cache.invalidateGroup(g))]);
    const names = [...keys, ...groups.map((g) => `group ${g}`)];
    return done.every(Boolean) ? `data purge: ${names.join(', ')}` : `data purge deferred (cache unreachable; replayed once it answers): ${names.join(', ')}`;
  };

  const invoke = async (devRoute: DevRoute, event: APIGatewayProxyEvent, outcome: Outcome): Promise<EdgeResponse> => {
    const requestId = event.requestContext.requestId;
    let handler;
    try {
      const loaded = loader.load(devRoute.entry, devRoute.exportName);
      handler = loaded.handler;
      if (loaded.initMs !== undefined) outcome.notes.push(`init ${Math.round(loaded.initMs)} ms`);
    } catch (error) {
      log(`${devRoute.route.key}: cannot load ${devRoute.entry}: ${(error as Error)?.stack ?? String(error)}`);
      outcome.notes.push('handler failed to load');
      return badGateway(requestId, `Cannot load the handler: ${(error as Error)?.message ?? String(error)}`);
    }
    const eventBytes = Buffer.byteLength(JSON.stringify(event));
    if (eventBytes > DEV_LIMITS.lambdaRequestBytes) {
      return gatewayError(413, 'REQUEST_TOO_LARGE', `Request must be smaller than ${DEV_LIMITS.lambdaRequestBytes} bytes for the InvokeFunction operation`, requestId);
    }
    const startedAt = Date.now();
    const context = createLambdaContext({
      functionName: devRoute.functionName,
      memoryLimitInMB: devRoute.memorySize,
      timeoutMs: devRoute.timeoutMs,
      region,
      startedAt,
    });
    let timer: NodeJS.Timeout | undefined;
    let result: unknown;
    try {
      result = await Promise.race([
        invocationEnv.run(devRoute.env, () => Promise.resolve().then(() => handler(event, context))),
        new Promise((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new InvocationTimeout(`Task timed out after ${(devRoute.timeoutMs / 1000).toFixed(2)} seconds`)),
            devRoute.timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      const timedOut = error instanceof InvocationTimeout;
      log(`${devRoute.route.key}: ${timedOut ? error.message : `handler failed: ${(error as Error)?.stack ?? String(error)}`}`);
      outcome.notes.push(timedOut ? 'timed out' : 'handler threw');
      return badGateway(requestId, `The handler failed: ${(error as Error)?.message ?? String(error)}`);
    } finally {
      clearTimeout(timer);
    }
    if (result === undefined && handler.length >= 3) {
      outcome.notes.push('callback-style handler');
      return badGateway(requestId, 'The handler returned nothing: callback-style handlers are not supported (Node.js 24 runtime); use an async handler');
    }
    const mapped = proxyResultToResponse(result, requestId);
    if ('error' in mapped) {
      log(`${devRoute.route.key}: Malformed Lambda proxy response: ${mapped.error}`);
      outcome.notes.push('malformed result');
      return badGateway(requestId, `Malformed Lambda proxy response: ${mapped.error}`);
    }
    return mapped.response;
  };

  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const { path: rawPath, query } = splitUrl(req.url ?? '/');
    const requestMethod = (req.method ?? 'GET').toUpperCase();
    const method = routingMethod(requestMethod, (m) => matchRoute(routes, rawPath, m).kind === 'found');
    const requestId = randomUUID();
    const outcome: Outcome = { edge: '-', data: '-', notes: [] };
    let response: EdgeResponse;
    let xCache: string | undefined;
    try {
      const body = await readBody(req, DEV_LIMITS.apiGatewayPayloadBytes);
      const match = matchRoute(routes, rawPath, method);
      const origin = options.originVerification;
      if (body === undefined) {
        response = gatewayError(413, 'REQUEST_TOO_LARGE', 'Request Too Large', requestId);
      } else if (origin && !(await origin.allows(headerValue(headerPairs(req.rawHeaders), origin.headerName)))) {
        outcome.notes.push('origin not verified');
        response = ORIGIN_FORBIDDEN;
      } else if (match.kind === 'none') {
        response = gatewayError(404, 'NOT_FOUND', `No route matches ${method} ${rawPath}`, requestId);
      } else if (method === 'OPTIONS' && options.cors) {
        // The pre-flight mock method CacheableApi adds to every resource under CORS.
        response = { statusCode: 204, headers: preflightHeaders(options.cors, headerValue(headerPairs(req.rawHeaders), 'origin')), body: Buffer.alloc(0) };
      } else if (match.kind === 'method') {
        response = gatewayError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${match.resource}; allowed: ${match.allowed.join(', ')}`, requestId, [
          ['Allow', match.allowed.join(', ')],
        ]);
      } else {
        const { route: devRoute, pathParameters } = match;
        const route = devRoute.route;
        const viewer = { method, path: rawPath, query, headers: headerPairs(req.rawHeaders), sourceIp: req.socket.remoteAddress ?? '127.0.0.1' };
        const cached = edgeEnabled && isEdgeCached(route);
        if (!cached) outcome.edge = 'pass';
        const plan = planEdgeRequest(cached ? route : { ...route, cache: { ...route.cache, edge: undefined } }, viewer);
        if (plan.droppedQuery.length > 0) outcome.notes.push(`not forwarded: ${plan.droppedQuery.join(', ')}`);
        const missing = missingParameters(route, plan.query, plan.headers);
        const hit = cached ? edge.lookup(plan.cacheKey) : undefined;
        const keyCheck = route.options.requireApiKey && !hit ? apiKeys.check(route.key, headerValue(plan.headers, 'x-api-key')) : undefined;
        const stageKey =
          stageCacheEnabled && route.cache.gateway
            ? stageCacheKey(route, stageKeyParameters.get(route.key)!, { pathParameters, query: plan.query, headers: plan.headers })
            : undefined;
        const stageHit = stageKey === undefined ? undefined : stageCache.lookup(stageKey);
        if (missing.length > 0) {
          response = gatewayError(400, 'BAD_REQUEST_PARAMETERS', `Missing required request parameters: [${missing.join(', ')}]`, requestId);
        } else if (keyCheck && 'rejection' in keyCheck) {
          const { statusCode, code, message } = keyCheck.rejection;
          outcome.notes.push(`api key: ${code}`);
          response = gatewayError(statusCode, code, message, requestId);
        } else if (stageHit && !hit) {
          outcome.notes.push('stage cache hit');
          response = stageHit;
        } else if (hit) {
          outcome.edge = 'hit';
          xCache = X_CACHE.hit;
          response = withHeaders(hit.response, [['Age', String(hit.ageSeconds)]]);
        } else {
          // Taken before the origin request: a purge seen while it runs keeps its response out of the edge.
          const fillStartedAt = edge.beginFill();
          const event = toProxyEvent(
            { method, path: rawPath, query: plan.query, headers: plan.headers, body, sourceIp: viewer.sourceIp },
            { resourcePath: route.path, pathParameters },
            { stage, requestId },
          );
          if (isStreamingRoute(route)) {
            // Response streaming: the handler's output goes straight to the client (dev/response-streaming.ts).
            const streamed = await serveStreaming({
              handler: loader.load(devRoute.entry, devRoute.exportName).handler,
              event,
              context: createLambdaContext({ functionName: devRoute.functionName, memoryLimitInMB: devRoute.memorySize, timeoutMs: devRoute.timeoutMs, region }),
              res,
              run: (fn) => invocationEnv.run(devRoute.env, fn),
              timeoutMs: devRoute.timeoutMs,
              extraHeaders: { 'x-amzn-RequestId': requestId, Via: '1.1 dev-edge (CloudFront)' },
            });
            log(`${method.padEnd(6)} ${rawPath} ${streamed.status} ${(performance.now() - started).toFixed(1)} ms streamed${streamed.note ? `  (${streamed.note})` : ''}`);
            return;
          }
          response = await invoke(devRoute, event, outcome);
          outcome.data = headerValue(response.headers, 'x-data-cache') ?? '-';
          if (stageKey !== undefined) stageCache.store(stageKey, response, route.cache.gateway!.ttl);
          if (cached) {
            outcome.edge = 'miss';
            const ttl = edgeTtlSeconds(route, response.statusCode, headerValue(response.headers, 'cache-control'));
            const stored = edge.store(plan.cacheKey, route.key, plan.viewerPath, response, ttl, fillStartedAt);
            if (ttl === 0 && response.statusCode < 400) outcome.notes.push('not stored at the edge (Cache-Control)');
            else if (!stored && ttl > 0) outcome.notes.push('not stored at the edge (purged while computed)');
          }
          if (method !== 'GET') {
            const purged = edgeEnabled ? edge.invalidate(purgePathsForWrite(parsed, pathParameters)) : 0;
            if (purged > 0) outcome.notes.push(`edge purge: ${purged} entr${purged === 1 ? 'y' : 'ies'}`);
            const dataNote = await purgeDataCache(pathParameters);
            if (dataNote) outcome.notes.push(dataNote);
          }
        }
        if (cached && response.statusCode < 300) {
          const etag = headerValue(response.headers, 'etag');
          if (ifNoneMatchHits(headerValue(viewer.headers, 'if-none-match'), etag)) response = notModified(response);
        }
      }
    } catch (error) {
      log(`${method} ${rawPath}: ${(error as Error)?.stack ?? String(error)}`);
      response = badGateway(requestId, String((error as Error)?.message ?? error));
    }
    if (isGatewayResponse(response) && options.cors) {
      response = withHeaders(response, gatewayErrorCorsHeaders(options.cors, headerValue(headerPairs(req.rawHeaders), 'origin')));
    }
    xCache ??= response.statusCode >= 400 ? X_CACHE.error : X_CACHE.miss;
    const final = withHeaders(response, [
      ['X-Cache', xCache],
      ['Via', '1.1 dev-edge (CloudFront)'],
      ['X-Amz-Cf-Pop', 'DEV1-C1'],
      ['X-Amz-Cf-Id', randomBytes(42).toString('base64url').slice(0, 56)],
    ]);
    try {
      writeResponse(res, requestMethod, final);
    } catch (error) {
      log(`${method} ${rawPath}: cannot write the response: ${String(error)}`);
      if (!res.headersSent) writeResponse(res, requestMethod, badGateway(requestId, 'Invalid response headers'));
      else res.destroy();
    }
    const ms = performance.now() - started;
    const target = query === undefined ? rawPath : `${rawPath}?${query}`;
    log(
      `${requestMethod.padEnd(6)} ${target} ${final.statusCode} ${ms.toFixed(ms < 10 ? 1 : 0)} ms edge=${outcome.edge} data=${outcome.data}` +
        (outcome.notes.length ? `  (${outcome.notes.join('; ')})` : ''),
    );
  };

  const hardening = resolveHardening(options);
  const server = http.createServer(serverOptions(hardening), (req, res) => {
    if (!isRefused(req)) void serve(req, res);
  });
  hardenServer(server, hardening);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      watch?.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 1_000).unref();
      await stopped;
      if (loader.isLoaded(DATA_CACHE_RUNTIME)) await closeCacheClient(requireModule(DATA_CACHE_RUNTIME));
      edge.clear();
      stageCache.clear();
    })());

  return { url, host, port, routes, edgeCache: edge, stageCache, watching: watch?.roots ?? [], reload, close };
}

/** Lambda's answer when a handler outlives the function's timeout. */
class InvocationTimeout extends Error {}

/** The AsyncLocalStorage the runtime's `invocationEnv()` reads, shared by every dev server of the process. */
function installInvocationEnv(): AsyncLocalStorage<NodeJS.ProcessEnv> {
  const holder = globalThis as { [INVOCATION_ENV]?: unknown };
  const existing = holder[INVOCATION_ENV];
  if (existing instanceof AsyncLocalStorage) return existing as AsyncLocalStorage<NodeJS.ProcessEnv>;
  const store = new AsyncLocalStorage<NodeJS.ProcessEnv>();
  holder[INVOCATION_ENV] = store;
  return store;
}

function resolveEntry(entry: string): string {
  const absolute = path.resolve(entry);
  try {
    return require.resolve(absolute);
  } catch {
    return absolute; // reported when the first request loads it
  }
}
