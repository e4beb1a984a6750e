import {
  BedrockRuntimeClient,
  ContentBlock,
  ConverseCommand,
  ConverseCommandInput,
  ConverseStreamCommand,
  Message,
  StopReason,
  SystemContentBlock,
  Tool,
  ToolChoice,
  ToolConfiguration,
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

/** An OpenAI tool call as the unified format carries it. */
interface OpenAiToolCall {
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/** OpenAI `tools` and `tool_choice` as Converse's toolConfig. */
function toolConfig(request: ChatRequest): ToolConfiguration | undefined {
  if (!request.tools?.length) return undefined;
  const tools: Tool[] = request.tools.map((t, i) => {
    const fn = (t as { type?: string; function?: { name?: string; description?: string; parameters?: unknown } }).function;
    if ((t as { type?: string }).type !== 'function' || !fn?.name) throw invalidRequest(`tools[${i}] must be a function tool with a name`, `tools[${i}]`);
    return { toolSpec: { name: fn.name, description: fn.description, inputSchema: { json: (fn.parameters ?? { type: 'object', properties: {} }) as never } } };
  });
  const choice = request.tool_choice;
  let toolChoice: ToolChoice | undefined;
  if (choice === undefined || choice === null || choice === 'auto') toolChoice = { auto: {} };
  else if (choice === 'required') toolChoice = { any: {} };
  else if (typeof choice === 'object' && typeof (choice as { function?: { name?: unknown } }).function?.name === 'string') {
    toolChoice = { tool: { name: (choice as { function: { name: string } }).function.name } };
  } else throw invalidRequest('tool_choice must be auto, required or a named function for Bedrock models', 'tool_choice', 'unsupported_value');
  return { tools, toolChoice };
}

/** The content blocks of one unified message. */
function contentBlocks(m: ChatRequest['messages'][number], param: string): ContentBlock[] {
  if (m.role === 'tool') {
    if (!m.tool_call_id) throw invalidRequest(`${param}.tool_call_id is required for tool messages`, `${param}.tool_call_id`);
    return [{ toolResult: { toolUseId: m.tool_call_id, content: [{ text: m.content ?? '' }] } }];
  }
  const blocks: ContentBlock[] = m.content ? [{ text: m.content }] : [];
  for (const call of (m.tool_calls ?? []) as OpenAiToolCall[]) {
    let input: unknown;
    try {
      input = JSON.parse(call.function?.arguments || '{}');
    } catch {
      throw invalidRequest(`${param}.tool_calls: arguments must be JSON`, `${param}.tool_calls`);
    }
    blocks.push({ toolUse: { toolUseId: call.id, name: call.function?.name, input: input as never } });
  }
  return blocks;
}

/** The Converse input of a unified request. */
export function converseInput(request: ChatRequest, modelId: string): ConverseCommandInput {
  if (request.response_format && request.response_format.type !== 'text') {
    throw invalidRequest('response_format is not supported for Bedrock models by this gateway yet', 'response_format', 'unsupported_parameter');
  }
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  for (const [i, m] of request.messages.entries()) {
    if (m.role === 'system' || m.role === 'developer') {
      system.push({ text: m.content ?? '' });
      continue;
    }
    // Tool results go back to the model in a user turn.
    const role = m.role === 'assistant' ? 'assistant' : 'user';
    const content = contentBlocks(m, `messages[${i}]`);
    const last = messages[messages.length - 1];
    // Converse wants alternating turns: consecutive messages of one role become one turn.
    if (last?.role === role) (last.content as ContentBlock[]).push(...content);
    else messages.push({ role, content });
  }
  if (messages[0]?.role !== 'user') throw invalidRequest('Bedrock models need the first non-system message to be from the user', 'messages');
  const tools = toolConfig(request);
  return {
    modelId,
    messages,
    ...(system.length ? { system } : {}),
    ...(tools ? { toolConfig: tools } : {}),
    inferenceConfig: {
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      stopSequences: request.stop ? [...request.stop] : undefined,
    },
  };
}

/** Converse tool uses as OpenAI tool calls. */
function toolCalls(uses: Array<{ toolUseId?: string; name?: string; input: string }>): CompletionResult['tool_calls'] {
  if (uses.length === 0) return undefined;
  return uses.map((u) => ({ id: u.toolUseId, type: 'function', function: { name: u.name, arguments: u.input } }));
}

/** Amazon Bedrock through the Converse and ConverseStream APIs (IAM auth, no secrets). */
export const bedrock: Provider = async ({ request, target, onDelta, signal }) => {
  if (target.provider !== 'bedrock') throw new Error('bedrock called for another provider');
  const input = converseInput(request, target.model);
  const served_by = `bedrock:${target.model}`;
  try {
    if (onDelta === undefined) {
      const out = await client(target.region).send(new ConverseCommand(input), { abortSignal: signal });
      const blocks = out.output?.message?.content ?? [];
      const content = blocks.map((b) => b.text ?? '').join('');
      const calls = toolCalls(blocks.filter((b) => b.toolUse).map((b) => ({ ...b.toolUse!, input: JSON.stringify(b.toolUse!.input ?? {}) })));
      return {
        content,
        finish_reason: finishReason(out.stopReason),
        usage: usageOf(out.usage?.inputTokens ?? 0, out.usage?.outputTokens ?? estimateTokens(content)),
        ...(calls ? { tool_calls: calls } : {}),
        served_by,
      };
    }
    const out = await client(target.region).send(new ConverseStreamCommand(input), { abortSignal: signal });
    let content = '';
    let stop: StopReason | string | undefined;
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    // Tool uses arrive as a start (id, name) then input fragments, per content block.
    const uses = new Map<number, { toolUseId?: string; name?: string; input: string }>();
    for await (const event of out.stream ?? []) {
      const start = event.contentBlockStart?.start?.toolUse;
      if (start) uses.set(event.contentBlockStart!.contentBlockIndex ?? 0, { toolUseId: start.toolUseId, name: start.name, input: '' });
      const fragment = event.contentBlockDelta?.delta?.toolUse?.input;
      if (fragment !== undefined) {
        const use = uses.get(event.contentBlockDelta!.contentBlockIndex ?? 0);
        if (use) use.input += fragment;
      }
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
    const calls = toolCalls([...uses.values()].map((u) => ({ ...u, input: u.input || '{}' })));
    return {
      content,
      finish_reason: finishReason(stop),
      usage: usageOf(usage?.inputTokens ?? 0, usage?.outputTokens ?? estimateTokens(content)),
      ...(calls ? { tool_calls: calls } : {}),
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
