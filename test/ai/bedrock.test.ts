/** The Bedrock provider through a mocked BedrockRuntimeClient (Converse and ConverseStream cannot run here). */
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryCounter } from '../../lambda/ai/budget';
import { ChatDeps, serveChat } from '../../lambda/ai/chat';
import { ModelTable } from '../../lambda/ai/config';
import { parseChatRequest } from '../../lambda/ai/format';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { captureOutput } from './support/capture-output';

const bedrock = mockClient(BedrockRuntimeClient);
const models: ModelTable = {
  fast: { provider: 'bedrock', model: 'anthropic.claude-3-haiku-20240307-v1:0', region: 'us-east-1', defaults: { temperature: 0, max_tokens: 256 }, fallbacks: ['backup'] },
  backup: { provider: 'bedrock', model: 'amazon.nova-lite-v1:0', region: 'us-east-1' },
};

function deps(): ChatDeps {
  return {
    models,
    cache: new CacheClient({ store: new MemoryStore(), ttlSeconds: 60 }),
    cacheTtlSeconds: 60,
    counter: new MemoryCounter(),
    upstreamTimeoutMs: 5_000,
    env: {},
  };
}

const request = (extra: Record<string, unknown> = {}) =>
  parseChatRequest(
    JSON.stringify({
      model: 'fast',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello' },
        { role: 'user', content: 'Are you there?' },
        { role: 'assistant', content: 'Yes.' },
        { role: 'user', content: 'Good.' },
      ],
      ...extra,
    }),
  );

beforeEach(() => bedrock.reset());

test('Converse: system prompt apart, consecutive user turns merged, alias defaults as inference config; answer in the OpenAI format', async () => {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ text: 'Hi ' }, { text: 'there.' }] } },
    stopReason: 'max_tokens',
    usage: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
    metrics: { latencyMs: 5 },
  });
  const out = captureOutput();
  const record = await serveChat({ request: request(), consumer: 'c1' }, out, deps());
  const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input;
  expect(input).toEqual({
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
    system: [{ text: 'Be brief.' }],
    messages: [
      { role: 'user', content: [{ text: 'Hello' }, { text: 'Are you there?' }] },
      { role: 'assistant', content: [{ text: 'Yes.' }] },
      { role: 'user', content: [{ text: 'Good.' }] },
    ],
    inferenceConfig: { maxTokens: 256, temperature: 0, topP: undefined, stopSequences: undefined },
  });
  expect(out.status).toBe(200);
  expect(out.body.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'Hi there.' }, finish_reason: 'length' });
  expect(out.body.usage).toEqual({ prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 });
  expect(out.headers!['X-AI-Served-By']).toBe('bedrock:anthropic.claude-3-haiku-20240307-v1:0');
  expect(record).toMatchObject({ outcome: 'miss', inputTokens: 12, outputTokens: 3 });
});

test('ConverseStream: deltas become SSE chunks as they arrive, usage from the metadata event', async () => {
  bedrock.on(ConverseStreamCommand).resolves({
    stream: (async function* () {
      yield { messageStart: { role: 'assistant' } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'Streamed ' } } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { text: 'from Bedrock.' } } };
      yield { messageStop: { stopReason: 'end_turn' } };
      yield { metadata: { usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 }, metrics: { latencyMs: 3 } } };
    })() as never,
  });
  const out = captureOutput();
  await serveChat({ request: request({ stream: true, stream_options: { include_usage: true } }), consumer: 'c1' }, out, deps());
  expect(out.headers!['Content-Type']).toBeUndefined(); // the handler adds the SSE type; headers here are the gateway's own
  expect(out.text()).toBe('Streamed from Bedrock.');
  const last = out.events.filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
  expect(last.at(-2).choices[0].finish_reason).toBe('stop');
  expect(last.at(-1).usage).toEqual({ prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 });
  expect(out.events.at(-1)).toBe('data: [DONE]\n\n');
  expect(out.ended).toBe(true);
});

