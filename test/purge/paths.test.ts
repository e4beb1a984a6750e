import fc from 'fast-check';
import { batchPaths, normaliseInvalidationPath, recordPaths } from '../../lambda/purge/paths';
import { parseTemplateList } from '../../lambda/purge/templates';
import { insert, modify } from './stream-events';

// Edges of the purge's path functions found by the mutation run (docs/testing.md): malformed
// percent-encoding, CloudFront's path length limit at the character, and which record first
// needs a path.

test('a segment that is not valid percent-encoding is kept as sent, the others normalised', () => {
  expect(normaliseInvalidationPath('/items/100%/sku%3A42')).toBe('/items/100%/sku:42');
  expect(normaliseInvalidationPath('/items/%E0%A4%A')).toBe('/items/%E0%A4%A');
});

describe('CloudFront\'s 4000-character path limit', () => {
  const [template] = parseTemplateList('/items/{id}');
  const idOf = (pathLength: number) => 'x'.repeat(pathLength - '/items/'.length);

  test('a path of exactly 4000 characters is sent as is; one of 4001 becomes its prefix wildcard', () => {
    expect(recordPaths(insert({ id: idOf(4000) }), [template])).toEqual([`/items/${idOf(4000)}`]);
    expect(recordPaths(insert({ id: idOf(4001) }), [template])).toEqual(['/items/*']);
  });

  test('property: a template yields its filled paths when all fit, its prefix wildcard when any is too long', () => {
    const [byCategory] = parseTemplateList('/c/{category}');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4100 }), fc.integer({ min: 1, max: 4100 }), (oldLength, newLength) => {
        const [oldValue, newValue] = ['o'.repeat(oldLength), 'n'.repeat(newLength)];
        const paths = recordPaths(modify({ id: 'a', category: oldValue }, { id: 'a', category: newValue }), [byCategory]);
        const tooLong = Math.max(oldLength, newLength) + '/c/'.length > 4000;
        expect(paths).toEqual(tooLong ? ['/c/*'] : [`/c/${newValue}`, `/c/${oldValue}`]);
      }),
      { numRuns: 200 },
    );
  });
});

test('each path of a batch is needed first by the first record naming it; paths without parameters by the first record', () => {
  const paths = batchPaths([insert({ id: 'a' }), insert({ id: 'b' }), modify({ id: 'a' }, { id: 'a', p: 2 })], parseTemplateList('/items/{id},/items'));
  expect([...paths]).toEqual([
    ['/items', 0],
    ['/items/a', 0],
    ['/items/b', 1],
  ]);
});
