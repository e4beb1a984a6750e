/**
 * Environment-variable contract between the CDK constructs (lib/), which set these on each
 * function, and the data-cache runtime, which reads them. Names are exported so both sides
 * spell them the same way.
 */

/** `valkey-serverless` | `redis` | `memcached` | `memory`. Absent: the in-memory store. */
export const DATA_CACHE_ENGINE = 'DATA_CACHE_ENGINE';
/** `host:port`; for memcached a comma-separated list of `host:port`. */
export const DATA_CACHE_ENDPOINT = 'DATA_CACHE_ENDPOINT';
/** `true` | `false`. */
export const DATA_CACHE_TLS = 'DATA_CACHE_TLS';
/** `iam` | `none`. */
export const DATA_CACHE_AUTH = 'DATA_CACHE_AUTH';
/** ElastiCache user id used with IAM auth. */
export const DATA_CACHE_USER = 'DATA_CACHE_USER';
/** Serverless cache name or replication group id: the host of the IAM auth token. */
export const DATA_CACHE_NAME = 'DATA_CACHE_NAME';
export const DATA_CACHE_TTL_SECONDS = 'DATA_CACHE_TTL_SECONDS';
export const DATA_CACHE_NEGATIVE_TTL_SECONDS = 'DATA_CACHE_NEGATIVE_TTL_SECONDS';
export const DATA_CACHE_SWR_SECONDS = 'DATA_CACHE_SWR_SECONDS';
export const DATA_CACHE_SIE_SECONDS = 'DATA_CACHE_SIE_SECONDS';
/** Fraction of the TTL taken off at random, e.g. `0.1`. */
export const DATA_CACHE_JITTER = 'DATA_CACHE_JITTER';
/** Namespace of every key the runtime writes. */
export const DATA_CACHE_KEY_PREFIX = 'DATA_CACHE_KEY_PREFIX';
export const DATA_CACHE_CONNECT_TIMEOUT_MS = 'DATA_CACHE_CONNECT_TIMEOUT_MS';
export const DATA_CACHE_COMMAND_TIMEOUT_MS = 'DATA_CACHE_COMMAND_TIMEOUT_MS';
export const DATA_CACHE_MAX_VALUE_BYTES = 'DATA_CACHE_MAX_VALUE_BYTES';
/** Longest wait for a route's loader, in ms; set below the function's timeout. */
export const DATA_CACHE_LOAD_TIMEOUT_MS = 'DATA_CACHE_LOAD_TIMEOUT_MS';

/** Every variable of the contract, e.g. for lib/ to check it sets nothing else. */
export const DATA_CACHE_ENV_NAMES = [
  DATA_CACHE_ENGINE,
  DATA_CACHE_ENDPOINT,
  DATA_CACHE_TLS,
  DATA_CACHE_AUTH,
  DATA_CACHE_USER,
  DATA_CACHE_NAME,
  DATA_CACHE_TTL_SECONDS,
  DATA_CACHE_NEGATIVE_TTL_SECONDS,
  DATA_CACHE_SWR_SECONDS,
  DATA_CACHE_SIE_SECONDS,
  DATA_CACHE_JITTER,
  DATA_CACHE_KEY_PREFIX,
  DATA_CACHE_CONNECT_TIMEOUT_MS,
  DATA_CACHE_COMMAND_TIMEOUT_MS,
  DATA_CACHE_MAX_VALUE_BYTES,
  DATA_CACHE_LOAD_TIMEOUT_MS,
] as const;

export type DataCacheEngine = 'valkey-serverless' | 'redis' | 'memcached' | 'memory';
export const DATA_CACHE_ENGINES: readonly DataCacheEngine[] = ['valkey-serverless', 'redis', 'memcached', 'memory'];

export const DEFAULT_KEY_PREFIX = 'cca';
export const DEFAULT_CONNECT_TIMEOUT_MS = 200;
export const DEFAULT_COMMAND_TIMEOUT_MS = 100;
export const DEFAULT_MAX_VALUE_BYTES = 256 * 1024;
export const DEFAULT_TTL_SECONDS = 60;
export const DEFAULT_NEGATIVE_TTL_SECONDS = 5;
export const DEFAULT_JITTER = 0.1;
/** 8 s: below the 10 s the kit gives each function by default. */
export const DEFAULT_LOAD_TIMEOUT_MS = 8000;
