/**
 * Lambda response streaming, as API Gateway REST's `responseTransferMode: STREAM` invokes it
 * (InvokeWithResponseStream): the handler writes a JSON metadata prelude (status, headers),
 * eight NUL bytes, then the body as it is produced. In Lambda the runtime's global `awslambda`
 * provides `streamifyResponse` and `HttpResponseStream.from`; elsewhere (the dev server, tests)
 * the same wire format is produced here, so one handler runs in both.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** What the Node.js runtime marks a streaming handler with (aws-lambda-nodejs-runtime-interface-client). */
export const STREAMING_HANDLER = Symbol.for('aws.lambda.runtime.handler.streaming');
export const STREAM_RESPONSE = 'response';
/** Content type of a stream that starts with the HTTP metadata prelude. */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
/** The separator between the prelude and the body. */
export const PRELUDE_DELIMITER = new Uint8Array(8);

/** The writable the runtime passes to a streaming handler (a Node.js Writable in Lambda). */
export interface ResponseStream {
  write(chunk: string | Uint8Array): unknown;
  end(chunk?: string | Uint8Array): unknown;
  setContentType?(contentType: string): void;
}

export type StreamingHandler = (event: APIGatewayProxyEvent, responseStream: ResponseStream, context?: Context) => Promise<void>;

export interface HttpResponseMetadata {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
}

interface LambdaGlobal {
  streamifyResponse?: (handler: StreamingHandler) => StreamingHandler;
  HttpResponseStream?: { from(stream: ResponseStream, metadata: HttpResponseMetadata): ResponseStream };
}

const lambdaGlobal = (): LambdaGlobal | undefined => (globalThis as unknown as { awslambda?: LambdaGlobal }).awslambda;

/** `awslambda.streamifyResponse(handler)` in Lambda; elsewhere the handler, marked the same way. */
export function streamifyResponse(handler: StreamingHandler): StreamingHandler {
  const runtime = lambdaGlobal();
  if (runtime?.streamifyResponse) return runtime.streamifyResponse(handler);
  (handler as unknown as Record<symbol, string>)[STREAMING_HANDLER] = STREAM_RESPONSE;
  return handler;
}

export function isStreamingHandler(handler: unknown): boolean {
  return typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING_HANDLER] === STREAM_RESPONSE;
}

/** `awslambda.HttpResponseStream.from(stream, metadata)`: writes the prelude, returns the body stream. */
export function httpResponseStream(stream: ResponseStream, metadata: HttpResponseMetadata): ResponseStream {
  const runtime = lambdaGlobal();
  if (runtime?.HttpResponseStream) return runtime.HttpResponseStream.from(stream, metadata);
  stream.setContentType?.(HTTP_INTEGRATION_CONTENT_TYPE);
  stream.write(JSON.stringify(metadata));
  stream.write(PRELUDE_DELIMITER);
  return stream;
}

/**
 * Splits what a streaming handler wrote into the prelude and the body (the dev server's
 * stand-in for API Gateway). Resolves `onPrelude` once the delimiter has been seen.
 */
export class PreludeParser {
  private pending = Buffer.alloc(0);
  private metadata: HttpResponseMetadata | undefined;

  constructor(
    private readonly onPrelude: (metadata: HttpResponseMetadata) => void,
    private readonly onBody: (chunk: Buffer) => void,
  ) {}

  get started(): boolean {
    return this.metadata !== undefined;
  }

  push(chunk: string | Uint8Array): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk);
    if (this.metadata !== undefined) {
      if (bytes.length) this.onBody(bytes);
      return;
    }
    this.pending = Buffer.concat([this.pending, bytes]);
    const at = this.pending.indexOf(Buffer.from(PRELUDE_DELIMITER));
    if (at < 0) return;
    this.metadata = JSON.parse(this.pending.subarray(0, at).toString('utf8')) as HttpResponseMetadata;
    const rest = this.pending.subarray(at + PRELUDE_DELIMITER.length);
    this.pending = Buffer.alloc(0);
    this.onPrelude(this.metadata);
    if (rest.length) this.onBody(rest);
  }
}
