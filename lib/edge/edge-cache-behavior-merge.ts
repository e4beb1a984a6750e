/**
 * Private to EdgeCache: edge-cached routes with the same cache settings share one cache behavior
 * where one CloudFront path pattern can hold them and nothing else of the route table (issue 16:
 * CloudFront allows 25 behaviors per distribution by default).
 */
import type { ParsedRoute } from '../api/route-table';
import { EdgeBehaviorPlan, globsIntersect } from './edge-behaviors';
import { edgePathPattern } from './invalidation-paths';

/** What a cached behavior's cache policy is made of: routes with equal keys can share both. */
export function edgeCacheSettingsKey(route: ParsedRoute, extraHeaders: readonly string[] = []): string {
  const edge = route.cache.edge!;
  const key = route.cache.key;
  const headers = [...new Set([...key.headers, ...extraHeaders].map((h) => h.toLowerCase()))].sort();
  return JSON.stringify([edge.ttl, edge.minTtl, edge.maxTtl, [...key.queryStrings].sort(), headers, [...key.cookies].sort()]);
}

/**
 * The pattern matching both `a` and `b` position by position, a differing character replaced by
 * `?` (CloudFront: exactly one character); undefined unless they have the same length and
 * differ only in characters that are neither `/` nor `*` (segments and wildcards stay put).
 */
function generalize(a: string, b: string): string | undefined {
  if (a.length !== b.length) return undefined;
  let out = '';
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) out += a[i];
    else if ('/*'.includes(a[i]) || '/*'.includes(b[i])) return undefined;
    else out += '?';
  }
  return out;
}

/**
 * Merges the behaviors of edge-cached GET routes that are alone on their path pattern (no
 * writes share it) and have the same cache settings, when the merged pattern (`/r?/*` for
 * `/r0/*` ... `/r9/*`) can match no path of any other route: the routes outside the group then
 * keep exactly the behavior they had, whatever the order. Paths of no route that the merged
 * pattern matches (`/rx/1`) get the group's cached behavior instead of the default one; the API
 * answers them with an error either way. Merged behaviors take the place of their first member.
 */
export function mergeCachedBehaviors(plans: EdgeBehaviorPlan[], routes: readonly ParsedRoute[]): EdgeBehaviorPlan[] {
  const alone = (p: EdgeBehaviorPlan) => p.cachedRoute !== undefined && p.routes.length === 1;
  const groups = new Map<string, EdgeBehaviorPlan[]>();
  for (const plan of plans.filter(alone)) {
    const key = edgeCacheSettingsKey(plan.cachedRoute!);
    groups.set(key, [...(groups.get(key) ?? []), plan]);
  }
  const replaced = new Map<EdgeBehaviorPlan, EdgeBehaviorPlan | null>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const members = new Set(group.flatMap((p) => p.routes));
    const others = routes.filter((r) => !members.has(r)).map((r) => edgePathPattern(r.path));
    const clusters: Array<{ pattern: string; plans: EdgeBehaviorPlan[] }> = [];
    const ordered = [...group].sort((a, b) => a.pathPattern.length - b.pathPattern.length || (a.pathPattern < b.pathPattern ? -1 : 1));
    for (const plan of ordered) {
      const cluster = clusters.find((c) => {
        const merged = generalize(c.pattern, plan.pathPattern);
        if (merged === undefined || others.some((o) => globsIntersect(merged, o))) return false;
        c.pattern = merged;
        return true;
      });
      if (cluster) cluster.plans.push(plan);
      else clusters.push({ pattern: plan.pathPattern, plans: [plan] });
    }
    for (const cluster of clusters.filter((c) => c.plans.length > 1)) {
      const first = plans.find((p) => cluster.plans.includes(p))!;
      const cachedRoutes = cluster.plans.map((p) => p.cachedRoute!);
      replaced.set(first, { pathPattern: cluster.pattern, cachedRoute: cachedRoutes[0], cachedRoutes, routes: cachedRoutes });
      for (const p of cluster.plans) if (p !== first) replaced.set(p, null);
    }
  }
  return plans.flatMap((p) => {
    const r = replaced.get(p);
    return r === undefined ? [p] : r === null ? [] : [r];
  });
}
