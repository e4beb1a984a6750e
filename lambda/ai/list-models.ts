/** `GET /v1/models`: the aliases of the model table, in OpenAI's list format. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { invocationEnv } from '../runtime/invocation-env';
import { readModelTable } from './config';

/** Fixed creation time: aliases have none, and a constant keeps the answer cacheable. */
const CREATED = 1_700_000_000;

export async function handler(_event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const table = readModelTable(invocationEnv());
  const data = Object.entries(table).map(([alias, target]) => ({
    id: alias,
    object: 'model',
    created: CREATED,
    owned_by: target.provider === 'bedrock' ? 'amazon-bedrock' : target.provider === 'openai' ? 'upstream' : 'local',
  }));
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ object: 'list', data }),
  };
}
