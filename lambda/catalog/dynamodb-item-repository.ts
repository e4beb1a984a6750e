import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Item } from './item';
import type { ItemPage, ItemRepository } from './item-repository';

/**
 * Catalog items in a DynamoDB table keyed by `id` (string). Reads are strongly consistent: they
 * are the data cache's loaders, and a read that takes a fill lease right after an acknowledged
 * write must not fill the cache with what a lagging replica still holds (it would stay for the
 * whole TTL). Consistent reads cost twice the read capacity of eventually consistent ones.
 */
export class DynamoDbItemRepository implements ItemRepository {
  private readonly client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient = new DynamoDBClient({}),
  ) {
    this.client = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(id: string): Promise<Item | undefined> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return out.Item as Item | undefined;
  }

  async put(item: Item): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
  }

  async delete(id: string): Promise<boolean> {
    const out = await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { id }, ReturnValues: 'ALL_OLD' }),
    );
    return out.Attributes !== undefined;
  }

  async list(limit: number, cursor?: string): Promise<ItemPage> {
    // Scan pages in key-hash order, not id order; the cursor is DynamoDB's own continuation key.
    const out = await this.client.send(
      new ScanCommand({
        TableName: this.tableName,
        Limit: limit,
        ExclusiveStartKey: cursor === undefined ? undefined : { id: cursor },
        ConsistentRead: true,
      }),
    );
    return {
      items: (out.Items ?? []) as Item[],
      nextCursor: out.LastEvaluatedKey ? String(out.LastEvaluatedKey.id) : undefined,
    };
  }
}
