// API Gateway's own answers and how the dev server writes an answer out: a Lambda proxy result
// mapped as API Gateway maps it, gateway responses, and the HTTP writing.
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { EdgeResponse } from './edge-cache';
import { DEV_LIMITS } from './limits';

/** Hop-by-hop headers: the server sets its own. */
const HOP_BY_HOP = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

/**
 * Maps a Lambda proxy result to the HTTP answer as API Gateway does, or says why API Gateway
 * would call it malformed (and answer 502).
 */
export function proxyResultToResponse(result: unknown, requestId: string): { response: EdgeResponse } | { error: string } {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    return { error: `expected an object with statusCode, got ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}` };
  }
  const r = result as Record<string, unknown>;
  const status = typeof r.statusCode === 'string' && /^\d+$/.test(r.statusCode) ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    return { error: `statusCode must be an integer HTTP status, got ${JSON.stringify(r.statusCode)}` };
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
    return { error: `body must be a string (JSON.stringify it), got ${Array.isArray(r.body) ? 'an array' : typeof r.body}` };
  }
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') {
    return { error: 'isBase64Encoded must be a boolean' };
  }
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  const single = new Map<string, [string, string]>();
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || Array.isArray(r.headers)) return { error: 'headers must be an object of strings' };
    for (const [name, value] of Object.entries(r.headers)) {
      if (value === undefined || value === null) continue;
      if (!scalar(value)) return { error: `headers.${name} must be a string` };
      single.set(name.toLowerCase(), [name, String(value)]);
    }
  }
  const lines: Array<[string, string]> = [];
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object' || Array.isArray(r.multiValueHeaders)) {
      return { error: 'multiValueHeaders must be an object of string arrays' };
    }
    for (const [name, values] of Object.entries(r.multiValueHeaders)) {
      if (values === undefined || values === null) continue;
      if (!Array.isArray(values) || !values.every(scalar)) return { error: `multiValueHeaders.${name} must be an array of strings` };
      // A name in both maps: API Gateway keeps the multi-value list.
      single.delete(name.toLowerCase());
      for (const value of values) lines.push([name, String(value)]);
    }
  }
  lines.unshift(...single.values());
  const bodyText = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded ? Buffer.from(bodyText, 'base64') : Buffer.from(bodyText, 'utf8');
  if (Buffer.byteLength(JSON.stringify(result)) > DEV_LIMITS.lambdaResponseBytes) {
    return { error: `the response exceeds Lambda's ${DEV_LIMITS.lambdaResponseBytes}-byte payload limit` };
  }
  if (!lines.some(([n]) => n.toLowerCase() === 'content-type')) lines.push(['Content-Type', 'application/json']);
  lines.push(['x-amzn-RequestId', requestId]);
  lines.push(['x-amz-apigw-id', randomBytes(6).toString('base64url') + '=']);
  lines.push(['X-Amzn-Trace-Id', `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`]);
  return { response: { statusCode: status, headers: lines, body } };
}

/** Responses API Gateway itself produced (gateway responses), which get the API's gateway-response CORS headers. */
const GATEWAY_RESPONSES = new WeakSet<EdgeResponse>();

/** Whether API Gateway itself produced `response` (a gateway response, not the handler's). */
export function isGatewayResponse(response: EdgeResponse): boolean {
  return GATEWAY_RESPONSES.has(response);
}

/** An answer of API Gateway's own (gateway response): JSON `{ code, message, requestId }`, as CacheableApi configures them. */
export function gatewayError(
  statusCode: number,
  code: string,
  message: string,
  requestId: string,
  extraHeaders: Array<[string, string]> = [],
  extra: Record<string, unknown> = {},
): EdgeResponse {
  const response: EdgeResponse = {
    statusCode,
    headers: [['Content-Type', 'application/json'], ['Cache-Control', 'no-store'], ['x-amzn-RequestId', requestId], ...extraHeaders],
    body: Buffer.from(JSON.stringify({ code, message, requestId, ...extra })),
  };
  GATEWAY_RESPONSES.add(response);
  return response;
}

/** API Gateway's 502 for a failed or malformed invocation; `detail` (dev only) says what went wrong. */
export function badGateway(requestId: string, detail: string): EdgeResponse {
  return gatewayError(502, 'BAD_GATEWAY', 'Internal server error', requestId, [], { detail });
}

export function notModified(response: EdgeResponse): EdgeResponse {
  const drop = new Set(['content-type', 'content-length', 'content-encoding']);
  return { statusCode: 304, headers: response.headers.filter(([n]) => !drop.has(n.toLowerCase())), body: Buffer.alloc(0) };
}

export function withHeaders(response: EdgeResponse, extra: Array<[string, string]>): EdgeResponse {
  const names = new Set(extra.map(([n]) => n.toLowerCase()));
  return { ...response, headers: [...response.headers.filter(([n]) => !names.has(n.toLowerCase())), ...extra] };
}

export function headerValue(headers: ReadonlyArray<readonly [string, string]>, name: string): string | undefined {
  const values = headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length ? values.join(', ') : undefined;
}

export function writeResponse(res: http.ServerResponse, method: string, response: EdgeResponse): void {
  const grouped = new Map<string, { name: string; values: string[] }>();
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    const group = grouped.get(lower);
    if (group) group.values.push(value);
    else grouped.set(lower, { name, values: [value] });
  }
  const headers: Record<string, string | string[]> = {};
  for (const { name, values } of grouped.values()) headers[name] = values.length === 1 ? values[0] : values;
  const noBody = response.statusCode === 204 || response.statusCode === 304 || response.statusCode < 200;
  if (!noBody) headers['Content-Length'] = String(response.body.length);
  res.writeHead(response.statusCode, headers);
  res.end(noBody || method === 'HEAD' ? undefined : response.body);
}
