/**
 * Edge-cached routes with the same cache settings share one CloudFront behavior
 * (lib/edge/edge-cache-behavior-merge.ts) only where no route changes behavior: checked on
 * random route tables by picking, as CloudFront does, the first behavior whose pattern matches
 * a request path, before and after merging.
 */
import * as path from 'path';
import { Duration } from 'aws-cdk-lib';
import * as fc from 'fast-check';
import { parseRouteTable, ParsedRoute, RouteTable } from '../lib';
import { CATALOG_HANDLERS_DIR } from '../lib/sample';
import { EdgeBehaviorPlan, planEdgeBehaviors } from '../lib/edge/edge-cache';
import { edgeCacheSettingsKey, mergeCachedBehaviors } from '../lib/edge/edge-cache-behavior-merge';

const entry = path.join(CATALOG_HANDLERS_DIR, 'get-item.ts');

/** CloudFront's choice: the first behavior, in order, whose pattern matches (`*` any run, `?` one character). */
function behaviorFor(plans: EdgeBehaviorPlan[], requestPath: string): EdgeBehaviorPlan | undefined {
  const regex = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return plans.find((p) => regex(p.pathPattern).test(requestPath));
}

/** What a request gets from a behavior: the cache settings of its cached route(s), or its routes' uncached pass-through. */
function outcome(plan: EdgeBehaviorPlan | undefined): string {
  if (!plan) return 'default';
  if (!plan.cachedRoute) return 'uncached';
  return `cached ${edgeCacheSettingsKey(plan.cachedRoute)}${plan.routes.some((r) => r.method !== 'GET') ? ' +writes' : ''}`;
}

/** Request paths of a route: each parameter filled with a few values, some of another route's shape. */
function requestPaths(route: ParsedRoute): string[] {
  return ['v', '7', 'a1', 'x/y'].map((value) => route.path.replace(/\{[^}]+\}/g, value));
}

const segment = fc.constantFrom('a', 'b', 'a1', 'a2', 'b1', 'ab', '{id}', '{x}');
const routeArb = fc.record({
  method: fc.constantFrom('GET', 'GET', 'GET', 'PUT'),
  segments: fc.array(segment, { minLength: 1, maxLength: 3 }),
  edge: fc.constantFrom(undefined, 60, 60, 300),
});

test('merging never changes what a request path of any route gets from CloudFront', () => {
  let merges = 0;
  fc.assert(
    fc.property(fc.array(routeArb, { minLength: 1, maxLength: 12 }), (specs) => {
      const table: RouteTable = {};
      for (const s of specs) {
        // Path parameters must have distinct names within a path.
        const segments = s.segments.map((seg, i) => (seg.startsWith('{') ? `{p${i}}` : seg));
        table[`${s.method} /${segments.join('/')}`] = { entry, ...(s.edge && s.method === 'GET' ? { cache: { edge: { ttl: Duration.seconds(s.edge) } } } : {}) };
      }
      let routes: ParsedRoute[];
      let plans: EdgeBehaviorPlan[];
      try {
        routes = parseRouteTable(table);
        plans = planEdgeBehaviors(routes);
      } catch {
        fc.pre(false); // a table the kit refuses anyway
        return;
      }
      const merged = mergeCachedBehaviors(plans, routes);
      if (merged.length < plans.length) merges++;
      for (const route of routes) {
        for (const p of requestPaths(route)) {
          expect([route.key, p, outcome(behaviorFor(merged, p))]).toEqual([route.key, p, outcome(behaviorFor(plans, p))]);
        }
      }
      // Every edge-cached route is still served by a behavior that names it.
      for (const route of routes.filter((r) => r.cache.edge)) {
        expect(merged.filter((p) => (p.cachedRoutes ?? [p.cachedRoute]).includes(route))).toHaveLength(1);
      }
    }),
    { numRuns: 400, seed: 16 },
  );
  expect(merges).toBeGreaterThan(10); // the property was exercised on tables that do merge
});

test('/r0/* ... /r19/* of one setting become /r?/* and /r1?/*, leaving /r20/{id} (uncached) to the default behavior', () => {
  const table: RouteTable = {};
  for (let i = 0; i < 21; i++) table[`GET /r${i}/{id}`] = { entry, ...(i < 20 ? { cache: { edge: { ttl: Duration.seconds(60) } } } : {}) };
  const routes = parseRouteTable(table);
  const merged = mergeCachedBehaviors(planEdgeBehaviors(routes), routes);
  expect(merged.map((p) => [p.pathPattern, p.cachedRoutes?.length])).toEqual([['/r?/*', 10], ['/r1?/*', 10]]);
  expect(behaviorFor(merged, '/r20/1')).toBeUndefined();
});
