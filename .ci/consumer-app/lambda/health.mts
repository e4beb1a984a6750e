import { apiHandler } from 'cdk-cacheable-api/runtime/http';

// An ES-module bundle (function.format 'esm'): top-level await runs once, in the init phase.
const startedAt = await Promise.resolve(new Date().toISOString());

export const handler = apiHandler(async () => ({ statusCode: 200, body: JSON.stringify({ ok: true, startedAt }) }));
