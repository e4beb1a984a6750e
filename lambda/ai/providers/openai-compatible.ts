import * as http from 'node:http';
import * as https from 'node:https';
import { AiError, ChatRequest, CompletionResult, usageOf } from '../format';

/** The parts of an HTTP answer this provider reads. */
interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  json(): Promise<unknown>;
  readonly body: AsyncIterable<Uint8Array>;
}

/** Keep-alive agents for the container's life: each call reuses a warm connection. */
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/**
 * POSTs JSON with node:http(s) rather than fetch: measured through the dev server, undici's
 * fetch added 2 to 30 ms per upstream call on a loaded machine where http.request added < 1 ms
 * (bench/ai.bench.ts), and the answer is a plain Node stream for SSE.
 */
function postJson(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<UpstreamResponse> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      { method: 'POST', agent: agents[target.protocol as 'http:' | 'https:'], headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, signal },
      (res) => {
        const status = res.statusCode ?? 0;
        resolve({
          status,
          ok: status >= 200 && status < 300,
          body: res,
          json: async () => {
            const chunks: Buffer[] = [];
            for await (const chunk of res) chunks.push(chunk as Buffer);
            return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
          },
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
import { estimateTokens, Provider, upstreamFailure, UpstreamError } from './types';

/** Upstream keys read from Secrets Manager, per secret ARN, for the container's life. */
const secretKeys = new Map<string, Promise<string>>();

/** Reads the key from Secrets Manager (deployed) or from a named variable (local runs); never from a literal. */
async function upstreamKey(target: { apiKeySecretArn?: string; apiKeyEnv?: string }, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (target.apiKeySecretArn) {
    const arn = target.apiKeySecretArn;
    let pending = secretKeys.get(arn);
    if (pending === undefined) {
      pending = (async () => {
        const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
        const out = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: arn }));
        if (!out.SecretString) throw new Error(`Secret ${arn} has no SecretString`);
        return out.SecretString.trim();
      })();
      // A failed read is retried by the next request rather than remembered.
      pending.catch(() => secretKeys.delete(arn));
      secretKeys.set(arn, pending);
    }
    return pending;
  }
  if (target.apiKeyEnv) return env[target.apiKeyEnv] || undefined;
  return undefined;
}

/** Forgets the keys read from Secrets Manager (tests, key rotation). */
export function forgetUpstreamKeys(): void {
  secretKeys.clear();
}

/** The request body an OpenAI-compatible server receives: the unified request, model replaced. */
function upstreamBody(request: ChatRequest, model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: request.messages,
    temperature: request.temperature,
    top_p: request.top_p,
    max_tokens: request.max_tokens,
    stop: request.stop,
    tools: request.tools,
    tool_choice: request.tool_choice,
    response_format: request.response_format,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/** Any server speaking the OpenAI chat-completions API (OpenAI, vLLM, Ollama, LiteLLM, llama.cpp …). */
export const openAiCompatible: Provider = async ({ request, target, onDelta, signal, env }) => {
  if (target.provider !== 'openai') throw new Error('openAiCompatible called for another provider');
  const key = await upstreamKey(target, env);
  const url = `${target.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  let response: UpstreamResponse;
  try {
    response = await postJson(
      url,
      { 'content-type': 'application/json', accept: onDelta ? 'text/event-stream' : 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      upstreamBody(request, target.model, onDelta !== undefined),
      signal,
    );
  } catch (error) {
    if (signal.aborted) throw upstreamFailure(504, `no answer from ${target.baseUrl}`);
    throw upstreamFailure(502, `cannot reach ${target.baseUrl}: ${(error as Error).message}`);
  }
  if (!response.ok) throw await upstreamHttpError(response);
  const served_by = `openai:${target.model}`;
  if (onDelta === undefined) {
    let body: {
      choices?: Array<{ message?: { content?: string | null; tool_calls?: unknown[] }; finish_reason?: string }>;
      usage?: { prompt_tokens?: number; completion_tokens?: number };
    };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      if (signal.aborted) throw upstreamFailure(504, `no complete answer from ${target.baseUrl}`);
      throw upstreamFailure(502, `unreadable answer: ${(error as Error).message}`);
    }
    const choice = body.choices?.[0];
    if (!choice) throw upstreamFailure(502, 'the answer has no choices');
    const content = choice.message?.content ?? '';
    return {
      content,
      finish_reason: finishReason(choice.finish_reason),
      usage: usageOf(body.usage?.prompt_tokens ?? 0, body.usage?.completion_tokens ?? estimateTokens(content)),
      ...(choice.message?.tool_calls ? { tool_calls: choice.message.tool_calls } : {}),
      served_by,
    };
  }
  return readStream(response, onDelta, served_by, signal);
};

async function upstreamHttpError(response: UpstreamResponse): Promise<AiError> {
  let detail = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: string; type?: string; code?: string } };
    if (body.error?.message) detail = body.error.message;
    if (response.status < 500 && response.status !== 429 && response.status !== 408) {
      // The caller's mistake (bad parameter, context too long): passed on as the upstream said it.
      const status = response.status === 401 || response.status === 403 ? 502 : response.status;
      return new UpstreamError(status, status === 502 ? 'api_error' : body.error?.type ?? 'invalid_request_error', `Upstream: ${detail}`, false, body.error?.code ?? null);
    }
  } catch {
    // A body that is not JSON: the status alone says enough.
  }
  if (response.status === 401 || response.status === 403) return new UpstreamError(502, 'api_error', `The gateway's upstream key was refused: ${detail}`, false);
  return upstreamFailure(response.status === 429 ? 429 : response.status === 408 ? 504 : 502, detail);
}

interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/** Reads an SSE answer, passing each text delta on, and returns the whole completion. */
async function readStream(response: UpstreamResponse, onDelta: (text: string) => void, served_by: string, signal: AbortSignal): Promise<CompletionResult> {
  const decoder = new TextDecoder();
  let buffer = '';
  let content = '';
  let finish: string | undefined;
  let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
  const toolCalls: Array<{ id?: string; type: string; function: { name: string; arguments: string } }> = [];
  let done = false;
  const handle = (data: string) => {
    if (data === '[DONE]') {
      done = true;
      return;
    }
    let chunk: { choices?: Array<{ delta?: { content?: string | null; tool_calls?: ToolCallDelta[] }; finish_reason?: string | null }>; usage?: typeof usage; error?: { message?: string } };
    try {
      chunk = JSON.parse(data);
    } catch {
      throw upstreamFailure(502, 'a malformed stream event');
    }
    if (chunk.error) throw upstreamFailure(502, chunk.error.message ?? 'error event in the stream');
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content;
    if (text) {
      content += text;
      onDelta(text);
    }
    for (const t of choice?.delta?.tool_calls ?? []) {
      const slot = (toolCalls[t.index] ??= { type: 'function', function: { name: '', arguments: '' } });
      if (t.id) slot.id = t.id;
      if (t.function?.name) slot.function.name += t.function.name;
      if (t.function?.arguments) slot.function.arguments += t.function.arguments;
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
  };
  const reader = response.body[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await reader.next();
    } catch (error) {
      // The connection dropped mid-answer ("aborted"): a provider failure, not the gateway's.
      throw signal.aborted ? upstreamFailure(504, 'the stream stopped before the answer was complete') : upstreamFailure(502, `the stream broke off: ${(error as Error).message}`);
    }
    if (next.done) break;
    buffer += decoder.decode(next.value, { stream: true });
    let end: number;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) handle(data);
    }
  }
  if (!done && finish === undefined) throw upstreamFailure(502, 'the stream ended before the answer was complete');
  return {
    content,
    finish_reason: finishReason(finish),
    usage: usageOf(usage?.prompt_tokens ?? 0, usage?.completion_tokens ?? estimateTokens(content)),
    ...(toolCalls.length ? { tool_calls: toolCalls.filter(Boolean) } : {}),
    served_by,
  };
}

function finishReason(reason: string | null | undefined): CompletionResult['finish_reason'] {
  return reason === 'length' || reason === 'tool_calls' || reason === 'content_filter' ? reason : 'stop';
}
