import { ancestors, fitPaths, NeededPath } from '../../lambda/purge/invalidation-planner';
import { invalidationPathMatches } from '../../lambda/purge/paths';

// The planner's pure functions (moved out of invalidation-quota.test.ts so that a mutation run of
// invalidation-planner.ts can run them without the simulated hours of that file).

describe('collapsing paths to fit the room', () => {
  const needed = (...paths: string[]): NeededPath[] => paths.map((path, firstNeed) => ({ path, firstNeed }));

  test('ancestors go from the narrowest wildcard to /*', () => {
    expect(ancestors('/items/a')).toEqual(['/items/a*', '/items/*', '/*']);
    expect(ancestors('/items')).toEqual(['/items*', '/*']);
    expect(ancestors('/items/*')).toEqual(['/*']);
    expect(ancestors('/items?*')).toEqual(['/*']);
    expect(ancestors('/shops/s1/items?limit=2')).toEqual(['/shops/s1/items?limit=2*', '/shops/s1/items*', '/shops/s1/*', '/shops/*', '/*']);
  });

  test('what fits is sent as it is', () => {
    expect(fitPaths(needed('/items', '/items?*', '/items/a'), { files: 3000, wildcards: 15 }).now.map((p) => p.path)).toEqual(['/items', '/items?*', '/items/a']);
  });

  test('more item paths than the file room become one wildcard, keeping the earliest need', () => {
    const fitted = fitPaths(needed('/items', '/items?*', '/items/a', '/items/b', '/items/c'), { files: 2, wildcards: 2 });
    expect(fitted.now).toEqual([
      { path: '/items', firstNeed: 0 },
      { path: '/items?*', firstNeed: 1 },
      { path: '/items/*', firstNeed: 2 },
    ]);
    expect(fitted.later).toEqual([]);
  });

  test('with one wildcard of room, the file overflow and the wildcards merge into /*; with none, the rest waits', () => {
    const fitted = fitPaths(needed('/items/a', '/items/b', '/items/c'), { files: 1, wildcards: 1 });
    expect(fitted.now.map((p) => p.path)).toEqual(['/items/*']);
    const waiting = fitPaths(needed('/items?*', '/items/a', '/items/b'), { files: 1, wildcards: 0 });
    expect(waiting.now.map((p) => p.path)).toEqual(['/items/a']);
    expect(waiting.later.map((p) => p.path).sort()).toEqual(['/items/b', '/items?*']);
  });

  test('wildcards beyond the room merge into their common parent', () => {
    const paths = Array.from({ length: 20 }, (_, i) => `/c/${i}/items*`);
    const fitted = fitPaths(needed(...paths), { files: 0, wildcards: 15 });
    expect(fitted.now.length).toBeLessThanOrEqual(15);
    for (const p of paths) expect(fitted.now.some((n) => invalidationPathMatches(n.path, p.slice(0, -1)))).toBe(true);
  });
});
