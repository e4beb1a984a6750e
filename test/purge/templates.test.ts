import type { DynamoDBRecord } from 'aws-lambda';
import { attributeValues, fillTemplate, parseTemplate, parseTemplateList, recordProblem } from '../../lambda/purge/templates';
import { modify, streamRecord } from './stream-events';

// Edges of the purge templates found by the mutation run (docs/testing.md).

test('a template is split into its literal text and parameters, with no empty literal between or around them', () => {
  expect(parseTemplate('{a}{b+}').parts).toEqual([
    { name: 'a', greedy: false },
    { name: 'b', greedy: true },
  ]);
  expect(parseTemplate('/items/{id}').parts).toEqual(['/items/', { name: 'id', greedy: false }]);
  expect(parseTemplate('{id}/x').parts).toEqual([{ name: 'id', greedy: false }, '/x']);
});

test('the values of an attribute: the key\'s value even without images; none from a record without change data', () => {
  const keysOnly = streamRecord('REMOVE', {}, { keys: { id: 'a' } });
  expect(keysOnly.dynamodb!.OldImage).toBeUndefined();
  expect(attributeValues(keysOnly, 'id')).toEqual(['a']);
  // The edge purge does not refuse such records (the data purge does, with recordProblem).
  expect(attributeValues({ eventName: 'MODIFY' } as DynamoDBRecord, 'id')).toEqual([]);
  expect(attributeValues({ eventName: 'MODIFY', dynamodb: {} } as DynamoDBRecord, 'id')).toEqual([]);
});

test('recordProblem names what makes a record unusable, and the type of an unusable key', () => {
  const [template] = parseTemplateList('item:{id}');
  const noChange = 'the record carries no change data or keys';
  expect(recordProblem(undefined, [template])).toBe(noChange);
  expect(recordProblem({ dynamodb: { Keys: {} } } as DynamoDBRecord, [template])).toBe(noChange);
  expect(recordProblem({ dynamodb: { Keys: { id: { B: 'AQ==' } } } } as never, [template])).toBe('key attribute id is of type B; only S and N can fill item:{id}');
  expect(recordProblem({ dynamodb: { Keys: { id: {} } } } as never, [template])).toBe('key attribute id is of type unknown; only S and N can fill item:{id}');
  expect(recordProblem({ dynamodb: { Keys: { id: { N: '7' } } } } as never, [template])).toBeUndefined();
});

test('a template is expanded up to 16 combinations of multi-valued parameters, not beyond', () => {
  // Each attribute differs between the old and the new image: two values each.
  const names = ['a', 'b', 'c', 'd', 'e'];
  const record = modify(Object.fromEntries([['id', 'x'], ...names.map((n) => [n, `${n}0`])]), Object.fromEntries([['id', 'x'], ...names.map((n) => [n, `${n}1`])]));
  expect(fillTemplate(parseTemplate('{a}{b}{c}{d}'), record)).toHaveLength(16);
  expect(fillTemplate(parseTemplate('{a}{b}{c}{d}{e}'), record)).toBeUndefined();
  expect(fillTemplate(parseTemplate('{a}-{b}'), record)).toEqual(['a1-b1', 'a1-b0', 'a0-b1', 'a0-b0']);
});
