// API Gateway's request side as the dev server plays it: resource selection, required
// parameters, body limits and URL parsing.
import type * as http from 'node:http';
import type { ParsedRoute } from '../lib/api/route-table';
import { matchResourcePath } from './apigw-event';
import type { DevRoute } from './server-types';

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: DevRoute; readonly pathParameters: Record<string, string> }
  | { readonly kind: 'method'; readonly resource: string; readonly allowed: string[] }
  | { readonly kind: 'none' };

/**
 * API Gateway's resource selection: among the resources whose path matches, the most specific
 * (a literal segment beats a `{param}`, which beats a greedy `{param+}`), then the method.
 */
export function matchRoute(routes: readonly DevRoute[], rawPath: string, method: string): RouteMatch {
  let best: { resource: string; params: Record<string, string>; rank: number[] } | undefined;
  for (const r of routes) {
    const params = matchResourcePath(r.route.path, rawPath);
    if (!params) continue;
    const rank = (r.route.path === '/' ? [] : r.route.path.slice(1).split('/')).map((s) => (s.endsWith('+}') ? 0 : s.startsWith('{') ? 1 : 2));
    if (!best || compareRank(rank, best.rank) > 0) best = { resource: r.route.path, params, rank };
  }
  if (!best) return { kind: 'none' };
  const onResource = routes.filter((r) => r.route.path === best!.resource);
  const found = onResource.find((r) => r.route.method === method);
  if (found) return { kind: 'found', route: found, pathParameters: best.params };
  return { kind: 'method', resource: best.resource, allowed: onResource.map((r) => r.route.method).sort() };
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Required query strings and headers (`request.queryStrings` / `request.headers` set to true) the request lacks. */
export function missingParameters(route: ParsedRoute, query: string | undefined, headers: ReadonlyArray<readonly [string, string]>): string[] {
  const present = new Set((query ?? '').split('&').filter(Boolean).map((p) => decodeURIComponentSafe(p.split('=')[0])));
  const headerNames = new Set(headers.map(([n]) => n.toLowerCase()));
  const missing: string[] = [];
  for (const [name, required] of Object.entries(route.options.request?.queryStrings ?? {})) {
    if (required && !present.has(name)) missing.push(name);
  }
  for (const [name, required] of Object.entries(route.options.request?.headers ?? {})) {
    if (required && !headerNames.has(name.toLowerCase())) missing.push(name);
  }
  return missing;
}

/** The body, or undefined when it exceeds `limit` (the rest is read and discarded so the client gets the answer). */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function splitUrl(url: string): { path: string; query: string | undefined } {
  let target = url;
  if (/^https?:\/\//i.test(target)) target = target.replace(/^https?:\/\/[^/]*/i, '') || '/';
  const q = target.indexOf('?');
  const p = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? undefined : target.slice(q + 1);
  return { path: p || '/', query: query === '' ? undefined : query };
}

export function headerPairs(raw: string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

/** `item:{id}` filled from the path parameters; undefined when one is missing (nothing was cached under it). */
export function fillTemplate(template: string, params: Record<string, string>): string | undefined {
  let missing = false;
  const filled = template.replace(/\{([A-Za-z_][A-Za-z0-9_.-]*)\+?\}/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) missing = true;
    return value ?? '';
  });
  return missing ? undefined : filled;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
