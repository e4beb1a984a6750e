/**
 * Data-cache runtime for Lambda handlers (`cdk-cacheable-api/runtime`).
 *
 *   import { cacheAside, getCacheClient } from 'cdk-cacheable-api/runtime';
 *   const item = await cacheAside(`item:${id}`, () => table.get(id));
 *   await getCacheClient().invalidate(`item:${id}`); // after writing the item
 *
 * Backends are loaded on demand by the engine named in DATA_CACHE_ENGINE; to build a store by
 * hand import RedisStore / MemcachedStore from './redis-store' / './memcached-store'.
 */
export * from './env';
export * from './types';
export { CacheClient } from './cache-aside';
export { CacheSerializationError, defaultSerializer } from './serializer';
export { CacheLoadTimeoutError } from './load-timeout';
export { CacheTimeoutError, ConnectionSlot, type Connector } from './store';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export type { RedisStore, RedisStoreOptions } from './redis-store';
export type { MemcachedStore, MemcachedStoreOptions } from './memcached-store';
export {
  type AwsCredentials,
  type IamAuthTokenOptions,
  IamAuthTokenProvider,
  IAM_TOKEN_EXPIRES_SECONDS,
  createIamAuthToken,
  credentialsFromEnv,
} from './iam-auth-token';
export {
  type DataCacheSettings,
  cacheAside,
  cacheAsideWithOutcome,
  createCacheClient,
  createStore,
  getCacheClient,
  readCachePolicy,
  readDataCacheSettings,
  resetCacheClient,
} from './from-env';
export { encodeKeyPart, entryKeys, MAX_KEY_BYTES } from './keys';
