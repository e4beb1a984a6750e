import {
  BedrockRuntimeClient,
  ContentBlock,
  ConverseCommand,
  ConverseCommandInput,
  ConverseStreamCommand,
  Message,
  StopReason,
  SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { ChatRequest, CompletionResult, invalidRequest, usageOf } from '../format';
import { estimateTokens, Provider, upstreamFailure, UpstreamError } from './types';

/** One client per region, for the container's life (it keeps its connections). */
const clients = new Map<string, BedrockRuntimeClient>();

function client(region: string | undefined): BedrockRuntimeClient {
  const key = region ?? '';
  let c = clients.get(key);
  if (c === undefined) {
    c = new BedrockRuntimeClient(region ? { region } : {});
    clients.set(key, c);
  }
  return c;
}

/** The Converse input of a unified request. */
export function converseInput(request: ChatRequest, modelId: string): ConverseCommandInput {
  if (request.tools?.length) throw invalidRequest('tools are not supported for Bedrock models by this gateway yet; use an OpenAI-compatible alias', 'tools', 'unsupported_parameter');
  if (request.response_format && request.response_format.type !== 'text') {
    throw invalidRequest('response_format is not supported for Bedrock models by this gateway yet', 'response_format', 'unsupported_parameter');
  }
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  for (const m of request.messages) {
    const text = m.content ?? '';
    if (m.role === 'system' || m.role === 'developer') {
      system.push({ text });
      continue;
    }
    if (m.role === 'tool') throw invalidRequest('tool messages are not supported for Bedrock models by this gateway yet', 'messages', 'unsupported_value');
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const last = messages[messages.length - 1];
    // Converse wants alternating turns: consecutive messages of one role become one turn.
    if (last?.role === role) (last.content as ContentBlock[]).push({ text });
    else messages.push({ role, content: [{ text }] });
  }
  if (messages[0]?.role !== 'user') throw invalidRequest('Bedrock models need the first non-system message to be from the user', 'messages');
  return {
    modelId,
    messages,
    ...(system.length ? { system } : {}),
    inferenceConfig: {
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      stopSequences: request.stop ? [...request.stop] : undefined,
    },
  };
}

/** Amazon Bedrock through the Converse and ConverseStream APIs (IAM auth, no secrets). */
export const bedrock: Provider = async ({ request, target, onDelta, signal }) => {
  if (target.provider !== 'bedrock') throw new Error('bedrock called for another provider');
  const input = converseInput(request, target.model);
  const served_by = `bedrock:${target.model}`;
  try {
    if (onDelta === undefined) {
      const out = await client(target.region).send(new ConverseCommand(input), { abortSignal: signal });
      const content = (out.output?.message?.content ?? []).map((b) => b.text ?? '').join('');
      return {
        content,
        finish_reason: finishReason(out.stopReason),
        usage: usageOf(out.usage?.inputTokens ?? 0, out.usage?.outputTokens ?? estimateTokens(content)),
        served_by,
      };
    }
    const out = await client(target.region).send(new ConverseStreamCommand(input), { abortSignal: signal });
    let content = '';
    let stop: StopReason | string | undefined;
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const event of out.stream ?? []) {
      const text = event.contentBlockDelta?.delta?.text;
      if (text) {
        content += text;
        onDelta(text);
      }
      if (event.messageStop) stop = event.messageStop.stopReason;
      if (event.metadata?.usage) usage = event.metadata.usage;
      const failure = event.throttlingException ?? event.serviceUnavailableException ?? event.internalServerException ?? event.modelStreamErrorException;
      if (failure) throw failure;
    }
    return {
      content,
      finish_reason: finishReason(stop),
      usage: usageOf(usage?.inputTokens ?? 0, usage?.outputTokens ?? estimateTokens(content)),
      served_by,
    };
  } catch (error) {
    throw bedrockError(error, signal);
  }
};

const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelStreamErrorException', 'ModelTimeoutException']);

function bedrockError(error: unknown, signal: AbortSignal): Error {
  if (error instanceof UpstreamError) return error;
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (signal.aborted) return upstreamFailure(504, 'Bedrock did not answer in time');
  if (e.name === 'ThrottlingException' || e.$metadata?.httpStatusCode === 429) return upstreamFailure(429, e.message ?? 'ThrottlingException');
  if (RETRYABLE.has(e.name ?? '') || (e.$metadata?.httpStatusCode ?? 0) >= 500) return upstreamFailure(502, `${e.name}: ${e.message}`);
  if (e.name === 'ValidationException') return new UpstreamError(400, 'invalid_request_error', `Bedrock: ${e.message}`, false);
  if (e.name === 'AccessDeniedException' || e.name === 'ResourceNotFoundException') {
    return new UpstreamError(502, 'api_error', `Bedrock refused the gateway (${e.name}): ${e.message}`, false);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function finishReason(reason: StopReason | string | undefined): CompletionResult['finish_reason'] {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'content_filtered' || reason === 'guardrail_intervened') return 'content_filter';
  return 'stop';
}
