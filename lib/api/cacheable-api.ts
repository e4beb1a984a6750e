import { CfnOutput, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiGatewayAccountLogging } from './account-logging';
import { ApiAuthorization } from './api-authorization';
import { ApiConsumer, ApiConsumers, checkConsumers, ThrottleSettings } from './api-consumers';
import { ApiMonitoring, ApiMonitoringOptions } from '../monitoring/api-monitoring';
import { CACHEABLE_API_DEFAULTS } from './cacheable-api-defaults';
import { checkCors, corsEnvironment, withCorsCacheKey } from './cors';
import { DataCache } from '../data-cache/data-cache';
import { routeFunctionOptions, sharedDataCacheClientGroup } from './data-cache-clients';
import { EdgeCache, EdgeCacheOptions } from '../edge/edge-cache';
import { withDefaults } from '../shared/defaults';
import { allowCloudWatchLogs } from '../shared/key-policies';
import { acknowledge } from '../shared/nag';
import { checkRange, ParsedRoute, parseRouteTable } from './route-table';
import { RouteTable } from './route-spec';
import { dataCacheKeyPrefix, routeEnvironment } from './route-environment';
import { addJsonGatewayResponses } from './gateway-responses';
import { checkGatewayCache, gatewayCacheKeyParameters, gatewayCacheMethodOptions, requireAuthorizationForCacheControl } from './stage-cache';
import { StatelessFunction, StatelessFunctionOptions } from '../functions/stateless-function';
import { methodRequestParameters, methodSpec, placeRoutes, RouteStack, RouteStacks } from './route-stacks';
import { checkApiResourceQuota, checkTemplateLimits } from '../shared/limits';

export type { ThrottleSettings } from './api-consumers';
export type { RouteStacks, RouteStacksOptions } from './route-stacks';

/** Cache cluster sizes API Gateway offers, in GB. */
export const GATEWAY_CACHE_SIZES = ['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'];

/** Properties of a CacheableApi. */
export interface CacheableApiProps {
  /**
   * The route table: `'<METHOD> /path/{param}'` to the handler and its validation and cache
   * settings. Each route gets its own function.
   */
  readonly routes: RouteTable;
  /**
   * How callers authenticate. Required: choose `ApiAuthorization.iam()`, `.cognito(...)`,
   * `.authorizer(...)`, or opt in to an open API with `.publicAccess(reason)`. Routes may override it.
   */
  readonly authorization: ApiAuthorization;
  /**
   * Name of the REST API.
   * @default - the construct's path
   */
  readonly apiName?: string;
  /**
   * Stage name: 1 to 128 letters, digits, hyphens or underscores (e.g. `prod-v1`).
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Stage throttling.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * CORS for browsers on other origins: pre-flight (OPTIONS) on every resource;
   * `Access-Control-Allow-Origin` echoing an allowed `Origin` with `Vary: Origin` on handler
   * responses (the runtime's `apiHandler` reads the origins from the route's environment) and
   * on API Gateway's own error responses; `Origin` added to the cache key of cached routes.
   * Not needed when browsers reach the API through the CloudFront distribution on the site's
   * own origin. See lib/api/README.md for what a listed origin can read.
   * @default - no CORS
   */
  readonly cors?: apigw.CorsOptions;
  /**
   * Settings applied to every route function; a route's `function` overrides them.
   * @default - the StatelessFunction defaults
   */
  readonly functionDefaults?: StatelessFunctionOptions;
  /**
   * Retention of the access-log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly accessLogRetention?: logs.RetentionDays;
  /**
   * Execution-log level of the stage. `INFO` logs every request; `ERROR` only failures.
   * @default apigw.MethodLoggingLevel.ERROR
   */
  readonly loggingLevel?: apigw.MethodLoggingLevel;
  /**
   * Set the account's API Gateway CloudWatch role from this API (an `ApiGatewayAccountLogging`,
   * retained on deletion). It is one setting per account and region, shared by every REST API
   * there: prefer deploying `ApiGatewayAccountLogging` once on its own. Execution and access
   * logs need that setting to exist; the API itself never creates or deletes it otherwise.
   * @default false
   */
  readonly cloudWatchRole?: boolean;
  /**
   * Named consumers, each with an API key (generated into Secrets Manager) and a usage plan
   * with its throttle and quota; routes with `requireApiKey` accept only their keys.
   * @default - no API keys
   */
  readonly consumers?: ApiConsumer[];
  /**
   * Customer-managed KMS key for the API's log groups (access logs, route functions, the
   * stage-cache setter) and secrets (API keys, origin verification). A key of this stack gets
   * the key-policy statement CloudWatch Logs needs; an imported key must already allow
   * `logs.<region>.amazonaws.com` (see lib/api/README.md).
   * @default - AWS managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Size of the API Gateway cache cluster in GB (one of GATEWAY_CACHE_SIZES), used when a
   * route has `cache.gateway`.
   * @default '0.5'
   */
  readonly gatewayCacheSize?: string;
  /**
   * ARN of a REGIONAL WAFv2 web ACL to associate with the stage.
   * @default - none
   */
  readonly webAclArn?: string;
  /**
   * Settings of the CloudFront distribution created when a route has `cache.edge`.
   * @default - EdgeCache defaults: origin verification on, PriceClass_100, logs to a new bucket
   */
  readonly edge?: EdgeCacheOptions;
  /**
   * Dashboard, alarms and per-request metrics (ApiMonitoring); `false` leaves them out.
   * @default - ApiMonitoring with its defaults, this API's data cache and distribution
   */
  readonly monitoring?: ApiMonitoringOptions | false;
  /**
   * The data cache that routes with `cache.data` use: their functions are placed in its VPC,
   * allowed through its security group, granted IAM auth and told its endpoint.
   * @default - none; a route with `cache.data` is then a synth error
   */
  readonly dataCache?: DataCache;
  /**
   * Put the functions of data-cached routes in one shared security group, opened to the cache by
   * one ingress rule, instead of a group and a rule per function (two resources per route). A
   * rule added to one of these functions' `connections` then applies to all of them: a route
   * that needs its own rules sets `function.securityGroups`, which always wins.
   * @default true
   */
  readonly shareDataCacheSecurityGroup?: boolean;
  /**
   * Nested stacks for large route tables: past `threshold` routes, each first path segment's
   * routes (or each declared group's) get a nested stack holding their functions, API Gateway
   * resources, methods and invoke permissions, so no template nears CloudFormation's 500
   * resources. The REST API, stage, deployment and the rest stay in this stack. See
   * lib/api/README.md before moving a segment between groups of a deployed API.
   * @default 'auto' - split past 45 routes, one nested stack per first path segment
   */
  readonly routeStacks?: RouteStacks;
  /**
   * API Gateway's "Resources per API" quota of this account (300 unless raised in Service
   * Quotas): a table needing more resources (one per distinct path prefix) fails at synth.
   * @default 300
   */
  readonly apiResourceQuota?: number;
}

