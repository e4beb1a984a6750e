import { randomUUID } from 'crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** An HTTP request as a local host received it. */
export interface LocalRequest {
  readonly method: string;
  /** Path without the query string, still percent-encoded, e.g. `/items/a%20b`. */
  readonly path: string;
  /** Query string without `?`, still encoded. */
  readonly query?: string;
  /** Headers as received, repeated names kept (Node's `rawHeaders` pairs). */
  readonly headers?: Array<[string, string]>;
  readonly body?: Buffer | string;
  readonly sourceIp?: string;
}

/** The route a request matched. */
export interface MatchedRoute {
  /** Resource path of the route, e.g. `/items/{id}`. */
  readonly resourcePath: string;
  readonly pathParameters: Record<string, string>;
}

export interface EventOptions {
  readonly stage?: string;
  /** Content types API Gateway passes base64-encoded (the API's binaryMediaTypes). */
  readonly binaryMediaTypes?: string[];
  readonly requestId?: string;
  readonly now?: Date;
}

/**
 * Builds the Lambda proxy event API Gateway REST (v1) sends: single- and multi-value headers
 * and query strings (the single-value maps keep the last value; both are `null` when empty),
 * decoded path parameters, the body as text unless its type is binary, and the request context.
 */
export function toProxyEvent(request: LocalRequest, route: MatchedRoute, options: EventOptions = {}): APIGatewayProxyEvent {
  const stage = options.stage ?? 'local';
  const now = options.now ?? new Date();
  const requestId = options.requestId ?? randomUUID();

  const multiValueHeaders: Record<string, string[]> = {};
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers ?? []) {
    (multiValueHeaders[name] ??= []).push(value);
    headers[name] = value;
  }

  const multiValueQuery: Record<string, string[]> = {};
  const query: Record<string, string> = {};
  for (const part of (request.query ?? '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    (multiValueQuery[name] ??= []).push(value);
    query[name] = value;
  }

  const contentType = Object.entries(headers).find(([n]) => n.toLowerCase() === 'content-type')?.[1] ?? '';
  const rawBody = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
  const binary = (options.binaryMediaTypes ?? []).some((t) => mediaTypeMatches(t, contentType));
  const body = rawBody === undefined || rawBody.length === 0 ? null : binary ? rawBody.toString('base64') : rawBody.toString('utf8');

  const userAgent = Object.entries(headers).find(([n]) => n.toLowerCase() === 'user-agent')?.[1] ?? null;
  const host = Object.entries(headers).find(([n]) => n.toLowerCase() === 'host')?.[1] ?? 'localhost';
  const hasParams = Object.keys(route.pathParameters).length > 0;

  return {
    resource: route.resourcePath,
    path: request.path,
    httpMethod: request.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiValueQuery).length ? multiValueQuery : null,
    pathParameters: hasParams ? { ...route.pathParameters } : null,
    stageVariables: null,
    body,
    isBase64Encoded: body !== null && binary,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      authorizer: null,
      domainName: host,
      domainPrefix: host.split('.')[0],
      extendedRequestId: requestId,
      httpMethod: request.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp ?? '127.0.0.1',
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${stage}${request.path}`,
      protocol: 'HTTP/1.1',
      requestId,
      requestTime: formatRequestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: route.resourcePath,
      stage,
    },
  };
}

/**
 * Matches a concrete path against a resource path such as `/items/{id}` or `/files/{path+}`;
 * returns the decoded parameters, or undefined when it does not match.
 */
export function matchResourcePath(resourcePath: string, path: string): Record<string, string> | undefined {
  const want = resourcePath === '/' ? [] : resourcePath.slice(1).split('/');
  const got = path === '/' ? [] : path.replace(/\/+$/, '').slice(1).split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const param = /^\{([^}+]+)(\+?)\}$/.exec(want[i]);
    if (param?.[2] === '+') {
      if (i >= got.length) return undefined;
      params[param[1]] = decodeComponent(got.slice(i).join('/'));
      return params;
    }
    if (i >= got.length) return undefined;
    if (param) {
      if (got[i] === '') return undefined;
      params[param[1]] = decodeComponent(got[i]);
    } else if (want[i] !== got[i]) {
      return undefined;
    }
  }
  return got.length === want.length ? params : undefined;
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

function mediaTypeMatches(pattern: string, contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (pattern === '*/*') return type !== '';
  if (pattern.endsWith('/*')) return type.startsWith(pattern.slice(0, -1).toLowerCase());
  return type === pattern.toLowerCase();
}

function formatRequestTime(date: Date): string {
  // API Gateway's format: 26/Nov/2026:05:00:00 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
