/** Helpers shared by the integ cases (not a case itself: integ-runner runs `integ.*.ts` only). */

/**
 * An API Gateway REST (v1) proxy event for `PUT|GET /items/{id}`, as the stage would send it to
 * the route's function: the assertions invoke route functions directly with it.
 */
export function itemEvent(method: 'GET' | 'PUT', id: string, body?: unknown) {
  return {
    httpMethod: method,
    resource: '/items/{id}',
    path: `/items/${id}`,
    pathParameters: { id },
    queryStringParameters: null,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: `integ-${method.toLowerCase()}-${id}`, httpMethod: method, resourcePath: '/items/{id}', stage: 'v1' },
  };
}
