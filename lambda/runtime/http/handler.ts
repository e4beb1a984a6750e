import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { HttpError } from './errors';
import { errorResponse, json } from './response';

export type ApiHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a route handler so every outcome is an HTTP answer: an HttpError becomes its 4xx JSON
 * body, anything else a logged 500 that reveals nothing of the failure to the caller.
 */
export function apiHandler(handle: ApiHandler): ApiHandler {
  return async (event, context) => {
    const requestId = event.requestContext?.requestId;
    try {
      return await handle(event, context);
    } catch (error) {
      if (error instanceof HttpError) return errorResponse(error, requestId);
      console.error(JSON.stringify({ level: 'ERROR', message: 'Unhandled error', requestId, error: String((error as Error)?.stack ?? error) }));
      return json(500, { code: 'INTERNAL_ERROR', message: 'Internal server error', requestId });
    }
  };
}
