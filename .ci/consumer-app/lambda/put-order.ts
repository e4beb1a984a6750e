import { getCacheClient } from 'cdk-cacheable-api/runtime';
import { apiHandler, pathParameter } from 'cdk-cacheable-api/runtime/http';

export const handler = apiHandler(async (event) => {
  const id = pathParameter(event, 'id');
  await getCacheClient().invalidate(`order:${id}`);
  return { statusCode: 204, body: '' };
});
