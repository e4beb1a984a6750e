import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { LIMITS, ParsedRoute } from './route-table';
import { ROUTE_ENV } from './runtime-env';

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * Throws, naming the prop, on CORS settings browsers or API Gateway would not honour:
 * origins must be `*` alone or exact origins (`https://shop.example.com`), and credentials
 * cannot be allowed for `*`.
 */
export function checkCors(cors: apigw.CorsOptions | undefined): void {
  if (!cors) return;
  const origins = cors.allowOrigins ?? [];
  if (origins.length === 0) throw new Error('cors.allowOrigins must list at least one origin, e.g. ["https://shop.example.com"]');
  if (origins.includes('*')) {
    if (origins.length > 1) throw new Error('cors.allowOrigins: "*" cannot be combined with specific origins');
    if (cors.allowCredentials) throw new Error('cors.allowCredentials: browsers refuse credentials with Access-Control-Allow-Origin "*"; list the origins instead');
    return;
  }
  for (const origin of origins) {
    if (!ORIGIN.test(origin)) {
      throw new Error(`cors.allowOrigins: "${origin}" is not an origin; give scheme and host (and port), without path or trailing slash, e.g. https://shop.example.com`);
    }
  }
}

/** Whether responses differ by the request's `Origin` (every allow-list but `*`). */
export function variesByOrigin(cors: apigw.CorsOptions | undefined): boolean {
  return !!cors && !cors.allowOrigins.includes('*');
}

/**
 * The routes as every cache layer must see them under CORS: a cached route's responses carry
 * the caller's origin in `Access-Control-Allow-Origin`, so `Origin` joins its cache key (the
 * CloudFront cache policy, the stage cache's key parameters and `Vary`). Without it a cache
 * would serve one site's header to another, whose browser then refuses the response.
 */
export function withCorsCacheKey(routes: ParsedRoute[], cors: apigw.CorsOptions | undefined): ParsedRoute[] {
  if (!variesByOrigin(cors)) return routes;
  return routes.map((route) => {
    const cached = route.cache.edge || route.cache.gateway;
    if (!cached || route.cache.key.headers.some((h) => h.toLowerCase() === 'origin')) return route;
    if (route.cache.key.headers.length >= LIMITS.keyPartsPerKind) {
      throw new Error(`routes['${route.key}'].cache.key.headers: with Origin added for CORS, the key has more than ${LIMITS.keyPartsPerKind} headers`);
    }
    return { ...route, cache: { ...route.cache, key: { ...route.cache.key, headers: [...route.cache.key.headers, 'Origin'] } } };
  });
}

/** Variables that tell the runtime's CORS helper (`apiHandler`) what to answer. */
export function corsEnvironment(cors: apigw.CorsOptions | undefined): Record<string, string> {
  if (!cors) return {};
  const env: Record<string, string> = { [ROUTE_ENV.corsAllowOrigins]: cors.allowOrigins.join(',') };
  if (cors.allowCredentials) env[ROUTE_ENV.corsAllowCredentials] = 'true';
  if (cors.exposeHeaders?.length) env[ROUTE_ENV.corsExposeHeaders] = cors.exposeHeaders.join(',');
  return env;
}

/**
 * CORS headers of API Gateway's own responses (auth failures, validation, throttling, 5xx).
 * Gateway responses can map a request header but not test it, so with several allowed origins
 * `Access-Control-Allow-Origin` echoes the request's `Origin` whatever it is, with `Vary: Origin`:
 * any site can read these bodies, which carry only the error code, message and request id.
 * `Access-Control-Allow-Credentials` is never sent on them, so a credentialed request's error
 * body stays unreadable to every site but the allowed ones' successful responses.
 */
export function corsGatewayResponseHeaders(cors: apigw.CorsOptions | undefined): Record<string, string> {
  if (!cors) return {};
  const origins = cors.allowOrigins;
  if (origins.includes('*')) return { 'Access-Control-Allow-Origin': "'*'" };
  if (origins.length === 1) return { 'Access-Control-Allow-Origin': `'${origins[0]}'`, Vary: "'Origin'" };
  return { 'Access-Control-Allow-Origin': 'method.request.header.Origin', Vary: "'Origin'" };
}
