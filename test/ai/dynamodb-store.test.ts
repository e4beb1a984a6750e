/**
 * DynamoDbStore against moto_server: the behavioural suite every store passes, plus what is
 * DynamoDB's own (expiry checked on read, the 400 KB item limit, atomic counters).
 */
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbStore } from '../../lambda/runtime/cache/dynamodb-store';
import { describeDataCacheBehaviour } from '../runtime/data-cache-behaviour';
import { cacheOver, FakeClock } from '../runtime/helpers';
import { Moto, startMoto } from '../support/moto';

let moto: Moto;
let table = '';

describeDataCacheBehaviour('dynamodb', {
  createStore: () => new DynamoDbStore({ tableName: table, client: moto.client() }),
  shared: true,
  // moto_server answers in milliseconds, not DynamoDB's single digits: stale reads need more room.
  refreshLoadMs: 900,
  setup: async () => {
    moto ??= await startMoto();
    table ||= await moto.createTable('cache-behaviour');
  },
});

describe('dynamodb store specifics', () => {
  beforeAll(async () => {
    moto ??= await startMoto();
    table ||= await moto.createTable('cache-behaviour');
  }, 30_000);
  afterAll(async () => {
    await moto?.stop();
  });

  test('an expired value reads as missing before DynamoDB deletes it, and its TTL attribute is in epoch seconds', async () => {
    const clock = new FakeClock();
    const store = new DynamoDbStore({ tableName: table, client: moto.client(), now: clock.now });
    const lease = await store.acquireLease('ttl-key', 1000);
    expect(await store.fill('ttl-key', 'text', 1500, lease!)).toBe(true);
    expect((await store.read('ttl-key')).item?.text).toBe('text');
    const raw = await moto.client().send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'ttl-key' } } }));
    expect(Number(raw.Item!.ttl.N)).toBe(Math.ceil((clock.now() + 1500) / 1000));
    clock.advance(1500);
    expect((await store.read('ttl-key')).item).toBeUndefined();
  });

  test('a lease is exclusive until it expires; a revoked lease cannot fill', async () => {
    const clock = new FakeClock();
    const store = new DynamoDbStore({ tableName: table, client: moto.client(), now: clock.now });
    const first = await store.acquireLease('lease-key', 1000);
    expect(first).toBeDefined();
    expect(await store.acquireLease('lease-key', 1000)).toBeUndefined();
    await store.invalidate('lease-key');
    expect(await store.fill('lease-key', 'stale', 1000, first!)).toBe(false);
    expect((await store.read('lease-key')).item).toBeUndefined();
    const second = await store.acquireLease('lease-key', 1000);
    clock.advance(1000);
    // An abandoned lease expires: another caller can take it.
    const third = await store.acquireLease('lease-key', 1000);
    expect(third).toBeDefined();
    expect(await store.fill('lease-key', 'late', 1000, second!)).toBe(false);
    expect(await store.fill('lease-key', 'fresh', 1000, third!)).toBe(true);
  });

  test('values up to the 400 KB item limit are cached; a larger one is not written and its lease is released', async () => {
    const store = new DynamoDbStore({ tableName: table, client: moto.client() });
    const big = 'x'.repeat(390 * 1024);
    const lease = await store.acquireLease('big', 60_000);
    expect(await store.fill('big', big, 60_000, lease!)).toBe(true);
    expect((await store.read('big')).item?.text.length).toBe(big.length);
    const tooBig = 'y'.repeat(400 * 1024);
    const lease2 = await store.acquireLease('too-big', 60_000);
    expect(await store.fill('too-big', tooBig, 60_000, lease2!)).toBe(false);
    expect(await store.acquireLease('too-big', 60_000)).toBeDefined();
  });

  test('counters add across store instances and read 0 once their period has expired', async () => {
    const clock = new FakeClock();
    const stores = [0, 1].map(() => new DynamoDbStore({ tableName: table, client: moto.client(), now: clock.now }));
    const expires = clock.now() + 60_000;
    const totals = [];
    for (let i = 0; i < 6; i++) totals.push(await stores[i % 2].increment('budget:k:day', 5, expires));
    expect(totals).toEqual([5, 10, 15, 20, 25, 30]);
    expect(await stores[0].counter('budget:k:day')).toBe(30);
    expect(await stores[1].counter('budget:other:day')).toBe(0);
    clock.advance(60_000);
    expect(await stores[0].counter('budget:k:day')).toBe(0);
  });

  test('an increment is one UpdateItem with ADD, never a read-modify-write (what makes it atomic on DynamoDB)', async () => {
    // moto_server does not serialise concurrent ADDs on one item (40 concurrent adds of 5 gave
    // 185 and 190, not 200), so atomicity is checked on the request DynamoDB receives.
    const mock = mockClient(DynamoDBClient);
    mock.on(UpdateItemCommand).resolves({ Attributes: { n: { N: '12' } } });
    const store = new DynamoDbStore({ tableName: 't', client: new DynamoDBClient({ region: 'us-east-1' }) });
    expect(await store.increment('budget:a:2026-11-30', 7, 1_800_000_000_000)).toBe(12);
    expect(mock.calls()).toHaveLength(1);
    const input = mock.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(input.UpdateExpression).toMatch(/^ADD n :amount /);
    expect(input.ExpressionAttributeValues![':amount']).toEqual({ N: '7' });
    expect(input.ReturnValues).toBe('UPDATED_NEW');
    mock.restore();
  });

  test('a CacheClient over the store shares a value across clients (containers)', async () => {
    const a = cacheOver(new DynamoDbStore({ tableName: table, client: moto.client() }));
    const b = cacheOver(new DynamoDbStore({ tableName: table, client: moto.client() }));
    let loads = 0;
    expect(await a.get('shared-key', async () => ++loads)).toBe(1);
    expect(await b.get('shared-key', async () => ++loads)).toBe(1);
    expect(loads).toBe(1);
  });
});
