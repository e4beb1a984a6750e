import { envInt, ROUTE_ENV } from '../env';
import { invocationEnv } from '../invocation-env';

/** The route's settings from its environment, read once per container. */
export interface RouteSettings {
  readonly routeKey?: string;
  readonly maxBodyBytes: number;
  /** Headers a successful response carries: `Cache-Control` and, when declared, `Vary`. */
  readonly cacheHeaders: Record<string, string>;
}

const DEFAULT_MAX_BODY_BYTES = 16_384;
const parsed = new WeakMap<NodeJS.ProcessEnv, RouteSettings>();

/** The settings of the route being served, parsed once per environment object. */
export function routeSettings(env: NodeJS.ProcessEnv = invocationEnv()): RouteSettings {
  let settings = parsed.get(env);
  if (!settings) parsed.set(env, (settings = readRouteSettings(env)));
  return settings;
}

function readRouteSettings(env: NodeJS.ProcessEnv): RouteSettings {
  const cacheHeaders: Record<string, string> = { 'Cache-Control': env[ROUTE_ENV.cacheControl] || 'private, no-store' };
  if (env[ROUTE_ENV.vary]) cacheHeaders.Vary = env[ROUTE_ENV.vary]!;
  return {
    routeKey: env[ROUTE_ENV.routeKey],
    maxBodyBytes: envInt(ROUTE_ENV.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, env),
    cacheHeaders,
  };
}