/**
 * A regional API Gateway REST API built from a declarative route table: one StatelessFunction
 * per route, request validation, JSON errors, access logs, tracing, throttling and explicit
 * authorization, with per-route cache settings that the cache layers consume.
 */
export class CacheableApi extends Construct {
  /** The REST API. */
  public readonly restApi: apigw.RestApi;
  /** The deployed stage. */
  public readonly stage: apigw.Stage;
  /** The validated route table, in declaration order. */
  public readonly routes: ParsedRoute[];
  /** Each route's function, by route key (e.g. `GET /items/{id}`). */
  public readonly functions: Record<string, StatelessFunction> = {};
  /** Each route's method, by route key. */
  public readonly methods: Record<string, apigw.Method> = {};
  /** The stage's invoke URL. */
  public readonly url: string;
  /** The CloudFront distribution, when a route has `cache.edge`. */
  public readonly edge?: EdgeCache;
  /** The dashboard and alarms, unless `monitoring: false`. */
  public readonly monitoring?: ApiMonitoring;
  /** API keys and usage plans of the `consumers`, when there are any. */
  public readonly consumers?: ApiConsumers;
  /** The account's API Gateway logging setting, only with `cloudWatchRole: true`. */
  public readonly accountLogging?: ApiGatewayAccountLogging;
  /** The security group the data-cache client functions share (`shareDataCacheSecurityGroup`). */
  public readonly dataCacheClients?: ec2.ISecurityGroup;
  /** The nested stacks of the route groups, by construct id (empty below `routeStacks`' threshold). */
  public readonly routeStacks: Record<string, NestedStack> = {};

