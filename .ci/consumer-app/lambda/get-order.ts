import { cacheAsideWithOutcome } from 'cdk-cacheable-api/runtime/cache';
import { apiHandler, cacheableJson, notFound, pathParameter } from 'cdk-cacheable-api/runtime/http';
import { timeOrigin } from 'cdk-cacheable-api/runtime/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';

interface Order { id: string; total: number }

async function loadOrder(id: string): Promise<Order | undefined> {
  return id === 'missing' ? undefined : { id, total: 42 };
}

export const handler = apiHandler(async (event: APIGatewayProxyEvent) => {
  const id = pathParameter(event, 'id');
  const { value, outcome } = await cacheAsideWithOutcome(`order:${id}`, () => timeOrigin(() => loadOrder(id)));
  if (!value) throw notFound(`Order ${id} not found`);
  return cacheableJson(event, 200, value, { dataCache: outcome });
});
