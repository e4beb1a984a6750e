import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { BudgetConfig } from '../../lambda/ai/config';
import { ApiAuthorization } from '../api/api-authorization';
import type { CacheableApi } from '../api/cacheable-api';
import { RouteOptions, RouteTable } from '../api/route-spec';
import { checkRange } from '../api/route-table';
import { DataCache } from '../data-cache/data-cache';
import { lambdaEntry } from '../functions/lambda-entry';
import { StatelessFunctionOptions } from '../functions/stateless-function';
import { checkModelTable, ModelTarget } from './model-target';

/** Where answers are cached. */
export enum ModelCacheStore {
  /** A DynamoDB table of this construct: no VPC needed, so Internet upstreams stay reachable. */
  DYNAMODB = 'dynamodb',
  /** The API's data cache (ElastiCache): the chat function runs in its isolated VPC, Bedrock only. */
  DATA_CACHE = 'data-cache',
  /** No answer cache (and no single-flight across requests). */
  NONE = 'none',
}

/** A token budget. */
export interface TokenBudget {
  /** Tokens (input + output) a consumer may spend per period. */
  readonly tokens: number;
  /**
   * Budget period, in UTC.
   * @default 'day'
   */
  readonly period?: 'day' | 'month';
}

/**
 * One consumer's budget, keyed by the API key API Gateway validates: name a consumer of the
 * `CacheableApi` (`consumers`, whose keys it generates into Secrets Manager), or pass a key you
 * manage yourself. Exactly one of the two.
 */
export interface ConsumerBudget extends TokenBudget {
  /**
   * Name of one of the API's `consumers`; its key is looked up when the routes are bound.
   * @default - `apiKey` must be given
   */
  readonly consumer?: string;
  /**
   * An API key you manage yourself (it needs a usage plan on the API's stage).
   * @default - `consumer` must be given
   */
  readonly apiKey?: apigw.IApiKey;
}

/** Per-consumer token budgets, enforced atomically across containers by a DynamoDB counter. */
export interface ModelBudgets {
  /**
   * Budget of every consumer not listed in `consumers` (requests without an API key count as the consumer `anonymous`).
   * @default - unlisted consumers are not limited
   */
  readonly default?: TokenBudget;
  /**
   * Budgets of named API keys.
   * @default - none
   */
  readonly consumers?: ConsumerBudget[];
}

/** Properties of ModelRoutes. */
export interface ModelRoutesProps {
  /** The alias table: the `model` names callers use, each pointing at a Bedrock model, an upstream or the local model. */
  readonly models: Record<string, ModelTarget>;
  /**
   * Answer cache store. `DATA_CACHE` runs the chat function in the data cache's isolated VPC
   * (no NAT): Bedrock is reached through an interface endpoint created here, and
   * OpenAI-compatible upstreams are refused because they need Internet egress. `DYNAMODB`
   * keeps the function outside any VPC, with Internet egress, and works for every provider.
   * @default ModelCacheStore.DYNAMODB
   */
  readonly cacheStore?: ModelCacheStore;
  /**
   * The data cache, required with `cacheStore: DATA_CACHE` (pass the same one to CacheableApi).
   * @default - none
   */
  readonly dataCache?: DataCache;
  /**
   * Lifetime of a cached answer (1 second to 7 days).
   * @default Duration.hours(1)
   */
  readonly cacheTtl?: Duration;
  /**
   * Token budgets per consumer.
   * @default - no budgets
   */
  readonly budgets?: ModelBudgets;
  /**
   * Require an API key on the model routes (`requireApiKey` on both routes): API Gateway checks
   * it against the usage plans of the API's `consumers`, and the key identifies the consumer
   * whose budget a call spends. The `CacheableApi` then needs `consumers`.
   * @default true
   */
  readonly apiKeyRequired?: boolean;
  /**
   * Authorization of the model routes.
   * @default ApiAuthorization.publicAccess(...) - callers are identified by API key, not signed
   */
  readonly authorization?: ApiAuthorization;
  /**
   * Path prefix of the routes.
   * @default '/v1'
   */
  readonly pathPrefix?: string;
  /**
   * Longest wait for one upstream answer (per alias tried).
   * @default Duration.seconds(60)
   */
  readonly upstreamTimeout?: Duration;
  /**
   * CloudWatch namespace of the model metrics (tokens, cache, latency per model and consumer).
   * @default 'CdkCacheableApi/Models'
   */
  readonly metricsNamespace?: string;
  /**
   * Overrides of the chat function's settings.
   * @default - timeout 2 minutes, other StatelessFunction defaults
   */
  readonly chatFunction?: StatelessFunctionOptions;
}

