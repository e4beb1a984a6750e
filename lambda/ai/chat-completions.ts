/**
 * `POST /v1/chat/completions`: the OpenAI chat-completions API over the model alias table,
 * with the answer cache, single-flight, budgets and streaming. A streaming Lambda handler
 * (the route's integration uses `responseTransferMode: STREAM`), so `stream: true` answers are
 * Server-Sent Events as they are produced, and plain answers are one JSON body.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { invocationEnv } from '../runtime/invocation-env';
import { CACHE_CONTROL_HEADER, ChatOutput, serveChat } from './chat';
import { AI_CONSUMER_SOURCE, AI_METRICS_NAMESPACE } from './config';
import { chatDeps } from './deps';
import { AiError, parseChatRequest } from './format';
import { writeAiMetrics } from './metrics';
import { httpResponseStream, ResponseStream, streamifyResponse } from './streaming';

/** Largest request body read (the route's `maxBodyBytes` default for model routes). */
const MAX_BODY_BYTES = 1024 * 1024;

export const handler = streamifyResponse(async (event, responseStream) => {
  const env = invocationEnv();
  const out = streamOutput(responseStream);
  const requestId = event.requestContext?.requestId;
  const consumer = consumerOf(event, env);
  let request;
  try {
    const body = event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    if (body && Buffer.byteLength(body) > MAX_BODY_BYTES) throw new AiError(413, 'invalid_request_error', `The request body exceeds ${MAX_BODY_BYTES} bytes`, 'request_too_large');
    request = parseChatRequest(body);
  } catch (error) {
    const failure = error instanceof AiError ? error : new AiError(400, 'invalid_request_error', String(error));
    out.json(failure.status, { 'Cache-Control': 'no-store' }, failure.body());
    return;
  }
  let deps;
  try {
    deps = chatDeps(env);
  } catch (error) {
    console.error(JSON.stringify({ level: 'ERROR', message: 'Model route misconfigured', requestId, error: String(error) }));
    out.json(500, { 'Cache-Control': 'no-store' }, new AiError(500, 'api_error', 'The model route is misconfigured', 'internal_error').body());
    return;
  }
  const record = await serveChat({ request, consumer, cacheControl: header(event, CACHE_CONTROL_HEADER), requestId }, out, deps);
  writeAiMetrics(env[AI_METRICS_NAMESPACE], record);
});

/**
 * The consumer whose budget a request spends: the API key API Gateway validated for it. The
 * dev server has no usage plans and sets AI_CONSUMER_SOURCE=header to use `x-api-key` (or the
 * `Authorization: Bearer` key OpenAI clients send) instead;
 * a deployed route never trusts that header, which any caller could set.
 */
export function consumerOf(event: APIGatewayProxyEvent, env: NodeJS.ProcessEnv): string {
  if (env[AI_CONSUMER_SOURCE] === 'header') {
    // OpenAI clients send their key as a bearer token; API Gateway reads it from x-api-key.
    const bearer = /^Bearer\s+(\S+)$/i.exec(header(event, 'authorization') ?? '')?.[1];
    return header(event, 'x-api-key') || bearer || 'anonymous';
  }
  return event.requestContext?.identity?.apiKeyId || 'anonymous';
}

function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  for (const [key, value] of Object.entries(event.headers ?? {})) if (key.toLowerCase() === name && value !== undefined) return value;
  return undefined;
}

/** A ChatOutput over a Lambda response stream. */
function streamOutput(responseStream: ResponseStream): ChatOutput {
  let body: ResponseStream | undefined;
  return {
    get started() {
      return body !== undefined;
    },
    json(status, headers, payload) {
      const stream = httpResponseStream(responseStream, { statusCode: status, headers: { 'Content-Type': 'application/json', ...headers } });
      stream.end(JSON.stringify(payload));
    },
    begin(headers) {
      body = httpResponseStream(responseStream, {
        statusCode: 200,
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', ...headers },
      });
    },
    write(event) {
      body?.write(event);
    },
    end() {
      body?.end();
    },
  };
}
