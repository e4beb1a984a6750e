/** A request the handler refuses, answered with a 4xx JSON body naming what was wrong. */
export class HttpError extends Error {
  /** Extra response headers, e.g. how the data cache served a "not found". */
  public headers?: Record<string, string>;

  constructor(
    public readonly statusCode: number,
    public readonly code: string,
    message: string,
    public readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  /** Adds response headers to the error's answer. */
  withHeaders(headers: Record<string, string>): this {
    this.headers = { ...this.headers, ...headers };
    return this;
  }
}

export const badRequest = (message: string, field?: string) => new HttpError(400, 'BAD_REQUEST', message, field);
export const notFound = (message = 'Not found') => new HttpError(404, 'NOT_FOUND', message);
export const payloadTooLarge = (limit: number) =>
  new HttpError(413, 'PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`);
export const unsupportedMediaType = () =>
  new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
