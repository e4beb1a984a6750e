/** The compliance profile (lib/compliance/README.md). */
export * from './compliance';
export * from './compliance-policy';
export * from './pack-rules';
