import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { corsGatewayResponseHeaders } from './cors';

/**
 * API Gateway's own errors (auth, API keys, validation, throttling, integration) answered as
 * JSON `{ code, message, requestId }`, never cached, with the API's CORS headers.
 */
export function addJsonGatewayResponses(restApi: apigw.RestApi, cors: apigw.CorsOptions | undefined): void {
  const headers: Record<string, string> = {
    'Content-Type': "'application/json'",
    'Cache-Control': "'no-store'",
    ...corsGatewayResponseHeaders(cors),
  };
  const body = (message: string) =>
    `{"code":"$context.error.responseType","message":${message},"requestId":"$context.requestId"}`;
  const responses: Array<[string, apigw.ResponseType, string]> = [
    ['Default4xx', apigw.ResponseType.DEFAULT_4XX, '$context.error.messageString'],
    ['Default5xx', apigw.ResponseType.DEFAULT_5XX, '$context.error.messageString'],
    // The validator's detail names the failing field or parameter.
    ['BadRequestBody', apigw.ResponseType.BAD_REQUEST_BODY, '"$context.error.validationErrorString"'],
    ['BadRequestParameters', apigw.ResponseType.BAD_REQUEST_PARAMETERS, '"$context.error.validationErrorString"'],
  ];
  for (const [id, type, message] of responses) {
    restApi.addGatewayResponse(id, { type, responseHeaders: headers, templates: { 'application/json': body(message) } });
  }
}