/** Defaults of ModelRoutes, in one place. */
export const MODEL_ROUTES_DEFAULTS = {
  cacheStore: ModelCacheStore.DYNAMODB,
  cacheTtl: Duration.hours(1),
  apiKeyRequired: true,
  pathPrefix: '/v1',
  upstreamTimeout: Duration.seconds(60),
  metricsNamespace: 'CdkCacheableApi/Models',
  chatTimeout: Duration.minutes(2),
  maxBodyBytes: 1024 * 1024,
} as const;

/** What `modelRouteTable` builds the two routes from. */
export interface ModelRouteTableOptions {
  /** Path prefix, e.g. `/v1`. */
  readonly prefix: string;
  /** The chat function's AI_* variables. */
  readonly environment: Record<string, string>;
  /** The alias table as JSON (AI_MODELS). */
  readonly modelsJson: string;
  readonly authorization: ApiAuthorization;
  /** Set when answers live in the data cache: the chat route then runs in its VPC. */
  readonly cacheTtl?: Duration;
  readonly chatFunction?: StatelessFunctionOptions;
  /** Both routes need an API key of one of the API's consumers. */
  readonly requireApiKey?: boolean;
}

/** The chat-completions and models routes (ModelRoutes, and the dev server's model routes). */
export function modelRouteTable(o: ModelRouteTableOptions): RouteTable {
  const inVpc = o.cacheTtl !== undefined;
  const chat: RouteOptions = {
    entry: lambdaEntry('ai', 'chat-completions'),
    authorization: o.authorization,
    requireApiKey: o.requireApiKey,
    responseTransferMode: apigw.ResponseTransferMode.STREAM,
    request: { maxBodyBytes: MODEL_ROUTES_DEFAULTS.maxBodyBytes },
    // A data-cache route runs in the cache's VPC with IAM auth to it; its entries live as long as answers.
    ...(inVpc ? { cache: { data: { ttl: o.cacheTtl! } } } : {}),
    function: {
      timeout: MODEL_ROUTES_DEFAULTS.chatTimeout,
      description: 'OpenAI-compatible chat completions over the model alias table',
      ...o.chatFunction,
      // Outside the data cache, neither cache client library is bundled.
      define: { ...(inVpc ? {} : { 'process.env.DATA_CACHE_BUNDLED_BACKEND': '"none"' }), ...o.chatFunction?.define },
      environment: { ...o.chatFunction?.environment, ...o.environment },
    },
  };
  return {
    [`POST ${o.prefix}/chat/completions`]: chat,
    [`GET ${o.prefix}/models`]: {
      entry: lambdaEntry('ai', 'list-models'),
      authorization: o.authorization,
      requireApiKey: o.requireApiKey,
      function: { description: 'Model aliases in the OpenAI list format', environment: { AI_MODELS: o.modelsJson } },
    },
  };
}

/**
 * OpenAI-compatible model routes for a CacheableApi route table: `POST {prefix}/chat/completions`
 * (unified format, alias table with fallbacks, answer cache with single-flight, per-consumer
 * token budgets, SSE streaming through API Gateway response streaming) and `GET {prefix}/models`.
 *
 *   const models = new ModelRoutes(this, 'Models', { models: { fast: ModelTarget.bedrock('…') } });
 *   const api = new CacheableApi(this, 'Api', { routes: { ...models.routes, ...other }, … });
 *   models.bind(api);
 */
export class ModelRoutes extends Construct {
  /** Route table entries to spread into CacheableApi's `routes`. */
  public readonly routes: RouteTable;
  /** Route key of the chat-completions route. */
  public readonly chatRouteKey: string;
  /** Route key of the models list. */
  public readonly modelsRouteKey: string;
  /** Table of cached answers and budget counters, when the store or the budgets need it. */
  public readonly table?: dynamodb.TableV2;
  /** The Bedrock runtime interface endpoint, when the chat function runs in the data cache's VPC. */
  public bedrockEndpoint?: ec2.InterfaceVpcEndpoint;
  private readonly props: ModelRoutesProps;
  private readonly cacheStore: ModelCacheStore;

  /** The same as `new ModelRoutes(scope, id, props)`. */
  static openAiCompatible(scope: Construct, id: string, props: ModelRoutesProps): ModelRoutes {
    return new ModelRoutes(scope, id, props);
  }

