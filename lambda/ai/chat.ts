import { createHash, randomBytes } from 'node:crypto';
import type { CacheClient } from '../runtime/cache/cache-aside';
import { budgetHeaders, BudgetState, charge, checkBudget, UsageCounter } from './budget';
import { BudgetConfig, ModelTable, ResolvedTarget, resolveChain, withAliasDefaults } from './config';
import { AiError, ChatRequest, chunkEvent, completionBody, CompletionResult, DONE_EVENT } from './format';
import { AiCacheOutcome, AiRequestRecord } from './metrics';
import { providerFor } from './providers';
import { UpstreamError } from './providers/types';

/** Request header: `cache` opts a non-deterministic request in to the answer cache, `no-store` opts any request out. */
export const CACHE_CONTROL_HEADER = 'x-ai-cache-control';
/** Response header: how the answer was served (`hit`, `miss`, `coalesced`, `bypass`). */
export const CACHE_STATUS_HEADER = 'X-AI-Cache';

/** Where an answer goes: a JSON body, or an SSE stream once `begin` was called. */
export interface ChatOutput {
  json(status: number, headers: Record<string, string>, body: unknown): void;
  begin(headers: Record<string, string>): void;
  write(event: string): void;
  end(): void;
  readonly started: boolean;
}

/** What a chat call needs besides the request. */
export interface ChatDeps {
  readonly models: ModelTable;
  /** The answer cache (single-flight included); undefined caches nothing. */
  readonly cache?: CacheClient;
  readonly cacheTtlSeconds: number;
  readonly counter: UsageCounter;
  readonly budgets?: BudgetConfig;
  readonly upstreamTimeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
  readonly now?: () => number;
}

export interface ChatCall {
  readonly request: ChatRequest;
  readonly consumer: string;
  /** Value of the x-ai-cache-control request header. */
  readonly cacheControl?: string;
  readonly requestId?: string;
}

/**
 * The cache key of a request: a hash of its normalised form - the alias resolved to provider
 * and model, message text with whitespace runs collapsed and trimmed, and only the fields that
 * change the answer (stream, stream_options, user, metadata dropped).
 */
export function chatCacheKey(request: ChatRequest, target: ResolvedTarget): string {
  const normal = {
    model: target.id,
    messages: request.messages.map((m) => [m.role, m.content === null ? null : m.content.replace(/\s+/g, ' ').trim(), m.name ?? null, m.tool_call_id ?? null, m.tool_calls ?? null]),
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    max_tokens: request.max_tokens ?? null,
    stop: request.stop ?? null,
    tools: request.tools ?? null,
    tool_choice: request.tool_choice ?? null,
    response_format: request.response_format ?? null,
  };
  return `chat:${createHash('sha256').update(JSON.stringify(normal)).digest('base64url')}`;
}

/** Deterministic requests (temperature 0 after the alias defaults) are cached, others only on explicit opt-in. */
export function isCacheable(request: ChatRequest, cacheControl: string | undefined): boolean {
  const directive = cacheControl?.trim().toLowerCase();
  if (directive === 'no-store') return false;
  if (directive === 'cache') return true;
  return request.temperature === 0;
}

