import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ApiAuthorization } from '../api/api-authorization';
import { CacheableApi } from '../api/cacheable-api';
import { Compliance } from '../compliance/compliance';
import { CompliancePolicy } from '../compliance/compliance-policy';
import { acknowledgeInPacks } from '../compliance/pack-rules';
import { ModelCacheStore, ModelRoutes } from '../ai/model-routes';
import { ModelTarget } from '../ai/model-target';
import { acknowledge } from '../shared/nag';

/** Name of the sample's one consumer of the model routes. */
const SAMPLE_CONSUMER = 'sample-consumer';

/** Properties of the sample AI gateway stack. */
export interface AiGatewayStackProps extends StackProps {
  /**
   * Tokens the sample consumer may spend per day.
   * @default 200000
   */
  readonly dailyTokens?: number;
  /**
   * The compliance profile for every resource of the stack, e.g. `CompliancePolicy.strict()`
   * (`cdk synth -c compliance=strict`).
   * @default CompliancePolicy.standard() - the kit's defaults, every regulated-pack finding acknowledged on its resource
   */
  readonly compliance?: CompliancePolicy;
}

/**
 * The second sample app: an OpenAI-compatible AI gateway. `fast` is a Bedrock model (IAM,
 * no secret) that falls back to `fast-backup` when throttled; `smart` is an OpenAI-compatible
 * upstream whose key is in Secrets Manager. Answers of deterministic requests are cached in
 * DynamoDB (the function stays outside any VPC so the upstream is reachable). One consumer
 * has an API key, a usage-plan throttle and a daily token budget.
 */
export class AiGatewayStack extends Stack {
  public readonly api: CacheableApi;
  public readonly models: ModelRoutes;

  constructor(scope: Construct, id: string, props: AiGatewayStackProps = {}) {
    super(scope, id, props);

    const upstreamKey = new secretsmanager.Secret(this, 'UpstreamApiKey', {
      description: 'API key of the OpenAI-compatible upstream behind the "smart" alias (set its value after deploying)',
    });
    acknowledge(upstreamKey, 'AwsSolutions-SMG4', 'A third-party API key: it is rotated at the provider, then stored here; there is no hosted rotation for it');

    this.models = new ModelRoutes(this, 'Models', {
      models: {
        fast: ModelTarget.bedrock('anthropic.claude-3-haiku-20240307-v1:0', { defaults: { temperature: 0, maxTokens: 1024 }, fallbacks: ['fast-backup'] }),
        'fast-backup': ModelTarget.bedrock('amazon.nova-lite-v1:0', { defaults: { temperature: 0, maxTokens: 1024 } }),
        smart: ModelTarget.openAiCompatible({ baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: upstreamKey }),
      },
      cacheStore: ModelCacheStore.DYNAMODB,
      cacheTtl: Duration.hours(6),
      budgets: { consumers: [{ consumer: SAMPLE_CONSUMER, tokens: props.dailyTokens ?? 200_000, period: 'day' }] },
    });

    this.api = new CacheableApi(this, 'Api', {
      apiName: 'ai-gateway',
      authorization: ApiAuthorization.iam(),
      routes: { ...this.models.routes },
      throttle: { rateLimit: 50, burstLimit: 100 },
      // The sample consumer's key (generated into Secrets Manager), request throttle and quota;
      // its token budget is enforced by the model routes.
      consumers: [{ name: SAMPLE_CONSUMER, throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 5_000, period: apigw.Period.DAY } }],
      // Every alarm notifies a topic of its own, KMS-encrypted (subscribe the on-call to it).
      monitoring: { createAlarmTopic: true },
    });
    this.models.bind(this.api);
    Compliance.apply(this, props.compliance ?? CompliancePolicy.standard());
    acknowledgeInPacks(
      this.api.stage,
      'APIGWAssociatedWithWAF',
      'No regional web ACL, by choice of this sample: API Gateway checks every caller\'s API key against its usage plan (5 requests/s, 5,000 a day) ' +
        'before a function runs, and the token budget caps what a key can spend; a web ACL (webAclArn) would add per-address rate rules at $5/month + $1/rule',
    );

    new CfnOutput(this, 'ChatCompletionsUrl', { value: `${this.api.url}v1/chat/completions` });
    new CfnOutput(this, 'UpstreamApiKeySecret', { value: upstreamKey.secretArn });
  }
}
