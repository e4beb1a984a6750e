import { DynamoDbItemRepository } from './dynamodb-item-repository';
import type { ItemRepository } from './item-repository';
import { MemoryItemRepository } from './memory-item-repository';

/** What the catalog handlers need from outside; tests and the dev server pass their own. */
export interface CatalogDeps {
  readonly items: ItemRepository;
  readonly now: () => Date;
}

/** `TABLE_NAME=memory` selects the in-process table (local runs); anything else names a DynamoDB table. */
export const TABLE_NAME_ENV = 'TABLE_NAME';
export const MEMORY_TABLE = 'memory';

const SHARED_MEMORY_TABLE = Symbol.for('cdk-cacheable-api.catalog.memory-table');

let deps: CatalogDeps | undefined;

/**
 * The deps built from the environment, once per container so the SDK's connections are
 * reused across invocations. Nothing is created at import time.
 */
export function catalogDeps(env: NodeJS.ProcessEnv = process.env): CatalogDeps {
  return (deps ??= { items: repositoryFromEnv(env), now: () => new Date() });
}

function repositoryFromEnv(env: NodeJS.ProcessEnv): ItemRepository {
  const tableName = env[TABLE_NAME_ENV];
  if (!tableName) throw new Error(`${TABLE_NAME_ENV} is not set: the stack sets it to the catalog table's name`);
  if (tableName === MEMORY_TABLE) {
    // One table per process, kept across handler reloads by the dev server.
    const holder = globalThis as { [SHARED_MEMORY_TABLE]?: ItemRepository };
    return (holder[SHARED_MEMORY_TABLE] ??= new MemoryItemRepository());
  }
  return new DynamoDbItemRepository(tableName);
}
