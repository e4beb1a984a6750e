/**
 * Single-flight across containers: several "containers" (each its own CacheClient and store
 * connection, as separate Lambda instances have) over one shared store, a real redis-server
 * (the data-cache store) and moto_server (the DynamoDB store), ask the same deterministic
 * question at once; the upstream is called once and every container answers the same.
 */
import { MemoryCounter } from '../../lambda/ai/budget';
import { ChatDeps, serveChat } from '../../lambda/ai/chat';
import { ModelTable } from '../../lambda/ai/config';
import { parseChatRequest } from '../../lambda/ai/format';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { DynamoDbStore } from '../../lambda/runtime/cache/dynamodb-store';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { CacheStore } from '../../lambda/runtime/cache/types';
import { CacheServer, startRedis } from '../support/servers';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstream';
import { captureOutput } from './support/capture-output';
import { Moto, startMoto } from '../support/moto';

let upstream: FakeUpstream;
let redis: CacheServer;
let moto: Moto;
let table: string;

beforeAll(async () => {
  [upstream, redis, moto] = await Promise.all([startFakeUpstream(), startRedis(), startMoto()]);
  table = await moto.createTable('ai-cross-container');
}, 30_000);
afterAll(async () => {
  await Promise.all([upstream?.close(), redis?.stop(), moto?.stop()]);
});

const CONTAINERS = 4;
const CALLERS_PER_CONTAINER = 5;

async function askEverywhere(stores: CacheStore[], question: string) {
  const models: ModelTable = { up: { provider: 'openai', baseUrl: upstream.baseUrl, model: 'm' } };
  const containers: ChatDeps[] = stores.map((store) => ({
    models,
    // As chatDeps builds it: waiters on another container's fill wait as long as an upstream call may take.
    cache: new CacheClient({ store, ttlSeconds: 60, keyPrefix: 'xc', leaseTtlMs: 10_000, leaseWaitMs: 5_000 }),
    cacheTtlSeconds: 60,
    counter: new MemoryCounter(),
    upstreamTimeoutMs: 5_000,
    env: {},
  }));
  const request = parseChatRequest(JSON.stringify({ model: 'up', messages: [{ role: 'user', content: question }], temperature: 0 }));
  const outputs = await Promise.all(
    containers.flatMap((deps) =>
      Array.from({ length: CALLERS_PER_CONTAINER }, async () => {
        const out = captureOutput();
        await serveChat({ request, consumer: 'c' }, out, deps);
        return out;
      }),
    ),
  );
  await Promise.all(stores.map((s) => s.close()));
  return outputs;
}

test.each([
  ['redis (data cache)', (): CacheStore => new RedisStore({ host: redis.host, port: redis.port })],
  ['dynamodb', (): CacheStore => new DynamoDbStore({ tableName: table, client: moto.client() })],
])('%s: 4 containers x 5 callers, one upstream call', async (_name, createStore) => {
  upstream.reset();
  upstream.script({ delayMs: 400, content: 'shared answer' });
  const outputs = await askEverywhere(Array.from({ length: CONTAINERS }, createStore), `cross-container ${_name} ${Date.now()}`);
  expect(upstream.calls).toHaveLength(1);
  expect(outputs.every((o) => o.status === 200 && o.body.choices[0].message.content === 'shared answer')).toBe(true);
  const outcomes = outputs.map((o) => o.headers!['X-AI-Cache']);
  expect(outcomes.filter((o) => o === 'miss')).toHaveLength(1);
  // The others shared the leader's answer: joined its flight, waited on its lease, or (a container
  // slow to start on a busy machine) found the entry already filled.
  expect(outcomes.filter((o) => o === 'coalesced' || o === 'hit')).toHaveLength(CONTAINERS * CALLERS_PER_CONTAINER - 1);
});
