/**
 * ModelRoutes, through the second sample app (an OpenAI-compatible gateway with a DynamoDB
 * answer cache, one API-key consumer and a token budget). Deployed: the model list answers the
 * consumer's key and refuses a caller without one. No model is called, so no Bedrock model
 * access or upstream key is needed.
 */
import { App } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { AiGatewayStack } from '../lib/sample';

const app = new App();
const stack = new AiGatewayStack(app, 'IntegAiGateway');
const integ = new IntegTest(app, 'AiGateway', { testCases: [stack], diffAssets: false, stackUpdateWorkflow: false });

const modelsUrl = `${stack.api.url}v1/models`;
const key = integ.assertions.awsApiCall('SecretsManager', 'getSecretValue', {
  SecretId: stack.api.consumers!.secrets['sample-consumer'].secretArn,
});
const withKey = integ.assertions.httpApiCall(modelsUrl, { headers: { 'x-api-key': key.getAttString('SecretString') } });
withKey.expect(ExpectedResult.objectLike({
  status: 200,
  body: { object: 'list', data: Match.arrayWith([Match.objectLike({ id: 'fast' }), Match.objectLike({ id: 'smart' })]) },
}));
const withoutKey = integ.assertions.httpApiCall(modelsUrl);
withoutKey.expect(ExpectedResult.objectLike({ status: 403 }));

// A new key takes a moment to work at API Gateway: retry the keyed call.
key.next(withKey.waitForAssertions()).next(withoutKey);
