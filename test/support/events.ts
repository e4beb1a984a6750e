import type { APIGatewayProxyEvent } from 'aws-lambda';
import { matchResourcePath, toProxyEvent } from '../../dev/apigw-event';

/**
 * An API Gateway REST (v1) proxy event for `METHOD /path?query` matched against the
 * resource path, built as API Gateway builds it.
 */
export function restEvent(
  routeKey: string,
  url: string,
  init: { body?: string | Buffer; headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  const [method, resourcePath] = routeKey.split(' ');
  const [path, query] = url.split('?');
  const pathParameters = matchResourcePath(resourcePath, path);
  if (!pathParameters) throw new Error(`${url} does not match ${routeKey}`);
  const headers: Array<[string, string]> = Object.entries({ Host: 'api.example.com', ...init.headers });
  if (init.body !== undefined && !Object.keys(init.headers ?? {}).some((h) => h.toLowerCase() === 'content-type')) {
    headers.push(['Content-Type', 'application/json']);
  }
  return toProxyEvent({ method, path, query, headers, body: init.body }, { resourcePath, pathParameters }, { stage: 'v1' });
}
