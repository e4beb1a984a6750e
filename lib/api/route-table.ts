import { Duration } from 'aws-cdk-lib';
import { checkRouteOptionKeys } from './route-option-keys';
import { RouteCacheSpec, RouteOptions, RouteTable } from './route-spec';

/** HTTP methods a route may use; OPTIONS stays with API Gateway's CORS pre-flight. */
export const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** Upper bounds shared by validation and documentation. */
export const LIMITS = {
  edgeTtlSeconds: 31_536_000, // CloudFront's maximum TTL: one year
  gatewayTtlSeconds: 3600, // API Gateway stage cache maximum
  dataTtlSeconds: 604_800, // seven days: longer belongs in the primary store
  staleWindowSeconds: 86_400,
  maxJitter: 0.5,
  keyPartsPerKind: 10, // CloudFront cache policies accept 10 query strings, headers or cookies
  maxBodyBytes: 6_291_456, // Lambda's synchronous payload limit
} as const;

export const DEFAULT_MAX_BODY_BYTES = 16_384;
export const DEFAULT_NEGATIVE_TTL_SECONDS = 5;
export const DEFAULT_JITTER = 0.1;

/** Cache settings of a route with defaults applied and every duration in whole seconds. */
export interface ResolvedCacheSpec {
  readonly edge?: {
    readonly ttl: number;
    readonly minTtl: number;
    readonly maxTtl: number;
    readonly browserTtl: number;
    readonly staleWhileRevalidate?: number;
    readonly staleIfError?: number;
  };
  readonly gateway?: { readonly ttl: number; readonly perCaller: boolean };
  readonly data?: {
    readonly ttl: number;
    readonly negativeTtl: number;
    readonly staleWhileRevalidate: number;
    readonly staleIfError: number;
    readonly jitter: number;
  };
  readonly key: {
    readonly queryStrings: string[];
    readonly headers: string[];
    readonly cookies: string[];
  };
}

/** A validated entry of the route table. */
export interface ParsedRoute {
  /** Normalised route key, e.g. `GET /items/{id}`. */
  readonly key: string;
  readonly method: RouteMethod;
  /** Resource path, e.g. `/items/{id}`. */
  readonly path: string;
  /** Names of the path's `{parameters}`, in order. */
  readonly pathParameters: string[];
  /** A construct-id-safe name, e.g. `GetItemsById`. */
  readonly id: string;
  readonly options: RouteOptions;
  readonly cache: ResolvedCacheSpec;
  readonly maxBodyBytes: number;
}

