import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { newRequestRecord, recordRequest, runRequest } from '../metrics/request-metrics';
import { withCors } from './cors';
import { HttpError } from './errors';
import { errorResponse, json } from './response';

export type ApiHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/**
 * Wraps a route handler so every outcome is an HTTP answer: an HttpError becomes its 4xx JSON
 * body, anything else a logged 500 that reveals nothing of the failure to the caller.
 *
 * Each request runs in its own metrics context (`timeOrigin` records origin loads into it) and
 * ends with one structured JSON log line carrying the request ids, route, status, duration and
 * data-cache result (`X-Data-Cache`), which is also an EMF record of the route's metrics when
 * METRICS_NAMESPACE is set (lambda/runtime/metrics/README.md). With CORS on the route, every
 * answer gets `Access-Control-Allow-Origin` for an allowed `Origin` and `Vary: Origin` (cors.ts).
 */
export function apiHandler(handle: ApiHandler): ApiHandler {
  return async (event, context) => {
    const requestId = event.requestContext?.requestId;
    const record = newRequestRecord(requestId, context?.awsRequestId);
    return runRequest(record, async () => {
      let response: APIGatewayProxyResult;
      try {
        response = await handle(event, context);
      } catch (error) {
        if (error instanceof HttpError) {
          response = errorResponse(error, requestId);
        } else {
          console.error(
            JSON.stringify({
              level: 'ERROR',
              message: 'Unhandled error',
              requestId,
              awsRequestId: context?.awsRequestId,
              error: String((error as Error)?.stack ?? error),
            }),
          );
          response = json(500, { code: 'INTERNAL_ERROR', message: 'Internal server error', requestId });
        }
      }
      // CORS headers on every answer, errors included, when the route has CORS.
      response = withCors(event, response);
      recordRequest(record, event, response);
      return response;
    });
  };
}
