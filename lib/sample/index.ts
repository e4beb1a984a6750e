/** The sample catalog app (`cdk-cacheable-api/sample`): a worked example, not part of the kit's API. */
export * from './catalog-routes';
export * from './catalog-stack';
export * from './ai-gateway-stack';
