import type { APIGatewayProxyResult } from 'aws-lambda';
import { HttpError } from './errors';

const NO_STORE = 'private, no-store';

/** A JSON response. `headers` are merged over `Content-Type` and a default `Cache-Control: private, no-store`. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': NO_STORE, ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** The JSON error body shared with API Gateway's gateway responses: `{ code, message, field?, requestId }`. */
export function errorResponse(error: HttpError, requestId: string | undefined): APIGatewayProxyResult {
  return json(
    error.statusCode,
    { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}), requestId },
    error.headers,
  );
}
