import fc from 'fast-check';
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

  test('with one wildcard of room already taken, a file path is collapsed together with that wildcard instead of waiting', () => {
    // /a/* covers both with the one wildcard; sending /a/y* and keeping /a/x for later would delay
    // its purge for nothing (the doc's promise: with wildcard room, collapsing instead of waiting).
    const fitted = fitPaths(needed('/a/y*', '/a/x'), { files: 0, wildcards: 1 });
    expect(fitted).toEqual({ now: [{ path: '/a/*', firstNeed: 0 }], later: [] });
    expect(fitPaths(needed('/b*', '/a/x', '/a/z'), { files: 1, wildcards: 1 })).toEqual({ now: [{ path: '/*', firstNeed: 0 }], later: [] });
    // Of covers at one depth, the narrowest: /a* rather than /*.
    expect(fitPaths(needed('/a/*', '/a'), { files: 0, wildcards: 1 })).toEqual({ now: [{ path: '/a*', firstNeed: 0 }], later: [] });
  });

  test('wildcards beyond the room merge into their common parent', () => {
    const paths = Array.from({ length: 20 }, (_, i) => `/c/${i}/items*`);
    const fitted = fitPaths(needed(...paths), { files: 0, wildcards: 15 });
    expect(fitted.now.length).toBeLessThanOrEqual(15);
    for (const p of paths) expect(fitted.now.some((n) => invalidationPathMatches(n.path, p.slice(0, -1)))).toBe(true);
  });
});

describe('planner edges found by the mutation run', () => {
  const needed = (...paths: string[]): NeededPath[] => paths.map((path, firstNeed) => ({ path, firstNeed }));

  test('a directory wildcard\'s ancestors start one level up', () => {
    expect(ancestors('/a/b/*')).toEqual(['/a/*', '/*']);
    expect(ancestors('/a/b?*')).toEqual(['/a/*', '/*']);
  });

  test('the deepest shared wildcard is collapsed first, not the longest', () => {
    // `/x/y/*` (depth 3) is deeper than `/items/*` (depth 2) though shorter.
    const fitted = fitPaths(needed('/items/a', '/items/b', '/x/y/z1', '/x/y/z2'), { files: 2, wildcards: 2 });
    expect(fitted.now.map((p) => p.path)).toEqual(['/items/a', '/items/b', '/x/y/*']);
  });

  const fit = (paths: string[], room: { files: number; wildcards: number }) => fitPaths(needed(...paths), room).now.map((p) => p.path).sort();

  test('with room for one wildcard, everything may collapse to /*', () => {
    expect(fit(['/a', '/b'], { files: 0, wildcards: 1 })).toEqual(['/*']);
  });

  test('a wildcard standing for a single file is not preferred to one standing for two', () => {
    expect(fit(['/items/a', '/items/b', '/x/y/z'], { files: 1, wildcards: 1 })).toEqual(['/items/*', '/x/y/z']);
  });

  test('of the deepest wildcards, the one standing for the most paths wins; on a tie, the first found', () => {
    expect(fit(['/b/1', '/b/2', '/a/1', '/a/2', '/a/3'], { files: 2, wildcards: 1 })).toEqual(['/a/*', '/b/1', '/b/2']);
    expect(fit(['/a/1', '/a/2', '/a/3', '/b/1', '/b/2'], { files: 2, wildcards: 1 })).toEqual(['/a/*', '/b/1', '/b/2']);
    expect(fit(['/b/1', '/b/2', '/a/1', '/a/2'], { files: 2, wildcards: 1 })).toEqual(['/a/1', '/a/2', '/b/*']);
  });

  test('property: nothing is lost, the room is respected, each path keeps the earliest need it covers, the earliest go first', () => {
    const segment = fc.constantFrom('a', 'b', 'c');
    const path = fc
      .tuple(fc.array(segment, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '*', '/*', '?*', '?q=1'))
      .map(([parts, end]) => `/${parts.join('/')}${end}`);
    const matches = (out: string, input: string) => out === input || (out.endsWith('*') && input.startsWith(out.slice(0, -1)));
    fc.assert(
      fc.property(
        fc.uniqueArray(path, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(20), { minLength: 12, maxLength: 12 }),
        fc.record({ files: fc.nat(4), wildcards: fc.nat(3) }),
        (paths, needs, room) => {
          const input = paths.map((p, i) => ({ path: p, firstNeed: needs[i] }));
          const { now, later } = fitPaths(input, room);
          const out = [...now, ...later];
          const isWild = (p: { path: string }) => p.path.endsWith('*');
          // Room.
          expect(now.filter(isWild).length).toBeLessThanOrEqual(room.wildcards);
          expect(now.filter((p) => !isWild(p)).length).toBeLessThanOrEqual(room.files);
          if (room.files === 0 && room.wildcards === 0) expect(now).toEqual([]);
          // Nothing lost, nothing new but wildcards, no output inside another.
          for (const p of input) expect(out.filter((o) => matches(o.path, p.path))).toHaveLength(1);
          for (const o of out) expect(isWild(o) || paths.includes(o.path)).toBe(true);
          // Each output's need is the earliest of the inputs it stands for.
          for (const o of out) expect(o.firstNeed).toBe(Math.min(...input.filter((p) => matches(o.path, p.path)).map((p) => p.firstNeed)));
          // Of each kind, what goes now is needed no later than what waits.
          for (const kind of [true, false]) {
            const nowNeeds = now.filter((p) => isWild(p) === kind).map((p) => p.firstNeed);
            const laterNeeds = later.filter((p) => isWild(p) === kind).map((p) => p.firstNeed);
            if (nowNeeds.length > 0 && laterNeeds.length > 0) expect(Math.max(...nowNeeds)).toBeLessThanOrEqual(Math.min(...laterNeeds));
            // A path of a kind waits only when that kind's room is full.
            if (laterNeeds.length > 0) expect(nowNeeds.length).toBe(kind ? room.wildcards : room.files);
          }
          // With any wildcard room nothing waits: at worst everything collapses to /*.
          if (room.wildcards > 0) expect(later).toEqual([]);
          // With no wildcard room, nothing is collapsed: what does not fit waits as it is.
          const covered0 = (p: string) => paths.some((q) => q !== p && matches(q, p));
          if (room.wildcards === 0) expect(out.map((p) => p.path).sort()).toEqual(paths.filter((p) => !covered0(p)).sort());
          // What fits as it is goes as it is.
          const covered = (p: string) => paths.some((q) => q !== p && matches(q, p));
          const kept = input.filter((p) => !covered(p.path));
          if (kept.filter(isWild).length <= room.wildcards && kept.filter((p) => !isWild(p)).length <= room.files) {
            expect(later).toEqual([]);
            expect(now.map((p) => p.path).sort()).toEqual(kept.map((p) => p.path).sort());
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
