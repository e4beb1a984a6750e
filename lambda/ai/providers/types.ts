import type { ModelTargetConfig } from '../config';
import { AiError, ChatRequest, CompletionResult } from '../format';

/** One call of a provider: the request (alias defaults applied), the alias's target, and where streamed text goes. */
export interface ProviderCall {
  readonly request: ChatRequest;
  readonly target: ModelTargetConfig;
  /** Called with each piece of text as it arrives; absent for a non-streamed call. */
  readonly onDelta?: (text: string) => void;
  readonly signal: AbortSignal;
  /** The process environment of the invocation (upstream keys in local runs). */
  readonly env: NodeJS.ProcessEnv;
}

/** A model provider behind the unified format. */
export type Provider = (call: ProviderCall) => Promise<CompletionResult>;

/**
 * A failed upstream call. `retryable` ones (throttling, 5xx, timeouts, network) move on to the
 * alias's next fallback; others answer the caller at once.
 */
export class UpstreamError extends AiError {
  constructor(
    status: number,
    type: string,
    message: string,
    readonly retryable: boolean,
    code: string | null = null,
  ) {
    super(status, type, message, code);
    this.name = 'UpstreamError';
  }
}

/** The error a caller sees when the upstream throttled or failed (after every fallback). */
export function upstreamFailure(status: number, detail: string): UpstreamError {
  if (status === 429) return new UpstreamError(429, 'rate_limit_error', `The model provider is throttling requests: ${detail}`, true, 'upstream_throttled');
  if (status === 504) return new UpstreamError(504, 'api_error', `The model provider did not answer in time: ${detail}`, true, 'upstream_timeout');
  return new UpstreamError(502, 'api_error', `The model provider failed: ${detail}`, true, 'upstream_error');
}

/** Rough token count for providers that do not report one (about four characters a token). */
export function estimateTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}
