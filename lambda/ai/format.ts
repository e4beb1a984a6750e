/**
 * The unified request and answer format of the model routes: OpenAI chat completions
 * (https://platform.openai.com/docs/api-reference/chat), whatever provider serves the model.
 * Requests are checked here and answered with OpenAI-style error bodies, so every OpenAI
 * client library works unchanged.
 */

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

/** One message. Content parts other than text are refused (no provider here takes images yet). */
export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string | null;
  readonly name?: string;
  readonly tool_call_id?: string;
  readonly tool_calls?: readonly unknown[];
}

/** A checked chat-completions request. */
export interface ChatRequest {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_tokens?: number;
  readonly stop?: readonly string[];
  readonly stream: boolean;
  readonly include_usage: boolean;
  /** Passed through to providers that have them (OpenAI-compatible upstreams). */
  readonly tools?: readonly unknown[];
  readonly tool_choice?: unknown;
  readonly response_format?: { readonly type: string; readonly [k: string]: unknown };
}

/** What a provider answered, in the unified format's terms. */
export interface CompletionResult {
  readonly content: string;
  readonly finish_reason: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  readonly usage: Usage;
  readonly tool_calls?: readonly unknown[];
  /** The provider model that answered (after fallbacks). */
  readonly served_by: string;
}

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** An answer in OpenAI's error format, with its HTTP status. */
export class AiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AiError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalidRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new AiError(400, 'invalid_request_error', message, code, param);

const ROLES: readonly ChatRole[] = ['system', 'developer', 'user', 'assistant', 'tool'];
/** Fields a request may carry; anything else is refused rather than silently ignored. */
const KNOWN_FIELDS = new Set([
  'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'stop', 'stream', 'stream_options',
  'tools', 'tool_choice', 'response_format', 'n', 'user', 'metadata', 'seed', 'presence_penalty', 'frequency_penalty',
  'parallel_tool_calls', 'store',
]);

/** Parses and checks a request body; throws an AiError (400) naming the offending field. */
export function parseChatRequest(body: string | null | undefined): ChatRequest {
  if (body === null || body === undefined || body.trim() === '') throw invalidRequest('The request body is empty; send a JSON chat-completions request');
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw invalidRequest('The request body is not valid JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest('The request body must be a JSON object');
  const r = raw as Record<string, unknown>;
  for (const field of Object.keys(r)) {
    if (!KNOWN_FIELDS.has(field)) throw invalidRequest(`Unrecognized request argument supplied: ${field}`, field, 'unknown_parameter');
  }
  if (typeof r.model !== 'string' || r.model === '') throw invalidRequest('model must be a non-empty string', 'model');
  if (!Array.isArray(r.messages) || r.messages.length === 0) throw invalidRequest('messages must be a non-empty array', 'messages');
  const messages = r.messages.map((m, i) => parseMessage(m, `messages[${i}]`));
  if (r.n !== undefined && r.n !== 1) throw invalidRequest('Only n=1 is supported', 'n', 'unsupported_value');
  const temperature = optionalNumber(r.temperature, 'temperature', 0, 2);
  const top_p = optionalNumber(r.top_p, 'top_p', 0, 1);
  const maxTokens = r.max_completion_tokens ?? r.max_tokens;
  const max_tokens = optionalNumber(maxTokens, r.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens', 1, 1_000_000);
  if (max_tokens !== undefined && !Number.isInteger(max_tokens)) throw invalidRequest('max_tokens must be an integer', 'max_tokens');
  let stop: string[] | undefined;
  if (typeof r.stop === 'string') stop = [r.stop];
  else if (Array.isArray(r.stop) && r.stop.length <= 4 && r.stop.every((s) => typeof s === 'string')) stop = r.stop as string[];
  else if (r.stop !== undefined && r.stop !== null) throw invalidRequest('stop must be a string or an array of up to 4 strings', 'stop');
  if (r.stream !== undefined && r.stream !== null && typeof r.stream !== 'boolean') throw invalidRequest('stream must be a boolean', 'stream');
  const streamOptions = r.stream_options as { include_usage?: unknown } | undefined | null;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) {
    throw invalidRequest('stream_options must be an object', 'stream_options');
  }
  if (r.tools !== undefined && !Array.isArray(r.tools)) throw invalidRequest('tools must be an array', 'tools');
  const format = r.response_format as ChatRequest['response_format'] | undefined | null;
  if (format !== undefined && format !== null && (typeof format !== 'object' || !['text', 'json_object', 'json_schema'].includes(format.type))) {
    throw invalidRequest('response_format.type must be one of text, json_object, json_schema', 'response_format');
  }
  return {
    model: r.model,
    messages,
    temperature,
    top_p,
    max_tokens,
    stop,
    stream: r.stream === true,
    include_usage: streamOptions?.include_usage === true,
    tools: r.tools as unknown[] | undefined,
    tool_choice: r.tool_choice,
    response_format: format ?? undefined,
  };
}

function parseMessage(m: unknown, param: string): ChatMessage {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw invalidRequest(`${param} must be an object`, param);
  const msg = m as Record<string, unknown>;
  if (!ROLES.includes(msg.role as ChatRole)) throw invalidRequest(`${param}.role must be one of ${ROLES.join(', ')}`, `${param}.role`);
  let content: string | null;
  if (typeof msg.content === 'string') content = msg.content;
  else if (msg.content === null || msg.content === undefined) content = null;
  else if (Array.isArray(msg.content)) {
    // Text parts are joined; other part types are refused by name.
    content = msg.content
      .map((part, i) => {
        const p = part as { type?: unknown; text?: unknown };
        if (p?.type !== 'text' || typeof p.text !== 'string') {
          throw invalidRequest(`${param}.content[${i}]: only text parts are supported`, `${param}.content[${i}]`, 'unsupported_value');
        }
        return p.text;
      })
      .join('');
  } else throw invalidRequest(`${param}.content must be a string, an array of text parts or null`, `${param}.content`);
  if (content === null && msg.role !== 'assistant') throw invalidRequest(`${param}.content is required for role ${String(msg.role)}`, `${param}.content`);
  return {
    role: msg.role as ChatRole,
    content,
    ...(typeof msg.name === 'string' ? { name: msg.name } : {}),
    ...(typeof msg.tool_call_id === 'string' ? { tool_call_id: msg.tool_call_id } : {}),
    ...(Array.isArray(msg.tool_calls) ? { tool_calls: msg.tool_calls } : {}),
  };
}

function optionalNumber(value: unknown, param: string, min: number, max: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalidRequest(`${param} must be a number from ${min} to ${max}`, param);
  }
  return value;
}

/** A `chat.completion` object. */
export function completionBody(id: string, created: number, model: string, result: CompletionResult): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: result.content, ...(result.tool_calls ? { tool_calls: result.tool_calls } : {}) },
        logprobs: null,
        finish_reason: result.finish_reason,
      },
    ],
    usage: result.usage,
  };
}

/** One `chat.completion.chunk` as an SSE `data:` event. */
export function chunkEvent(id: string, created: number, model: string, delta: Record<string, unknown>, finishReason: string | null, usage?: Usage | null): string {
  const chunk: Record<string, unknown> = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: usage && Object.keys(delta).length === 0 && finishReason === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (usage !== undefined) chunk.usage = usage;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export const DONE_EVENT = 'data: [DONE]\n\n';

export function usageOf(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