const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAM_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$/;
const QUERY_NAME = /^[A-Za-z0-9._~-]+$/;
const TOKEN_NAME = /^[A-Za-z0-9!#$&^_`|~-]+$/; // RFC 9110 token, minus characters CloudFront rejects

/**
 * Parses and validates a route table. Every error names the offending prop and the allowed
 * values, so a bad table fails at synth rather than at deploy or at request time.
 */
export function parseRouteTable(routes: RouteTable, propName = 'routes'): ParsedRoute[] {
  const keys = Object.keys(routes ?? {});
  if (keys.length === 0) {
    throw new Error(`${propName} must declare at least one route, e.g. { 'GET /health': { entry: 'lambda/health.ts' } }`);
  }
  const parsed = keys.map((rawKey) => parseRoute(rawKey, routes[rawKey], `${propName}['${rawKey}']`));
  rejectConflicts(parsed, keys, propName);
  return parsed;
}

function parseRoute(rawKey: string, options: RouteOptions, prop: string): ParsedRoute {
  const match = /^\s*([A-Za-z]+)\s+(\/\S*)\s*$/.exec(rawKey);
  if (!match) {
    throw new Error(`${prop}: route key must be "<METHOD> /<path>", e.g. "GET /items/{id}"`);
  }
  const method = match[1].toUpperCase() as RouteMethod;
  if (!ROUTE_METHODS.includes(method)) {
    throw new Error(`${prop}: method "${match[1]}" is not allowed; use one of ${ROUTE_METHODS.join(', ')}`);
  }
  const path = match[2].length > 1 ? match[2].replace(/\/+$/, '') : match[2];
  const segments = path === '/' ? [] : path.slice(1).split('/');
  const pathParameters: string[] = [];
  segments.forEach((segment, index) => {
    const param = PARAM_SEGMENT.exec(segment);
    if (param) {
      if (param[2] === '+' && index !== segments.length - 1) {
        throw new Error(`${prop}: greedy parameter "${segment}" must be the last path segment`);
      }
      if (pathParameters.includes(param[1])) {
        throw new Error(`${prop}: path parameter "${param[1]}" appears twice`);
      }
      pathParameters.push(param[1]);
    } else if (!LITERAL_SEGMENT.test(segment)) {
      throw new Error(
        `${prop}: path segment "${segment}" is invalid; use letters, digits and . _ ~ - or a {parameter}`,
      );
    }
  });
  if (!options || typeof options.entry !== 'string' || options.entry.length === 0) {
    throw new Error(`${prop}.entry is required: the path of the route's handler file`);
  }
  checkRouteOptionKeys(prop, options);
  const maxBodyBytes = options.request?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  checkRange(`${prop}.request.maxBodyBytes`, maxBodyBytes, 1, LIMITS.maxBodyBytes, 'bytes');
  if (options.request?.bodySchema && method === 'GET') {
    throw new Error(`${prop}.request.bodySchema: GET requests carry no body; use it on POST, PUT or PATCH`);
  }
  checkNames(`${prop}.request.queryStrings`, Object.keys(options.request?.queryStrings ?? {}), QUERY_NAME, 50);
  checkNames(`${prop}.request.headers`, Object.keys(options.request?.headers ?? {}), TOKEN_NAME, 50);
  const key = `${method} ${path}`;
  return {
    key,
    method,
    path,
    pathParameters,
    id: routeId(method, segments),
    options,
    cache: resolveCache(options, method, `${prop}.cache`),
    maxBodyBytes,
  };
}

function resolveCache(options: RouteOptions, method: RouteMethod, prop: string): ResolvedCacheSpec {
  const spec: RouteCacheSpec = options.cache ?? {};
  const key = {
    queryStrings: [...(spec.key?.queryStrings ?? [])],
    headers: [...(spec.key?.headers ?? [])],
    cookies: [...(spec.key?.cookies ?? [])],
  };
  checkNames(`${prop}.key.queryStrings`, key.queryStrings, QUERY_NAME, LIMITS.keyPartsPerKind);
  checkNames(`${prop}.key.headers`, key.headers, TOKEN_NAME, LIMITS.keyPartsPerKind);
  checkNames(`${prop}.key.cookies`, key.cookies, TOKEN_NAME, LIMITS.keyPartsPerKind);
  if (key.headers.some((h) => h.toLowerCase() === 'host')) {
    throw new Error(`${prop}.key.headers: "Host" cannot key a cache: CloudFront rewrites it to the origin's name`);
  }

  if ((spec.edge || spec.gateway) && method !== 'GET') {
    throw new Error(`${prop}: edge and gateway caching apply to GET routes only, not ${method}`);
  }
  if (spec.edge || spec.gateway) {
    // A query string the handler reads but the cache does not key on would let one
    // caller's page be served to another: refuse it here rather than document it.
    const declared = Object.keys(options.request?.queryStrings ?? {}).sort();
    const keyed = [...key.queryStrings].sort();
    const missing = declared.filter((q) => !keyed.includes(q));
    const undeclared = keyed.filter((q) => !declared.includes(q));
    if (missing.length > 0) {
      throw new Error(
        `${prop}.key.queryStrings must include every query string in request.queryStrings of a cached route; missing: ${missing.join(', ')}`,
      );
    }
    if (undeclared.length > 0) {
      throw new Error(
        `${prop}.key.queryStrings: ${undeclared.join(', ')} not declared in request.queryStrings; declare what the handler reads`,
      );
    }
  }

  let edge: ResolvedCacheSpec['edge'];
  if (spec.edge) {
    const ttl = seconds(`${prop}.edge.ttl`, spec.edge.ttl, 0, LIMITS.edgeTtlSeconds);
    const maxTtl = seconds(`${prop}.edge.maxTtl`, spec.edge.maxTtl ?? spec.edge.ttl, ttl, LIMITS.edgeTtlSeconds);
    const minTtl = seconds(`${prop}.edge.minTtl`, spec.edge.minTtl ?? Duration.seconds(0), 0, ttl);
    const browserTtl = seconds(`${prop}.edge.browserTtl`, spec.edge.browserTtl ?? Duration.seconds(0), 0, maxTtl);
    edge = {
      ttl,
      minTtl,
      maxTtl,
      browserTtl,
      staleWhileRevalidate: optionalSeconds(`${prop}.edge.staleWhileRevalidate`, spec.edge.staleWhileRevalidate),
      staleIfError: optionalSeconds(`${prop}.edge.staleIfError`, spec.edge.staleIfError),
    };
  }
  const gateway = spec.gateway
    ? { ttl: seconds(`${prop}.gateway.ttl`, spec.gateway.ttl, 0, LIMITS.gatewayTtlSeconds), perCaller: spec.gateway.perCaller === true }
    : undefined;

  let data: ResolvedCacheSpec['data'];
  if (spec.data) {
    const ttl = seconds(`${prop}.data.ttl`, spec.data.ttl, 1, LIMITS.dataTtlSeconds);
    const jitter = spec.data.jitter ?? DEFAULT_JITTER;
    checkRange(`${prop}.data.jitter`, jitter, 0, LIMITS.maxJitter, '(fraction of ttl)', false);
    data = {
      ttl,
      negativeTtl: seconds(
        `${prop}.data.negativeTtl`,
        spec.data.negativeTtl ?? Duration.seconds(Math.min(DEFAULT_NEGATIVE_TTL_SECONDS, ttl)),
        1,
        ttl,
      ),
      staleWhileRevalidate: optionalSeconds(`${prop}.data.staleWhileRevalidate`, spec.data.staleWhileRevalidate) ?? 0,
      staleIfError: optionalSeconds(`${prop}.data.staleIfError`, spec.data.staleIfError) ?? 0,
      jitter,
    };
  }
  return { edge, gateway, data, key };
}

function seconds(prop: string, value: Duration, min: number, max: number): number {
  if (!(value instanceof Duration) && typeof (value as Duration)?.toSeconds !== 'function') {
    throw new Error(`${prop} must be a Duration, e.g. Duration.seconds(60)`);
  }
  const s = value.toSeconds({ integral: false });
  if (!Number.isInteger(s)) {
    throw new Error(`${prop} must be a whole number of seconds, got ${s}`);
  }
  checkRange(prop, s, min, max, 'seconds');
  return s;
}

function optionalSeconds(prop: string, value: Duration | undefined): number | undefined {
  return value === undefined ? undefined : seconds(prop, value, 0, LIMITS.staleWindowSeconds);
}

/** Throws unless `value` lies in [min, max], naming the prop and the allowed range. */
export function checkRange(prop: string, value: number, min: number, max: number, unit: string, integer = true): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${prop} must be ${integer ? 'an integer ' : ''}between ${min} and ${max} ${unit}, got ${value}`);
  }
}

function checkNames(prop: string, names: string[], pattern: RegExp, max: number): void {
  if (names.length > max) {
    throw new Error(`${prop} allows at most ${max} names, got ${names.length}`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (!pattern.test(name)) {
      throw new Error(`${prop}: "${name}" is not a valid name (allowed characters: ${pattern.source})`);
    }
    const folded = name.toLowerCase();
    if (seen.has(folded)) {
      throw new Error(`${prop}: "${name}" is listed twice`);
    }
    seen.add(folded);
  }
}

/** Rejects two routes API Gateway would treat as one, and sibling path variables with different names. */
function rejectConflicts(routes: ParsedRoute[], rawKeys: string[], propName: string): void {
  const byShape = new Map<string, number>();
  const variableAt = new Map<string, { name: string; route: ParsedRoute }>();
  routes.forEach((route, index) => {
    const shape = `${route.method} ${route.path.replace(/\{[^}]+\}/g, '{}')}`;
    const otherIndex = byShape.get(shape);
    if (otherIndex !== undefined) {
      // Name both keys as written: their normalised forms may be identical.
      const both = `${propName}['${rawKeys[index]}'] duplicates ${propName}['${rawKeys[otherIndex]}']`;
      throw new Error(
        route.key === routes[otherIndex].key
          ? `${both}: both are ${route.key} (method case, spacing and a trailing slash do not tell routes apart)`
          : `${both}: API Gateway sees both as ${shape} (path-parameter names do not tell routes apart)`,
      );
    }
    byShape.set(shape, index);
    const segments = route.path === '/' ? [] : route.path.slice(1).split('/');
    segments.forEach((segment, index) => {
      if (!segment.startsWith('{')) return;
      const parent = '/' + segments.slice(0, index).join('/').replace(/\{[^}]+\}/g, '{}');
      const seenVar = variableAt.get(parent);
      if (seenVar && seenVar.name !== segment) {
        throw new Error(
          `${propName}: "${route.key}" uses ${segment} where "${seenVar.route.key}" uses ${seenVar.name}; API Gateway allows one parameter name per path position`,
        );
      }
      variableAt.set(parent, { name: segment, route });
    });
  });
}

function routeId(method: string, segments: string[]): string {
  const pascal = (s: string) => s.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_m, _p, c: string) => c.toUpperCase());
  const parts = segments.map((segment) => {
    const param = PARAM_SEGMENT.exec(segment);
    return param ? `By${pascal(param[1])}` : pascal(segment);
  });
  return pascal(method.toLowerCase()) + (parts.length ? parts.join('') : 'Root');
}
