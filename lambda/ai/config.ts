/**
 * Environment contract between lib/ai (which writes it) and the model-route handlers (which
 * read it), and the model alias table it carries.
 */
import { AiError, ChatRequest } from './format';

/** JSON alias table: alias name to ModelTargetConfig. */
export const AI_MODELS = 'AI_MODELS';
/** JSON BudgetConfig. Absent: no token budgets. */
export const AI_BUDGETS = 'AI_BUDGETS';
/** Where answers are cached: `dynamodb` (AI_TABLE), `data-cache` (the DATA_CACHE_* store), `memory` or `none`. */
export const AI_CACHE_STORE = 'AI_CACHE_STORE';
/** Lifetime of a cached answer, seconds. */
export const AI_CACHE_TTL_SECONDS = 'AI_CACHE_TTL_SECONDS';
/** DynamoDB table for the answer cache (AI_CACHE_STORE=dynamodb) and the budget counters. */
export const AI_TABLE = 'AI_TABLE';
/** Longest wait for one upstream answer, milliseconds. */
export const AI_UPSTREAM_TIMEOUT_MS = 'AI_UPSTREAM_TIMEOUT_MS';
/**
 * `header`: the consumer is the request's `x-api-key` header (the dev server only, which has no
 * usage plans). Otherwise it is the API key API Gateway validated (`identity.apiKeyId`).
 */
export const AI_CONSUMER_SOURCE = 'AI_CONSUMER_SOURCE';
/** CloudWatch namespace of the model metrics. Absent: no metrics. */
export const AI_METRICS_NAMESPACE = 'AI_METRICS_NAMESPACE';

export const AI_CACHE_STORES = ['dynamodb', 'data-cache', 'memory', 'none'] as const;
export type AiCacheStore = (typeof AI_CACHE_STORES)[number];

/** Request settings an alias applies when the request leaves them out. */
export interface AliasDefaults {
  readonly temperature?: number;
  readonly max_tokens?: number;
  readonly top_p?: number;
}

/** One alias of the table, as lib/ai writes it. */
export type ModelTargetConfig =
  | { readonly provider: 'bedrock'; readonly model: string; readonly region?: string; readonly defaults?: AliasDefaults; readonly fallbacks?: readonly string[] }
  | {
      readonly provider: 'openai';
      readonly model: string;
      /** Base URL of the OpenAI-compatible API, e.g. https://api.openai.com/v1. */
      readonly baseUrl: string;
      /** Secrets Manager secret holding the key (deployed). */
      readonly apiKeySecretArn?: string;
      /** Name of an environment variable holding the key (local runs only). */
      readonly apiKeyEnv?: string;
      readonly defaults?: AliasDefaults;
      readonly fallbacks?: readonly string[];
    }
  | { readonly provider: 'local'; readonly model?: string; readonly delayMs?: number; readonly defaults?: AliasDefaults; readonly fallbacks?: readonly string[] };

export type ModelTable = Readonly<Record<string, ModelTargetConfig>>;

/** Token budget of one consumer. */
export interface BudgetLimit {
  readonly tokens: number;
  readonly period: 'day' | 'month';
}

export interface BudgetConfig {
  /** Budget of consumers not listed in `consumers`. Absent: they are not limited. */
  readonly default?: BudgetLimit;
  /**
   * Per consumer: `consumer` is the API key id (the `x-api-key` value in the dev server). A list
   * rather than a map because deployed key ids are CloudFormation tokens, which cannot be keys.
   */
  readonly consumers?: ReadonlyArray<BudgetLimit & { readonly consumer: string }>;
}

const tables = new WeakMap<NodeJS.ProcessEnv, ModelTable>();

/** The alias table of `source`, parsed once per environment object. */
export function readModelTable(source: NodeJS.ProcessEnv): ModelTable {
  let table = tables.get(source);
  if (table === undefined) {
    table = parseModelTable(source[AI_MODELS]);
    tables.set(source, table);
  }
  return table;
}

export function parseModelTable(raw: string | undefined): ModelTable {
  if (!raw) throw new Error(`${AI_MODELS} is required: a JSON alias table`);
  const table = JSON.parse(raw) as Record<string, ModelTargetConfig>;
  for (const [alias, target] of Object.entries(table)) {
    if (!['bedrock', 'openai', 'local'].includes(target.provider)) throw new Error(`${AI_MODELS}.${alias}.provider must be bedrock, openai or local`);
    for (const f of target.fallbacks ?? []) if (!Object.prototype.hasOwnProperty.call(table, f)) throw new Error(`${AI_MODELS}.${alias}.fallbacks names unknown alias "${f}"`);
  }
  return table;
}

/** One step of an alias's chain: the alias, its target and the request with the alias's defaults applied. */
export interface ResolvedTarget {
  readonly alias: string;
  readonly target: ModelTargetConfig;
  /** Provider and model, e.g. `bedrock:anthropic.claude-3-haiku`: what the cache keys on. */
  readonly id: string;
}

/** The alias and then its fallbacks, in order, each once. */
export function resolveChain(table: ModelTable, alias: string): ResolvedTarget[] {
  if (!Object.prototype.hasOwnProperty.call(table, alias)) {
    throw new AiError(404, 'invalid_request_error', `The model \`${alias}\` does not exist; available: ${Object.keys(table).join(', ')}`, 'model_not_found', 'model');
  }
  const chain: ResolvedTarget[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const target = table[name];
    chain.push({ alias: name, target, id: `${target.provider}:${target.model ?? 'local'}` });
  };
  visit(alias);
  for (const f of table[alias].fallbacks ?? []) visit(f);
  return chain;
}

/** The request with the alias's defaults filled in where the request left a setting out. */
export function withAliasDefaults(request: ChatRequest, defaults: AliasDefaults | undefined): ChatRequest {
  if (!defaults) return request;
  return {
    ...request,
    temperature: request.temperature ?? defaults.temperature,
    max_tokens: request.max_tokens ?? defaults.max_tokens,
    top_p: request.top_p ?? defaults.top_p,
  };
}

export function readBudgets(source: NodeJS.ProcessEnv): BudgetConfig | undefined {
  const raw = source[AI_BUDGETS];
  if (!raw) return undefined;
  return JSON.parse(raw) as BudgetConfig;
}

export function readCacheStore(source: NodeJS.ProcessEnv): AiCacheStore {
  const raw = source[AI_CACHE_STORE] || 'memory';
  if (!(AI_CACHE_STORES as readonly string[]).includes(raw)) throw new Error(`${AI_CACHE_STORE} must be one of ${AI_CACHE_STORES.join(', ')}, got "${raw}"`);
  return raw as AiCacheStore;
}

export function readNumber(source: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  return value;
}
