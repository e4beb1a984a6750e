/**
 * The kit's public API: the constructs, their props and defaults. The sample app lives apart
 * (`cdk-cacheable-api/sample`) and is not exported here.
 */
export * from './ai/model-routes';
export * from './ai/model-target';
export * from './api/account-logging';
export * from './api/api-authorization';
export * from './api/api-consumers';
export * from './api/cache-control';
export * from './api/cacheable-api';
export * from './api/cacheable-api-defaults';
export * from './api/cors';
export { checkGatewayCache, gatewayCacheKeyParameters } from './api/stage-cache';
export * from './api/route-environment';
export * from './api/route-spec';
export * from './api/route-table';
export * from './api/runtime-env';
export * from './compliance';
export * from './data-cache/data-cache';
export * from './data-cache/data-cache-defaults';
export * from './edge/edge-cache';
export * from './edge/edge-cache-defaults';
export * from './edge/edge-security-defaults';
export * from './edge/edge-web-acl';
export * from './edge/origin-secret-rotation';
export * from './edge/origin-verification';
export * from './edge/waf-logging';
export * from './functions/bundling';
export * from './functions/stateless-function';
export * from './monitoring/alarm-actions';
export * from './monitoring/api-monitoring';
export * from './monitoring/api-monitoring-defaults';
export * from './sync/cache-sync';
export * from './shared/cacheable-api-contract';
