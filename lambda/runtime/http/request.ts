import type { APIGatewayProxyEvent } from 'aws-lambda';
import { badRequest, payloadTooLarge, unsupportedMediaType } from './errors';

/** Case-insensitive header lookup (API Gateway keeps the caller's casing). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * The request body parsed as JSON, after checking its size (413) and media type (415).
 * Malformed JSON and a body that is not an object are 400s.
 */
export function jsonBody(event: APIGatewayProxyEvent, maxBytes: number): Record<string, unknown> {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) throw payloadTooLarge(maxBytes);
  const contentType = header(event, 'content-type');
  if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    throw unsupportedMediaType();
  }
  if (bytes.length === 0) throw badRequest('Request body is required');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw badRequest('Request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('Request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** A path parameter, required by the route. */
export function pathParameter(event: APIGatewayProxyEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw badRequest(`Path parameter ${name} is required`, name);
  return value;
}
