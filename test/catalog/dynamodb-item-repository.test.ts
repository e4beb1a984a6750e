/**
 * The catalog's loaders must read strongly consistently: a GET right after an acknowledged PUT
 * takes a fill lease, and an eventually consistent read served by a lagging replica would put
 * the old item in the data cache for the whole TTL.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbItemRepository } from '../../lambda/catalog/dynamodb-item-repository';

const documents = mockClient(DynamoDBDocumentClient);

beforeEach(() => documents.reset());

test('get reads with ConsistentRead', async () => {
  documents.on(GetCommand).resolves({ Item: { id: 'a', name: 'A', price: 1, updatedAt: 'now' } });
  const repository = new DynamoDbItemRepository('Items', new DynamoDBClient({ region: 'us-east-1' }));
  expect(await repository.get('a')).toMatchObject({ id: 'a' });
  const calls = documents.commandCalls(GetCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toEqual({ TableName: 'Items', Key: { id: 'a' }, ConsistentRead: true });
});

test('list (the list pages cached in the data cache) scans with ConsistentRead', async () => {
  documents.on(ScanCommand).resolves({ Items: [], LastEvaluatedKey: undefined });
  const repository = new DynamoDbItemRepository('Items', new DynamoDBClient({ region: 'us-east-1' }));
  await repository.list(10, 'b');
  const calls = documents.commandCalls(ScanCommand);
  expect(calls[0].args[0].input).toMatchObject({ TableName: 'Items', Limit: 10, ExclusiveStartKey: { id: 'b' }, ConsistentRead: true });
});