  constructor(scope: Construct, id: string, props: ModelRoutesProps) {
    super(scope, id);
    checkModelTable('models', props.models);
    this.props = props;
    this.cacheStore = props.cacheStore ?? MODEL_ROUTES_DEFAULTS.cacheStore;
    if (!Object.values(ModelCacheStore).includes(this.cacheStore)) {
      throw new Error(`cacheStore must be one of ${Object.values(ModelCacheStore).join(', ')}, got "${this.cacheStore}"`);
    }
    const prefix = props.pathPrefix ?? MODEL_ROUTES_DEFAULTS.pathPrefix;
    if (!/^(\/[A-Za-z0-9._-]+)*$/.test(prefix)) throw new Error(`pathPrefix must be empty or like "/v1", got "${prefix}"`);
    const cacheTtl = props.cacheTtl ?? MODEL_ROUTES_DEFAULTS.cacheTtl;
    checkRange('cacheTtl', cacheTtl.toSeconds(), 1, 7 * 24 * 3600, 'seconds');
    const timeout = props.upstreamTimeout ?? MODEL_ROUTES_DEFAULTS.upstreamTimeout;
    checkRange('upstreamTimeout', timeout.toSeconds(), 1, 900, 'seconds');
    const inVpc = this.cacheStore === ModelCacheStore.DATA_CACHE;
    if (inVpc && !props.dataCache) throw new Error('cacheStore DATA_CACHE needs dataCache (the DataCache also passed to CacheableApi)');
    const upstreams = Object.entries(props.models).filter(([, t]) => t.provider === 'openai');
    if (inVpc && upstreams.length > 0) {
      throw new Error(
        `models.${upstreams[0][0]}: an OpenAI-compatible upstream needs Internet egress, which the data cache's isolated VPC does not have; ` +
          'use cacheStore: ModelCacheStore.DYNAMODB (the function then runs outside the VPC) or put the upstream behind its own route',
      );
    }
    for (const [i, c] of (props.budgets?.consumers ?? []).entries()) {
      checkBudget(`budgets.consumers[${i}]`, c);
      if ((c.consumer === undefined) === (c.apiKey === undefined)) {
        throw new Error(`budgets.consumers[${i}]: give exactly one of consumer (a CacheableApi consumer's name) or apiKey`);
      }
    }
    if (props.budgets?.default) checkBudget('budgets.default', props.budgets.default);

    const needsTable = this.cacheStore === ModelCacheStore.DYNAMODB || props.budgets !== undefined;
    if (needsTable) {
      this.table = new dynamodb.TableV2(this, 'Table', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        timeToLiveAttribute: 'ttl',
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
        // Cached answers and counters of the current period: nothing that outlives the stack.
        removalPolicy: RemovalPolicy.DESTROY,
      });
    }

    const stack = Stack.of(this);
    const modelsJson = stack.toJsonString(Object.fromEntries(Object.entries(props.models).map(([alias, t]) => [alias, t.toConfig()])));
    const environment: Record<string, string> = {
      AI_MODELS: modelsJson,
      AI_CACHE_STORE: this.cacheStore,
      AI_CACHE_TTL_SECONDS: String(cacheTtl.toSeconds()),
      AI_UPSTREAM_TIMEOUT_MS: String(timeout.toMilliseconds()),
      AI_METRICS_NAMESPACE: props.metricsNamespace ?? MODEL_ROUTES_DEFAULTS.metricsNamespace,
      ...(this.table ? { AI_TABLE: this.table.tableName } : {}),
    };

