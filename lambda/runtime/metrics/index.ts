export * from './emf';
export * from './env';
export * from './log';
export * from './request-metrics';
