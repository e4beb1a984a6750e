/** The dev server's model options (`--model-upstream`, `--model-name`, `--model-budget`, `--no-models`). */
import type { RouteTable } from '../lib/api/route-spec';
import { devModelRoutes } from './model-routes';

export const DEV_MODEL_ARGS = {
  'model-upstream': { type: 'string' },
  'model-name': { type: 'string' },
  'model-budget': { type: 'string' },
  'no-models': { type: 'boolean' },
} as const;

export interface DevModelCliOptions {
  readonly enabled: boolean;
  readonly upstream?: string;
  readonly upstreamModel?: string;
  readonly dailyTokens?: number;
}

export function parseDevModelArgs(values: Record<string, string | boolean | string[] | undefined>): DevModelCliOptions {
  const upstream = values['model-upstream'] as string | undefined;
  if (upstream !== undefined && !/^https?:\/\/[^\s/]+/.test(upstream)) throw new Error(`--model-upstream must be an http(s) URL, got "${upstream}"`);
  const budget = values['model-budget'] as string | undefined;
  const dailyTokens = budget === undefined ? undefined : Number(budget);
  if (dailyTokens !== undefined && !(Number.isInteger(dailyTokens) && dailyTokens > 0)) throw new Error(`--model-budget must be a positive integer, got "${budget}"`);
  if (values['no-models'] && (upstream || budget)) throw new Error('--no-models cannot be combined with --model-upstream or --model-budget');
  return { enabled: !values['no-models'], upstream: upstream?.replace(/\/+$/, ''), upstreamModel: values['model-name'] as string | undefined, dailyTokens };
}

/**
 * The route table with the model routes added: always for the sample app (unless
 * --no-models), and for a --routes table only when a model option asks for them.
 */
export function withDevModelRoutes(routes: RouteTable, options: DevModelCliOptions, customTable: boolean): RouteTable {
  if (!options.enabled) return routes;
  if (customTable && options.upstream === undefined && options.dailyTokens === undefined) return routes;
  return { ...routes, ...devModelRoutes({ upstream: options.upstream, upstreamModel: options.upstreamModel, dailyTokens: options.dailyTokens }) };
}