    const authorization =
      props.authorization ?? ApiAuthorization.publicAccess('Model routes identify callers by the API key API Gateway checks against a usage plan, which also keys their token budget');
    this.routes = modelRouteTable({
      prefix,
      environment,
      modelsJson,
      authorization,
      cacheTtl: inVpc ? cacheTtl : undefined,
      // A network identity of its own: the Bedrock endpoint opens to it alone, not to every
      // data-cache client sharing the API's security group.
      chatFunction: inVpc
        ? { securityGroups: [new ec2.SecurityGroup(this, 'ChatSecurityGroup', { vpc: props.dataCache!.vpc, description: 'Chat-completions function' })], ...props.chatFunction }
        : props.chatFunction,
      requireApiKey: props.apiKeyRequired ?? MODEL_ROUTES_DEFAULTS.apiKeyRequired,
    });
    this.chatRouteKey = `POST ${prefix}/chat/completions`;
    this.modelsRouteKey = `GET ${prefix}/models`;
  }

  /** Adds the model section (metrics per alias) to `dashboard`; `bind` does it for the API's own dashboard. */
  addDashboardSection(dashboard: cloudwatch.Dashboard): void {
    dashboard.addWidgets(...modelWidgets(this.props.metricsNamespace ?? MODEL_ROUTES_DEFAULTS.metricsNamespace, Object.keys(this.props.models)));
  }

  /**
   * Grants the chat function exactly what its aliases use (Bedrock invoke on the declared model
   * ids, read of each upstream's key secret, the table's item actions), requires API keys on
   * both routes, and adds the Bedrock runtime endpoint when the function runs in the VPC.
   */
  bind(api: CacheableApi): void {
    const fn = api.functions[this.chatRouteKey];
    if (!fn) throw new Error(`ModelRoutes.bind: the API has no route "${this.chatRouteKey}"; spread models.routes into its routes`);
    const stack = Stack.of(this);
    const bedrockModels = Object.values(this.props.models).filter((t) => t.provider === 'bedrock');
    if (bedrockModels.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          // Converse and ConverseStream are authorized as InvokeModel and InvokeModelWithResponseStream.
          actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
          resources: [...new Set(bedrockModels.map((t) => `arn:${stack.partition}:bedrock:${t.region ?? stack.region}::foundation-model/${t.model}`))],
        }),
      );
    }
    for (const t of Object.values(this.props.models)) if (t.apiKey) t.apiKey.grantRead(fn);
    if (this.table) {
      this.table.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem');
    }
    const budgets = this.props.budgets;
    if (budgets) {
      // The consumers' keys exist only once the API does: the budget table goes in here.
      const config: BudgetConfig = {
        default: budgets.default && { tokens: budgets.default.tokens, period: budgets.default.period ?? 'day' },
        consumers: (budgets.consumers ?? []).map((c, i) => ({ consumer: budgetKey(api, c, i).keyId, tokens: c.tokens, period: c.period ?? 'day' })),
      };
      fn.addEnvironment('AI_BUDGETS', stack.toJsonString(config));
    }
    if (api.monitoring) this.addDashboardSection(api.monitoring.dashboard);
    if (this.cacheStore === ModelCacheStore.DATA_CACHE && bedrockModels.length > 0 && this.props.dataCache) {
      const cache = this.props.dataCache;
      this.bedrockEndpoint = cache.vpc.addInterfaceEndpoint('BedrockRuntimeEndpoint', {
        service: ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
        subnets: cache.functionSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      this.bedrockEndpoint.connections.allowDefaultPortFrom(fn, 'Chat function to Bedrock runtime');
    }
  }
}

/** The model section of a dashboard: per alias, tokens, cache hit ratio, upstream latency, throttles and budget rejections. */
function modelWidgets(namespace: string, aliases: string[]): cloudwatch.IWidget[] {
  const metric = (name: string, alias: string, statistic = 'Sum') =>
    new cloudwatch.Metric({ namespace, metricName: name, dimensionsMap: { Model: alias }, statistic, period: Duration.minutes(5), label: `${alias} ${name}` });
  const hitRatio = aliases.map(
    (alias, i) =>
      new cloudwatch.MathExpression({
        expression: `100 * hits${i} / MAX([hits${i} + misses${i}, 1])`,
        usingMetrics: { [`hits${i}`]: metric('CacheHit', alias), [`misses${i}`]: metric('CacheMiss', alias) },
        label: `${alias} cache hit %`,
        period: Duration.minutes(5),
      }),
  );
  return [
    new cloudwatch.TextWidget({ markdown: '## Models\nPer alias: tokens spent and saved by the answer cache, its hit ratio, upstream latency, throttles and budget rejections.', width: 24, height: 2 }),
    new cloudwatch.GraphWidget({ title: 'Tokens in / out', left: aliases.flatMap((a) => [metric('InputTokens', a), metric('OutputTokens', a)]), width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Tokens saved by the cache', left: aliases.map((a) => metric('TokensSaved', a)), width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Answer cache hit ratio (%)', left: hitRatio, leftYAxis: { min: 0, max: 100 }, width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Upstream latency p50 / p99 (ms)', left: aliases.flatMap((a) => [metric('UpstreamLatency', a, 'p50'), metric('UpstreamLatency', a, 'p99')]), width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Upstream throttles and budget rejections', left: aliases.flatMap((a) => [metric('UpstreamThrottles', a), metric('BudgetRejections', a)]), width: 12 }),
  ];
}

/** The API key a consumer budget is keyed on: its own, or the API consumer's it names. */
function budgetKey(api: CacheableApi, budget: ConsumerBudget, i: number): apigw.IApiKey {
  if (budget.apiKey) return budget.apiKey;
  const keys = api.consumers?.apiKeys ?? {};
  const key = keys[budget.consumer!];
  if (!key) {
    const known = Object.keys(keys);
    throw new Error(
      `budgets.consumers[${i}].consumer: the API has no consumer "${budget.consumer}"; ${known.length ? `its consumers are ${known.join(', ')}` : 'pass consumers to the CacheableApi'}`,
    );
  }
  return key;
}

function checkBudget(prop: string, budget: TokenBudget): void {
  if (!Number.isInteger(budget.tokens) || budget.tokens < 1) throw new Error(`${prop}.tokens must be a positive integer, got ${budget.tokens}`);
  if (budget.period !== undefined && budget.period !== 'day' && budget.period !== 'month') {
    throw new Error(`${prop}.period must be one of day, month, got "${budget.period}"`);
  }
}
