import * as net from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';

/**
 * Settings that point the handlers at local stand-ins of the stack's data stores. The variable
 * names are the runtime's contract (lambda/runtime/cache/env.ts, lambda/catalog/deps.ts).
 */

/** The catalog's embedded table (lambda/catalog/deps.ts). */
export const MEMORY_TABLE = 'memory';
/** Table the dev server creates in a local DynamoDB when none is named. */
export const DEFAULT_DEV_TABLE = 'cdk-cacheable-api-dev';

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** `DATA_CACHE_*` variables selecting it. */
  readonly environment: Record<string, string>;
}

/** `redis://host:port` (or `rediss://` for TLS) as the data cache's environment. */
export function localRedis(url: string): LocalRedis {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--redis must be a URL such as redis://127.0.0.1:6379, got "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`--redis must start with redis:// or rediss://, got "${url}"`);
  }
  if (parsed.username || parsed.password) {
    throw new Error('--redis: password authentication is not part of the runtime contract (DATA_CACHE_AUTH is iam or none); use a server without AUTH');
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const port = parsed.port ? Number(parsed.port) : 6379;
  const tls = parsed.protocol === 'rediss:';
  return {
    host,
    port,
    tls,
    environment: {
      DATA_CACHE_ENGINE: 'redis',
      DATA_CACHE_ENDPOINT: `${host.includes(':') ? `[${host}]` : host}:${port}`,
      DATA_CACHE_TLS: String(tls),
      DATA_CACHE_AUTH: 'none',
    },
  };
}

/** Resolves when `host:port` accepts a TCP connection, rejects with a clear message otherwise. */
export function checkReachable(what: string, host: string, port: number, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new Error(`${what} at ${host}:${port} is not reachable (${reason})`));
    };
    socket.setTimeout(timeoutMs, () => fail(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  });
}

export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly tableName: string;
  /** Whether the table was created now. */
  readonly created: boolean;
  /** Variables pointing the SDK (and the catalog handlers) at it. */
  readonly environment: Record<string, string>;
}

/**
 * Points the AWS SDK at a local DynamoDB (`AWS_ENDPOINT_URL_DYNAMODB`, which SDK v3 clients read),
 * with dummy credentials and a region when none are set, and creates the table (partition key
 * `id`, a string, as in CatalogStack) when it does not exist.
 */
export async function localDynamoDb(endpoint: string, tableName = DEFAULT_DEV_TABLE, env: NodeJS.ProcessEnv = process.env): Promise<LocalDynamoDb> {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`--dynamodb must be a URL such as http://127.0.0.1:8000, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--dynamodb must be an http(s) URL, got "${endpoint}"`);
  const environment: Record<string, string> = { TABLE_NAME: tableName, AWS_ENDPOINT_URL_DYNAMODB: url.origin };
  if (!env.AWS_REGION) environment.AWS_REGION = env.AWS_DEFAULT_REGION || 'us-east-1';
  if (!env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    environment.AWS_ACCESS_KEY_ID = 'local';
    environment.AWS_SECRET_ACCESS_KEY = 'local';
  }
  const region = environment.AWS_REGION ?? env.AWS_REGION!;
  const credentials = environment.AWS_ACCESS_KEY_ID ? { accessKeyId: 'local', secretAccessKey: 'local' } : undefined;
  const client = new DynamoDBClient({ endpoint: url.origin, region, credentials, maxAttempts: 2 });
  try {
    let created = false;
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException) && (error as Error)?.name !== 'ResourceNotFoundException') {
        throw new Error(`DynamoDB at ${url.origin}: ${(error as Error)?.message ?? String(error)}`);
      }
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      created = true;
    }
    for (let i = 0; ; i++) {
      const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (out.Table?.TableStatus === 'ACTIVE') break;
      if (i >= 100) throw new Error(`table ${tableName} is still ${out.Table?.TableStatus} after 20 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { endpoint: url.origin, tableName, created, environment };
  } finally {
    client.destroy();
  }
}
