import type { CorsOptions } from 'aws-cdk-lib/aws-apigateway';
import { corsGatewayResponseHeaders } from '../lib/api/cors';

/** API Gateway's default pre-flight `Access-Control-Allow-Headers` (aws-cdk-lib's Cors.DEFAULT_HEADERS). */
const DEFAULT_ALLOW_HEADERS = ['Content-Type', 'X-Amz-Date', 'Authorization', 'X-Api-Key', 'X-Amz-Security-Token', 'X-Amz-User-Agent'];
const ALL_METHODS = ['OPTIONS', 'GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD'];

/**
 * The answer of the pre-flight method CacheableApi's `cors` puts on every resource (a mock
 * integration): `Access-Control-Allow-Origin` is the first allowed origin unless the request's
 * `Origin` is one of the others, which is then echoed; `Vary: Origin` unless origins are `*`.
 * A browser on a denied origin sees an origin that is not its own and refuses the response.
 */
export function preflightHeaders(cors: CorsOptions, origin: string | undefined): Array<[string, string]> {
  const origins = cors.allowOrigins;
  const headers: Array<[string, string]> = [
    ['Access-Control-Allow-Headers', (cors.allowHeaders ?? DEFAULT_ALLOW_HEADERS).join(',')],
    ['Access-Control-Allow-Origin', origin !== undefined && origins.slice(1).includes(origin) ? origin : origins[0]],
  ];
  if (origins[0] !== '*') headers.push(['Vary', 'Origin']);
  const methods = cors.allowMethods && !cors.allowMethods.includes('ANY') ? cors.allowMethods : ALL_METHODS;
  headers.push(['Access-Control-Allow-Methods', methods.join(',')]);
  if (cors.allowCredentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
  const maxAge = cors.disableCache ? -1 : cors.maxAge?.toSeconds();
  if (maxAge) headers.push(['Access-Control-Max-Age', String(maxAge)]);
  if (cors.exposeHeaders?.length) headers.push(['Access-Control-Expose-Headers', cors.exposeHeaders.join(',')]);
  return headers;
}

/**
 * The CORS headers of an API Gateway error response, from the same mapping the stack deploys
 * (`corsGatewayResponseHeaders`): a quoted value is literal, `method.request.header.Origin`
 * is the request's `Origin` (left out when the request has none).
 */
export function gatewayErrorCorsHeaders(cors: CorsOptions | undefined, origin: string | undefined): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (const [name, mapping] of Object.entries(corsGatewayResponseHeaders(cors))) {
    if (/^'.*'$/.test(mapping)) headers.push([name, mapping.slice(1, -1)]);
    else if (mapping === 'method.request.header.Origin' && origin !== undefined) headers.push([name, origin]);
  }
  return headers;
}