  constructor(scope: Construct, id: string, props: CacheableApiProps) {
    super(scope, id);
    if (!(props.authorization instanceof ApiAuthorization)) {
      throw new Error(
        'authorization is required: use ApiAuthorization.iam(), .cognito(...), .authorizer(...) or .publicAccess(reason)',
      );
    }
    checkCors(props.cors);
    this.routes = withCorsCacheKey(parseRouteTable(props.routes), props.cors);
    const settings = withDefaults(CACHEABLE_API_DEFAULTS, props);
    checkRange('throttle.rateLimit', settings.throttle.rateLimit, 1, 10000, 'requests per second');
    checkRange('throttle.burstLimit', settings.throttle.burstLimit, 1, 5000, 'requests');
    if (!GATEWAY_CACHE_SIZES.includes(settings.gatewayCacheSize)) {
      throw new Error(`gatewayCacheSize must be one of ${GATEWAY_CACHE_SIZES.join(', ')} (GB), got "${settings.gatewayCacheSize}"`);
    }
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(settings.stageName)) {
      throw new Error(`stageName must be 1 to 128 letters, digits, hyphens or underscores, got "${settings.stageName}"`);
    }
    const authorizationOf = (route: ParsedRoute) => route.options.authorization ?? props.authorization;
    for (const route of this.routes) {
      if (route.cache.data && !props.dataCache) {
        // A per-container memory cache would survive a write in every other container.
        throw new Error(`routes['${route.key}'].cache.data needs a shared data cache: pass dataCache (a DataCache construct)`);
      }
      if (route.cache.edge && authorizationOf(route).authenticated) {
        throw new Error(
          `routes['${route.key}'].cache.edge: an authenticated route cannot be cached at the edge, which would serve one caller's response to others`,
        );
      }
      checkGatewayCache(route, authorizationOf(route));
    }
    checkConsumers(props.consumers, this.routes);
    checkApiResourceQuota(this.routes.map((r) => r.path), props.apiResourceQuota);
    const placement = placeRoutes(this.routes, props.routeStacks);
    const encryptionKey = props.encryptionKey;
    if (encryptionKey) allowCloudWatchLogs(encryptionKey);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: settings.accessLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey,
    });
    const gatewayCached = this.routes.filter((r) => r.cache.gateway);

    this.restApi = new apigw.RestApi(this, 'Api', {
      restApiName: settings.apiName,
      description: `Stateless API with cacheable layers (${this.routes.length} routes)`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Explicit, whatever @aws-cdk/aws-apigateway:disableCloudWatchRole says: the account
      // setting belongs to ApiGatewayAccountLogging, never to an API's lifecycle.
      cloudWatchRole: false,
      defaultCorsPreflightOptions: settings.cors,
      deployOptions: {
        stageName: settings.stageName,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: settings.loggingLevel,
        // Request and response bodies may hold personal data: never in execution logs.
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: settings.throttle.rateLimit,
        throttlingBurstLimit: settings.throttle.burstLimit,
        // Written out even when off: a setting merely removed from a template leaves a
        // deployed cache running (aws-cdk#32342).
        cacheClusterEnabled: gatewayCached.length > 0,
        cacheClusterSize: gatewayCached.length > 0 ? settings.gatewayCacheSize : undefined,
        cachingEnabled: false,
        methodOptions: gatewayCacheMethodOptions(gatewayCached, settings),
      },
    });
    this.stage = this.restApi.deploymentStage;
    this.url = this.restApi.url;
    if (settings.cloudWatchRole) {
      this.accountLogging = new ApiGatewayAccountLogging(this, 'AccountLogging');
      this.stage.node.addDependency(this.accountLogging);
    }
    addJsonGatewayResponses(this.restApi, props.cors);

    const validator = this.restApi.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    this.dataCacheClients = sharedDataCacheClientGroup(this, this.routes, settings.functionDefaults, props.dataCache, settings.shareDataCacheSecurityGroup);
    for (const route of placement.parentRoutes) {
      this.addRoute(route, authorizationOf(route), validator, settings.functionDefaults, props);
    }
    for (const group of placement.groups) {
      const stack = new RouteStack(this, group.id, this.restApi, settings.stageName, settings.cors);
      this.routeStacks[group.id] = stack;
      const specs = group.routes.map((route) => this.addRoute(route, authorizationOf(route), validator, settings.functionDefaults, props, stack));
      stack.wireDeployment(specs);
    }
    this.node.addValidation({ validate: () => checkTemplateLimits([Stack.of(this), ...Object.values(this.routeStacks)]) });

    if (gatewayCached.length > 0) requireAuthorizationForCacheControl(this, this.restApi, gatewayCached, encryptionKey);
    if (props.consumers?.length) {
      this.consumers = new ApiConsumers(this, 'Consumers', {
        consumers: props.consumers,
        restApi: this.restApi,
        routes: this.routes,
        methods: this.methods,
        encryptionKey,
      });
    }

    if (settings.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.stage.stageArn,
        webAclArn: settings.webAclArn,
      });
    }
    if (this.routes.some((r) => r.cache.edge)) {
      this.edge = new EdgeCache(this, 'Edge', { encryptionKey, ...props.edge, api: this });
    }
    if (props.monitoring !== false) {
      this.monitoring = new ApiMonitoring(this, 'Monitoring', { dataCache: props.dataCache, ...props.monitoring, api: this });
    }
    if (!settings.webAclArn && !this.edge?.originVerification) {
      acknowledge(this.stage, 'AwsSolutions-APIG3', 'No web ACL: no webAclArn was passed and no edge-cached route brings the origin-verification web ACL; the stage is throttled');
    }
    new CfnOutput(this, 'Url', { value: this.url, description: 'Invoke URL of the API stage' });
  }

  /**
   * The function of a route, by its key as written in `routes` (`'get /items/'` finds
   * `GET /items`). Unlike `functions[key]`, a key that names no route throws, listing the routes.
   */
  public functionFor(routeKey: string): StatelessFunction {
    const match = /^\s*([A-Za-z]+)\s+(\/\S*?)\/*\s*$/.exec(routeKey);
    const key = match ? `${match[1].toUpperCase()} ${match[2] || '/'}` : routeKey;
    const fn = this.functions[key];
    if (!fn) {
      throw new Error(`functionFor('${routeKey}'): no route "${key}" in this API; its routes: ${this.routes.map((r) => r.key).join(', ')}`);
    }
    return fn;
  }

  private addRoute(
    route: ParsedRoute,
    authorization: ApiAuthorization,
    validator: apigw.RequestValidator,
    functionDefaults: StatelessFunctionOptions | undefined,
    props: CacheableApiProps,
    routeStack?: RouteStack,
  ): unknown {
    const dataCache = props.dataCache;
    const fnOptions = routeFunctionOptions(route, functionDefaults);
    const cacheClient = route.cache.data && dataCache;
    const fn = new StatelessFunction(routeStack ?? this, `${route.id}Function`, {
      ...(cacheClient ? { vpc: cacheClient.vpc, vpcSubnets: cacheClient.functionSubnets, securityGroups: this.dataCacheClients && [this.dataCacheClients] } : {}),
      ...fnOptions,
      define: { ...(cacheClient ? cacheClient.bundlingDefine : {}), ...fnOptions.define },
      entry: route.options.entry,
      handler: route.options.handler,
      description: fnOptions.description ?? `${route.key} handler`,
      environment: { ...fnOptions.environment, ...routeEnvironment(route, dataCacheKeyPrefix(this)), ...corsEnvironment(props.cors) },
      logEncryptionKey: fnOptions.logEncryptionKey ?? props.encryptionKey,
    });
    this.functions[route.key] = fn;
    if (cacheClient) cacheClient.grantConnect(fn);
    acknowledge(fn, 'Serverless-LambdaDLQ', 'Invoked synchronously by API Gateway: a failure goes back to the caller; a DLQ only receives asynchronous invocations');

    const cacheKeyParameters = route.cache.gateway ? gatewayCacheKeyParameters(route, authorization) : undefined;
    const requestParameters = methodRequestParameters(route, cacheKeyParameters);

    const bodySchema = route.options.request?.bodySchema;
    const modelOptions = { contentType: 'application/json', modelName: `${route.id}Body`, schema: bodySchema! };
    const model = !bodySchema
      ? undefined
      : routeStack
        ? new apigw.Model(routeStack, `${route.id}Body`, { ...modelOptions, restApi: routeStack.restApi })
        : this.restApi.addModel(`${route.id}Body`, modelOptions);

    const resource = routeStack ? routeStack.resourceForPath(route.path) : this.restApi.root.resourceForPath(route.path);
    const methodOptions: apigw.MethodOptions = {
      ...authorization.bind(this),
      operationName: route.id,
      requestValidator: validator,
      requestParameters,
      requestModels: model ? { 'application/json': model } : undefined,
      // Left out unless set, so templates of APIs without keys do not change.
      apiKeyRequired: route.options.requireApiKey ? true : undefined,
    };
    const method = resource.addMethod(
      route.method,
      new apigw.LambdaIntegration(fn, {
        proxy: true,
        allowTestInvoke: false,
        cacheKeyParameters,
        responseTransferMode: route.options.responseTransferMode,
        // A streamed answer may outlast the 29 s default: a streaming integration may wait up to 15 minutes.
        timeout: route.options.responseTransferMode === apigw.ResponseTransferMode.STREAM ? (fnOptions.timeout ?? fn.timeout) : undefined,
      }),
      methodOptions,
    );
    this.methods[route.key] = method;
    // The REST API refuses to synthesize without methods of its own: it sees only the parent's.
    if (routeStack) this.restApi.methods.push(method);

    if (authorization.kind === 'public') {
      acknowledge(method, 'AwsSolutions-APIG4', `Public by explicit choice: ${authorization.publicReason}`);
      acknowledge(method, 'AwsSolutions-COG4', `Public by explicit choice: ${authorization.publicReason}`);
    } else if (authorization.kind !== 'cognito') {
      acknowledge(method, 'AwsSolutions-COG4', `Callers authenticate with ${authorization.kind === 'iam' ? 'IAM (SigV4)' : 'a Lambda authorizer'} instead of a Cognito user pool`);
    }
    return methodSpec(route, methodOptions, requestParameters, cacheKeyParameters, fnOptions.timeout);
  }
}
