import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ROUTE_ENV } from '../env';
import { invocationEnv } from '../invocation-env';

/** The route's CORS settings, from its environment (set by CacheableApi's `cors`). */
export interface CorsSettings {
  /** Allowed origins; `['*']` for any. Empty without CORS. */
  readonly allowOrigins: readonly string[];
  readonly allowCredentials: boolean;
  readonly exposeHeaders: readonly string[];
}

const parsed = new WeakMap<NodeJS.ProcessEnv, CorsSettings>();

/** The CORS settings of the route being served, parsed once per environment object. */
export function corsSettings(env: NodeJS.ProcessEnv = invocationEnv()): CorsSettings {
  let settings = parsed.get(env);
  if (!settings) {
    const list = (name: string) => (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    settings = {
      allowOrigins: list(ROUTE_ENV.corsAllowOrigins),
      allowCredentials: env[ROUTE_ENV.corsAllowCredentials] === 'true',
      exposeHeaders: list(ROUTE_ENV.corsExposeHeaders),
    };
    parsed.set(env, settings);
  }
  return settings;
}

/** The request's `Origin` header (any case), if any. */
export function requestOrigin(event: Pick<APIGatewayProxyEvent, 'headers'>): string | undefined {
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (name.toLowerCase() === 'origin' && value) return value;
  }
  return undefined;
}

/**
 * The CORS headers of a response to a request from `origin`: `Access-Control-Allow-Origin`
 * echoing an allowed origin (nothing for another one), and `Vary: Origin` whenever the answer
 * depends on the origin, so no shared cache hands one site's header to another.
 */
export function corsHeaders(origin: string | undefined, settings: CorsSettings = corsSettings()): Record<string, string> {
  const allowed = settings.allowOrigins;
  if (allowed.length === 0) return {};
  if (allowed.includes('*')) {
    return { 'Access-Control-Allow-Origin': '*', ...(settings.exposeHeaders.length ? { 'Access-Control-Expose-Headers': settings.exposeHeaders.join(',') } : {}) };
  }
  const headers: Record<string, string> = { Vary: 'Origin' };
  if (origin !== undefined && allowed.includes(origin)) {
    headers['Access-Control-Allow-Origin'] = origin;
    if (settings.allowCredentials) headers['Access-Control-Allow-Credentials'] = 'true';
    if (settings.exposeHeaders.length) headers['Access-Control-Expose-Headers'] = settings.exposeHeaders.join(',');
  }
  return headers;
}

/**
 * The response with the route's CORS headers added (`apiHandler` applies it to every answer,
 * errors included). `Vary` is merged with what the response already varies on.
 */
export function withCors(
  event: Pick<APIGatewayProxyEvent, 'headers'>,
  response: APIGatewayProxyResult,
  settings: CorsSettings = corsSettings(),
): APIGatewayProxyResult {
  const extra = corsHeaders(requestOrigin(event), settings);
  if (Object.keys(extra).length === 0) return response;
  const headers: Record<string, string | number | boolean> = { ...(response.headers ?? {}) };
  for (const [name, value] of Object.entries(extra)) {
    const existing = Object.keys(headers).find((h) => h.toLowerCase() === name.toLowerCase());
    if (name === 'Vary' && existing) {
      const current = String(headers[existing]).split(',').map((v) => v.trim()).filter(Boolean);
      if (!current.some((v) => v.toLowerCase() === 'origin' || v === '*')) headers[existing] = [...current, value].join(', ');
    } else {
      if (existing) delete headers[existing];
      headers[name] = value;
    }
  }
  return { ...response, headers };
}
