import { cacheableJson } from '../../lambda/runtime/http/caching';
import { apiHandler } from '../../lambda/runtime/http/handler';
import { pathParameter } from '../../lambda/runtime/http/request';

/**
 * GET /greetings/{name} of integ.edge-cache.ts: a cacheable answer (the route's Cache-Control)
 * carrying the moment it was made, so a cached copy is told apart from a fresh one.
 */
export const handler = apiHandler(async (event) =>
  cacheableJson(event, 200, { greeting: `Hello, ${pathParameter(event, 'name')}`, madeAt: new Date().toISOString() }),
);