/** Serves one chat-completions request to `out`; resolves to its metrics record. Never throws. */
export async function serveChat(call: ChatCall, out: ChatOutput, deps: ChatDeps): Promise<AiRequestRecord> {
  const now = deps.now ?? Date.now;
  const { request, consumer } = call;
  let throttles = 0;
  let upstreamMs: number | undefined;
  let outcome: AiCacheOutcome | 'rejected' = 'rejected';
  let budgetRejected = false;
  const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
  const created = Math.floor(now() / 1000);
  try {
    const chain = resolveChain(deps.models, request.model);
    const effective = withAliasDefaults(request, chain[0].target.defaults);
    let budget: BudgetState | undefined;
    try {
      budget = await checkBudget(deps.counter, deps.budgets, consumer, now());
    } catch (error) {
      budgetRejected = error instanceof AiError && error.status === 429;
      if (error instanceof AiError) throw error;
      // The counter store failed: the request goes on unmetered rather than every caller failing.
      warn('Budget check failed; request served without it', call.requestId, error);
    }
    const cacheable = deps.cache !== undefined && isCacheable(effective, call.cacheControl);
    const headers = (status: AiCacheOutcome, result?: CompletionResult, used?: number): Record<string, string> => ({
      'Cache-Control': 'no-store',
      [CACHE_STATUS_HEADER]: status,
      ...(result ? { 'X-AI-Served-By': result.served_by } : {}),
      ...(result && (status === 'hit' || status === 'coalesced') ? { 'X-AI-Tokens-Saved': String(result.usage.total_tokens) } : {}),
      ...(budget ? budgetHeaders(budget, used) : {}),
    });

    let leader = false;
    const load = async (): Promise<CompletionResult> => {
      leader = true;
      const started = performance.now();
      const onDelta = request.stream
        ? (text: string) => {
            if (!out.started) {
              out.begin(headers(cacheable ? 'miss' : 'bypass'));
              out.write(chunkEvent(id, created, request.model, { role: 'assistant', content: '' }, null));
            }
            out.write(chunkEvent(id, created, request.model, { content: text }, null));
          }
        : undefined;
      try {
        return await callWithFallbacks(chain, request, deps, onDelta, () => throttles++);
      } finally {
        upstreamMs = performance.now() - started;
      }
    };

    let result: CompletionResult;
    if (cacheable) {
      const got = await deps.cache!.getWithOutcome(chatCacheKey(effective, chain[0]), load, { ttlSeconds: deps.cacheTtlSeconds });
      result = got.value as CompletionResult;
      outcome = leader ? (got.outcome === 'error' || got.outcome === 'bypass' ? 'error' : 'miss') : got.outcome === 'hit' || got.outcome === 'stale' ? 'hit' : 'coalesced';
    } else {
      result = await load();
      outcome = 'bypass';
    }
    // Only a call that reached the upstream spends budget; cached and shared answers are free.
    let used = budget?.used;
    if (leader && budget) {
      // The answer exists and is paid for: a failed charge is logged, never turned into an error.
      used = await charge(deps.counter, budget, result.usage.total_tokens).catch((error: unknown) => {
        warn(`Budget charge of ${result.usage.total_tokens} tokens for ${consumer} failed`, call.requestId, error);
        return budget.used;
      });
    }
    const status = outcome === 'error' ? 'miss' : outcome;
    if (request.stream) {
      if (!out.started) {
        out.begin(headers(status, result, used));
        out.write(chunkEvent(id, created, request.model, { role: 'assistant', content: '' }, null));
        // A cached answer is replayed in pieces, as a stream would have carried it.
        for (const piece of result.content.match(/[\s\S]{1,48}/g) ?? []) out.write(chunkEvent(id, created, request.model, { content: piece }, null));
      }
      if (result.tool_calls) {
        const calls = result.tool_calls.map((c, index) => ({ index, ...(c as object) }));
        out.write(chunkEvent(id, created, request.model, { tool_calls: calls }, null));
      }
      out.write(chunkEvent(id, created, request.model, {}, result.finish_reason));
      if (request.include_usage) out.write(chunkEvent(id, created, request.model, {}, null, result.usage));
      out.write(DONE_EVENT);
      out.end();
    } else {
      out.json(200, headers(status, result, used), completionBody(id, created, request.model, result));
    }
    const fromUpstream = outcome === 'miss' || outcome === 'bypass' || outcome === 'error';
    return {
      alias: request.model,
      consumer,
      outcome,
      status: 200,
      servedBy: result.served_by,
      inputTokens: fromUpstream ? result.usage.prompt_tokens : 0,
      outputTokens: fromUpstream ? result.usage.completion_tokens : 0,
      tokensSaved: fromUpstream ? 0 : result.usage.total_tokens,
      upstreamMs,
      throttles,
      stream: request.stream,
      requestId: call.requestId,
    };
  } catch (error) {
    const failure =
      error instanceof AiError
        ? error
        : new AiError(500, 'api_error', 'The gateway failed to serve the request', 'internal_error');
    if (!(error instanceof AiError)) {
      console.error(JSON.stringify({ level: 'ERROR', message: 'Model route failed', requestId: call.requestId, error: String((error as Error)?.stack ?? error) }));
    }
    if (out.started) {
      // Headers are gone: the stream carries the error, as OpenAI's API does mid-stream.
      out.write(`data: ${JSON.stringify(failure.body())}\n\n`);
      out.end();
    } else {
      out.json(failure.status, { 'Cache-Control': 'no-store', ...failure.headers }, failure.body());
    }
    return {
      alias: request.model,
      consumer,
      outcome: outcome === 'rejected' ? 'rejected' : outcome,
      status: failure.status,
      upstreamMs,
      throttles,
      budgetRejected,
      stream: request.stream,
      requestId: call.requestId,
    };
  }
}

function warn(message: string, requestId: string | undefined, error: unknown): void {
  console.error(JSON.stringify({ level: 'WARN', message, requestId, error: String((error as Error)?.message ?? error) }));
}

/**
 * Calls the alias's target, then its fallbacks in order while the failure is retryable
 * (throttling, 5xx, timeout) and nothing has been streamed to the caller yet.
 */
async function callWithFallbacks(
  chain: readonly ResolvedTarget[],
  request: ChatRequest,
  deps: ChatDeps,
  onDelta: ((text: string) => void) | undefined,
  onRetryable: () => void,
): Promise<CompletionResult> {
  let last: Error | undefined;
  for (const step of chain) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('upstream timeout')), deps.upstreamTimeoutMs);
    let streamed = false;
    try {
      return await providerFor(step.target)({
        request: withAliasDefaults(request, step.target.defaults),
        target: step.target,
        onDelta: onDelta && ((text) => ((streamed = true), onDelta(text))),
        signal: controller.signal,
        env: deps.env,
      });
    } catch (error) {
      if (!(error instanceof UpstreamError) || !error.retryable || streamed) throw error;
      onRetryable();
      last = error;
    } finally {
      clearTimeout(timer);
    }
  }
  throw last ?? new Error('empty model chain');
}
