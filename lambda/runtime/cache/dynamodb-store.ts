import {
  AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { leaseKey } from './keys';
import { leaseToken } from './store';
import { CacheStore, FillLease, StoredItem, StoreRead } from './types';

/** DynamoDB's item size limit; a value larger than this, with its key and attributes, is not cached. */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
/** Room left in an item for the key and the other attributes. */
const ITEM_OVERHEAD_BYTES = 1024;

export interface DynamoDbStoreOptions {
  /** Table with a string partition key `pk` and TTL on the `ttl` attribute (lib/ai creates one). */
  readonly tableName: string;
  /** @default - a new DynamoDBClient from the environment's region and credentials */
  readonly client?: DynamoDBClient;
  /** Clock, in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
}

/**
 * A CacheStore on a DynamoDB table: reachable without a VPC (a function outside the data
 * cache's VPC, e.g. one that calls an Internet upstream, can share cached values across
 * containers), values up to DynamoDB's 400 KB item limit, expiry in the `ttl` attribute.
 *
 * Items: `pk` (the key), `v` (the text), `x` (expiry, epoch ms, checked on every read since
 * DynamoDB's TTL deletion runs up to days late), `ttl` (the same in epoch seconds, for TTL
 * deletion), `t` (a lease's token), `n` (a counter). Leases are items of their own, taken by
 * a conditional put; a fill deletes the lease and writes the value in one transaction, so it
 * writes nothing once `invalidate` has revoked the lease. Reads are strongly consistent: a
 * caller waiting on another's lease must see the value as soon as it is written.
 */
export class DynamoDbStore implements CacheStore {
  readonly engine = 'dynamodb' as const;
  private readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly now: () => number;

  constructor(options: DynamoDbStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient({});
    this.now = options.now ?? Date.now;
  }

  async read(key: string, generationKey?: string): Promise<StoreRead> {
    const [item, generation] = await Promise.all([this.getLive(key), generationKey === undefined ? undefined : this.getLive(generationKey)]);
    const stored: StoredItem | undefined = item?.v?.S === undefined ? undefined : { text: item.v.S };
    return { item: stored, generation: generation?.n?.N };
  }

  async acquireLease(key: string, ttlMs: number): Promise<FillLease | undefined> {
    const token = leaseToken();
    const now = this.now();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { pk: { S: leaseKey(key) }, t: { S: token }, ...this.expiry(now + ttlMs) },
          ConditionExpression: 'attribute_not_exists(pk) OR x <= :now',
          ExpressionAttributeValues: { ':now': { N: String(now) } },
        }),
      );
      return { token };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    if (Buffer.byteLength(text) + Buffer.byteLength(key) + ITEM_OVERHEAD_BYTES > DYNAMODB_MAX_ITEM_BYTES) {
      await this.releaseLease(key, lease);
      return false;
    }
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.tableName,
                Key: { pk: { S: leaseKey(key) } },
                ConditionExpression: 't = :token',
                ExpressionAttributeValues: { ':token': { S: lease.token } },
              },
            },
            { Put: { TableName: this.tableName, Item: { pk: { S: key }, v: { S: text }, ...this.expiry(this.now() + ttlMs) } } },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException') return false;
      throw error;
    }
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: leaseKey(key) } },
          ConditionExpression: 't = :token',
          ExpressionAttributeValues: { ':token': { S: lease.token } },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
    }
  }

  async invalidate(key: string): Promise<void> {
    await Promise.all([key, leaseKey(key)].map((pk) => this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } } }))));
  }

  async ensureGeneration(generationKey: string): Promise<string> {
    // Starts from the clock, not 0, so a counter that was deleted never returns to an old value.
    return this.updateCounter(generationKey, 'SET n = if_not_exists(n, :now)', { ':now': { N: String(this.now()) } });
  }

  async bumpGeneration(generationKey: string): Promise<string> {
    return this.updateCounter(generationKey, 'SET n = if_not_exists(n, :now) + :one', { ':now': { N: String(this.now()) }, ':one': { N: '1' } });
  }

  /**
   * Adds `amount` to the counter at `key` atomically across every caller and returns the new
   * total. The counter lives until `expiresAtMs` (set by its first increment), then reads as 0.
   */
  async increment(key: string, amount: number, expiresAtMs: number): Promise<number> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: key } },
        UpdateExpression: 'ADD n :amount SET x = if_not_exists(x, :x), #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':amount': { N: String(amount) }, ':x': { N: String(expiresAtMs) }, ':ttl': { N: String(Math.ceil(expiresAtMs / 1000)) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.n?.N ?? amount);
  }

  /** The counter at `key`, 0 when missing or expired. */
  async counter(key: string): Promise<number> {
    const item = await this.getLive(key);
    return Number(item?.n?.N ?? 0);
  }

  async close(): Promise<void> {
    // The SDK client keeps no connection that needs closing between invocations.
  }

  private async getLive(pk: string) {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } }, ConsistentRead: true }));
    const item = out.Item;
    if (item === undefined) return undefined;
    if (item.x?.N !== undefined && Number(item.x.N) <= this.now()) return undefined;
    return item;
  }

  private async updateCounter(pk: string, update: string, values: Record<string, { N: string }>): Promise<string> {
    const out = await this.client.send(
      new UpdateItemCommand({ TableName: this.tableName, Key: { pk: { S: pk } }, UpdateExpression: update, ExpressionAttributeValues: values, ReturnValues: 'UPDATED_NEW' }),
    );
    return out.Attributes?.n?.N as string;
  }

  private expiry(expiresAtMs: number): Record<string, AttributeValue> {
    if (!Number.isFinite(expiresAtMs)) return {};
    return { x: { N: String(expiresAtMs) }, ttl: { N: String(Math.ceil(expiresAtMs / 1000)) } };
  }
}
