/**
 * Limits and defaults of the services the dev server stands in for. The function and stage
 * defaults equal STATELESS_FUNCTION_DEFAULTS and CACHEABLE_API_DEFAULTS (test/dev-server.test.ts
 * checks it), without loading the construct modules at start.
 */
export const DEV_LIMITS = {
  /** API Gateway REST: request payload (10 MB). */
  apiGatewayPayloadBytes: 10 * 1024 * 1024,
  /** Lambda synchronous invocation: request payload. */
  lambdaRequestBytes: 6_291_456,
  /** Lambda synchronous invocation: response payload. */
  lambdaResponseBytes: 6_291_556,
  /** StatelessFunction defaults. */
  memorySize: 512,
  timeoutSeconds: 10,
  /** CacheableApi's default stage. */
  stageName: 'v1',
} as const;
