/**
 * The model routes of `npm run dev`: the same route table ModelRoutes deploys, on the built-in
 * deterministic local model (offline) and, with `--model-upstream URL`, any OpenAI-compatible
 * server. Budgets are keyed on the `x-api-key` header here (no usage plans locally).
 */
import type { BudgetConfig, ModelTable } from '../lambda/ai/config';
import { ApiAuthorization } from '../lib/api/api-authorization';
import type { RouteTable } from '../lib/api/route-spec';
import { MODEL_ROUTES_DEFAULTS, modelRouteTable } from '../lib/ai/model-routes';

/** Environment variable the dev server reads an upstream key from (never a flag: it would sit in shell history). */
export const DEV_UPSTREAM_KEY_ENV = 'MODEL_UPSTREAM_API_KEY';

export interface DevModelOptions {
  /** Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1. Adds the alias `upstream`. */
  readonly upstream?: string;
  /** Model name sent to the upstream. @default 'default' */
  readonly upstreamModel?: string;
  /** Delay of the local model's answers, ms. @default 0 */
  readonly localDelayMs?: number;
  /** Token budget per consumer (`x-api-key`) per day. @default - none */
  readonly dailyTokens?: number;
  /** Full budget table (tests). @default - from dailyTokens */
  readonly budgets?: BudgetConfig;
  /** Answer cache lifetime, seconds. @default 3600 */
  readonly cacheTtlSeconds?: number;
  /** Upstream timeout, ms. @default 60000 */
  readonly upstreamTimeoutMs?: number;
  /** Extra aliases (tests: fallbacks, scripted upstreams). */
  readonly extraModels?: ModelTable;
}

/** The alias table of a dev server. */
export function devModelTable(options: DevModelOptions): ModelTable {
  return {
    // Temperature 0 by default: the quickstart's requests are deterministic, so the second is a cache hit.
    local: { provider: 'local', model: 'echo', delayMs: options.localDelayMs, defaults: { temperature: 0 } },
    ...(options.upstream
      ? { upstream: { provider: 'openai', baseUrl: options.upstream, model: options.upstreamModel ?? 'default', apiKeyEnv: DEV_UPSTREAM_KEY_ENV } }
      : {}),
    ...options.extraModels,
  };
}

export function devModelRoutes(options: DevModelOptions = {}): RouteTable {
  const modelsJson = JSON.stringify(devModelTable(options));
  const budgets = options.budgets ?? (options.dailyTokens ? { default: { tokens: options.dailyTokens, period: 'day' as const } } : undefined);
  return modelRouteTable({
    prefix: MODEL_ROUTES_DEFAULTS.pathPrefix,
    modelsJson,
    authorization: ApiAuthorization.publicAccess('Local dev server'),
    environment: {
      AI_MODELS: modelsJson,
      AI_CACHE_STORE: 'memory',
      AI_CACHE_TTL_SECONDS: String(options.cacheTtlSeconds ?? 3600),
      AI_UPSTREAM_TIMEOUT_MS: String(options.upstreamTimeoutMs ?? MODEL_ROUTES_DEFAULTS.upstreamTimeout.toMilliseconds()),
      AI_CONSUMER_SOURCE: 'header',
      ...(budgets ? { AI_BUDGETS: JSON.stringify(budgets) } : {}),
    },
  });
}
