import { apiHandler } from '../runtime/http/handler';
import { json } from '../runtime/http/response';
import { routeSettings } from '../runtime/http/route-settings';

/** GET /health: the function runs and answers; touches no dependency, so it is cheap to poll. */
export const handler = apiHandler(async (event) =>
  json(200, { status: 'ok', route: routeSettings().routeKey, requestId: event.requestContext?.requestId }),
);
