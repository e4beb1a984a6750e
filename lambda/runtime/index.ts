/**
 * Everything a handler needs (`cdk-cacheable-api/runtime`). For the smallest bundle import
 * the subpaths instead: `cdk-cacheable-api/runtime/http`, `…/runtime/cache` (backends are
 * loaded by engine), or a single backend such as `…/runtime/cache/redis-store`.
 */
export * from './cache';
export * from './http';
export { invocationEnv } from './invocation-env';
