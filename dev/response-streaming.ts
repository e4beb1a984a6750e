/**
 * The dev server's stand-in for API Gateway REST response streaming (`responseTransferMode:
 * STREAM`): the route's streaming handler gets a response stream, its metadata prelude becomes
 * the status line and headers, and every byte after the delimiter goes to the client as it is
 * written (no buffering, so Server-Sent Events arrive live).
 */
import type * as http from 'node:http';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { isStreamingHandler, PreludeParser, ResponseStream } from '../lambda/ai/streaming';
import type { ParsedRoute } from '../lib/api/route-table';

export function isStreamingRoute(route: ParsedRoute): boolean {
  return route.options.responseTransferMode === 'STREAM';
}

export interface StreamingInvocation {
  readonly handler: unknown;
  readonly event: APIGatewayProxyEvent;
  readonly context: Context;
  readonly res: http.ServerResponse;
  /** Runs the handler with the route's environment. */
  readonly run: (fn: () => Promise<void>) => Promise<void>;
  readonly timeoutMs: number;
  /** Headers the gateway adds (request id, CloudFront-like headers). */
  readonly extraHeaders: Record<string, string>;
}

/** Invokes a streaming handler and relays its output; resolves to the status sent. */
export async function serveStreaming(inv: StreamingInvocation): Promise<{ status: number; note?: string }> {
  const { res } = inv;
  const fail = (detail: string) => {
    if (!res.headersSent) {
      res.writeHead(502, { 'Content-Type': 'application/json', ...inv.extraHeaders });
      res.end(JSON.stringify({ code: 'BAD_GATEWAY', message: 'Internal server error', requestId: inv.event.requestContext.requestId, detail }));
    } else res.end();
    return { status: 502, note: detail };
  };
  if (!isStreamingHandler(inv.handler)) {
    return fail('The route streams (responseTransferMode STREAM) but its handler is not wrapped in awslambda.streamifyResponse');
  }
  let status = 200;
  const parser = new PreludeParser(
    (metadata) => {
      status = metadata.statusCode;
      res.writeHead(metadata.statusCode, { ...metadata.headers, ...inv.extraHeaders });
      res.flushHeaders();
    },
    (chunk) => res.write(chunk),
  );
  let ended = false;
  const stream: ResponseStream = {
    write: (chunk) => (parser.push(chunk), true),
    end: (chunk) => {
      if (chunk !== undefined) parser.push(chunk);
      ended = true;
    },
    setContentType: () => undefined,
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      inv.run(() => (inv.handler as (e: unknown, s: ResponseStream, c: Context) => Promise<void>)(inv.event, stream, inv.context)),
      new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`Task timed out after ${(inv.timeoutMs / 1000).toFixed(2)} seconds`)), inv.timeoutMs);
      }),
    ]);
  } catch (error) {
    return fail(`The handler failed: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    clearTimeout(timer);
  }
  if (!parser.started) return fail('The streaming handler wrote no HTTP metadata prelude (use awslambda.HttpResponseStream.from)');
  if (!ended) return { status, note: 'handler returned without ending its stream' };
  res.end();
  return { status };
}
