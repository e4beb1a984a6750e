/**
 * HTTP helpers for API Gateway REST (v1) proxy handlers (`cdk-cacheable-api/runtime/http`):
 * JSON answers and errors, request parsing, and HTTP caching (Cache-Control, ETag, 304, Vary).
 */
export * from './caching';
export * from './cors';
export * from './errors';
export * from './handler';
export * from './request';
export * from './response';
export * from './route-settings';