test('a throttled model falls back to the alias fallback; both model ids were called in order', async () => {
  bedrock
    .on(ConverseCommand, { modelId: 'anthropic.claude-3-haiku-20240307-v1:0' })
    .rejects(new ThrottlingException({ message: 'Too many requests', $metadata: {} }))
    .on(ConverseCommand, { modelId: 'amazon.nova-lite-v1:0' })
    .resolves({ output: { message: { role: 'assistant', content: [{ text: 'backup answer' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 1 } });
  const out = captureOutput();
  const record = await serveChat({ request: request(), consumer: 'c1' }, out, deps());
  expect(bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input.modelId)).toEqual(['anthropic.claude-3-haiku-20240307-v1:0', 'amazon.nova-lite-v1:0']);
  expect(out.body.choices[0].message.content).toBe('backup answer');
  expect(record.throttles).toBe(1);
});

test('throttled everywhere: 429 rate_limit_error; a validation error is a 400 with no fallback', async () => {
  bedrock.on(ConverseCommand).rejects(new ThrottlingException({ message: 'slow down', $metadata: {} }));
  const throttled = captureOutput();
  await serveChat({ request: request(), consumer: 'c1' }, throttled, deps());
  expect(throttled.status).toBe(429);
  expect(throttled.body.error).toMatchObject({ type: 'rate_limit_error', code: 'upstream_throttled' });

  bedrock.reset();
  bedrock.on(ConverseCommand).rejects(Object.assign(new Error('max_tokens exceeds the model limit'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
  const invalid = captureOutput();
  await serveChat({ request: request(), consumer: 'c1' }, invalid, deps());
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.type).toBe('invalid_request_error');
  expect(bedrock.commandCalls(ConverseCommand)).toHaveLength(1);
});

const weatherTool = { type: 'function', function: { name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

test('tools: OpenAI tools and tool_choice become toolConfig; a toolUse answer becomes tool_calls', async () => {
  bedrock.on(ConverseCommand).resolves({
    output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 'tu-1', name: 'get_weather', input: { city: 'Lyon' } } }] } },
    stopReason: 'tool_use',
    usage: { inputTokens: 20, outputTokens: 5, totalTokens: 25 },
    metrics: { latencyMs: 1 },
  });
  const out = captureOutput();
  await serveChat({ request: request({ tools: [weatherTool], tool_choice: 'required' }), consumer: 'c1' }, out, deps());
  const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input;
  expect(input.toolConfig).toEqual({
    tools: [{ toolSpec: { name: 'get_weather', description: 'Weather of a city', inputSchema: { json: weatherTool.function.parameters } } }],
    toolChoice: { any: {} },
  });
  expect(out.body.choices[0].finish_reason).toBe('tool_calls');
  expect(out.body.choices[0].message.tool_calls).toEqual([{ id: 'tu-1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }]);
});

test('tools: assistant tool calls and tool results in the history become toolUse and toolResult blocks', async () => {
  bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: 'Sunny in Lyon.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 }, metrics: { latencyMs: 1 } });
  const body = {
    model: 'fast',
    tools: [weatherTool],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    messages: [
      { role: 'user', content: 'Weather in Lyon?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'tu-1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lyon"}' } }] },
      { role: 'tool', tool_call_id: 'tu-1', content: '{"sky":"sunny"}' },
    ],
  };
  const out = captureOutput();
  await serveChat({ request: parseChatRequest(JSON.stringify(body)), consumer: 'c1' }, out, deps());
  const input = bedrock.commandCalls(ConverseCommand)[0].args[0].input;
  expect(input.messages).toEqual([
    { role: 'user', content: [{ text: 'Weather in Lyon?' }] },
    { role: 'assistant', content: [{ toolUse: { toolUseId: 'tu-1', name: 'get_weather', input: { city: 'Lyon' } } }] },
    { role: 'user', content: [{ toolResult: { toolUseId: 'tu-1', content: [{ text: '{"sky":"sunny"}' }] } }] },
  ]);
  expect(input.toolConfig!.toolChoice).toEqual({ tool: { name: 'get_weather' } });
  expect(out.body.choices[0].message.content).toBe('Sunny in Lyon.');
});

test('tools, streamed: tool-use input fragments are joined into the final tool_calls chunk', async () => {
  bedrock.on(ConverseStreamCommand).resolves({
    stream: (async function* () {
      yield { messageStart: { role: 'assistant' } };
      yield { contentBlockStart: { contentBlockIndex: 0, start: { toolUse: { toolUseId: 'tu-9', name: 'get_weather' } } } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '{"city":' } } } };
      yield { contentBlockDelta: { contentBlockIndex: 0, delta: { toolUse: { input: '"Oslo"}' } } } };
      yield { messageStop: { stopReason: 'tool_use' } };
      yield { metadata: { usage: { inputTokens: 3, outputTokens: 4, totalTokens: 7 }, metrics: { latencyMs: 1 } } };
    })() as never,
  });
  const out = captureOutput();
  await serveChat({ request: request({ stream: true, tools: [weatherTool] }), consumer: 'c1' }, out, deps());
  const chunks = out.events.filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
  const withCalls = chunks.find((c) => c.choices[0]?.delta?.tool_calls);
  expect(withCalls.choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'tu-9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }]);
  expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
});

test('what Converse cannot express is refused with a 400 naming the parameter, before any call', async () => {
  for (const [extra, param] of [
    [{ tools: [weatherTool], tool_choice: 'none' }, 'tool_choice'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
  ] as const) {
    const out = captureOutput();
    await serveChat({ request: request(extra), consumer: 'c1' }, out, deps());
    expect(out.status).toBe(400);
    expect(out.body.error.param).toBe(param);
  }
  expect(bedrock.calls()).toHaveLength(0);
});
