import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiAuthorization } from './api-authorization';
import { ApiMonitoring, ApiMonitoringOptions } from '../monitoring/api-monitoring';
import { CACHEABLE_API_DEFAULTS } from './cacheable-api-defaults';
import { dropRedundantRoleDependency } from '../shared/cfn-dependencies';
import { DataCache } from '../data-cache/data-cache';
import { EdgeCache, EdgeCacheOptions } from '../edge/edge-cache';
import { withDefaults } from '../shared/defaults';
import { acknowledge } from '../shared/nag';
import { checkRange, ParsedRoute, parseRouteTable } from './route-table';
import { RouteTable } from './route-spec';
import { dataCacheKeyPrefix, routeEnvironment } from './route-environment';
import { StatelessFunction, StatelessFunctionOptions } from '../functions/stateless-function';

/** Cache cluster sizes API Gateway offers, in GB. */
export const GATEWAY_CACHE_SIZES = ['0.5', '1.6', '6.1', '13.5', '28.4', '58.2', '118', '237'];

/** Construct id of the singleton function behind every AwsCustomResource of a stack. */
const PROVIDER_FUNCTION_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

/** Request rate limits of the stage. */
export interface ThrottleSettings {
  /** Steady-state requests per second, 1 to 10000. */
  readonly rateLimit: number;
  /** Burst capacity in requests, 1 to 5000. */
  readonly burstLimit: number;
}

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
   * Stage name.
   * @default 'v1'
   */
  readonly stageName?: string;
  /**
   * Stage throttling.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttle?: ThrottleSettings;
  /**
   * CORS pre-flight and headers. Not needed when browsers reach the API through the
   * CloudFront distribution on the site's own origin.
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
   * Create the account-level role that lets API Gateway write execution logs. Set false when
   * the account already has one (it is one setting per account and region).
   * @default true
   */
  readonly cloudWatchRole?: boolean;
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

  constructor(scope: Construct, id: string, props: CacheableApiProps) {
    super(scope, id);
    if (!(props.authorization instanceof ApiAuthorization)) {
      throw new Error(
        'authorization is required: use ApiAuthorization.iam(), .cognito(...), .authorizer(...) or .publicAccess(reason)',
      );
    }
    this.routes = parseRouteTable(props.routes);
    const settings = withDefaults(CACHEABLE_API_DEFAULTS, props);
    checkRange('throttle.rateLimit', settings.throttle.rateLimit, 1, 10000, 'requests per second');
    checkRange('throttle.burstLimit', settings.throttle.burstLimit, 1, 5000, 'requests');
    if (!GATEWAY_CACHE_SIZES.includes(settings.gatewayCacheSize)) {
      throw new Error(`gatewayCacheSize must be one of ${GATEWAY_CACHE_SIZES.join(', ')} (GB), got "${settings.gatewayCacheSize}"`);
    }
    if (!/^[A-Za-z0-9_]{1,128}$/.test(settings.stageName)) {
      throw new Error(`stageName must be 1 to 128 letters, digits or underscores, got "${settings.stageName}"`);
    }
    for (const route of this.routes) {
      if (route.cache.data && !props.dataCache) {
        // A per-container memory cache would survive a write in every other container.
        throw new Error(`routes['${route.key}'].cache.data needs a shared data cache: pass dataCache (a DataCache construct)`);
      }
      const auth = route.options.authorization ?? props.authorization;
      if (route.cache.edge && auth.authenticated) {
        throw new Error(
          `routes['${route.key}'].cache.edge: an authenticated route cannot be cached at the edge, which would serve one caller's response to others`,
        );
      }
    }

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: settings.accessLogRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const gatewayCached = this.routes.filter((r) => r.cache.gateway);

    this.restApi = new apigw.RestApi(this, 'Api', {
      restApiName: settings.apiName,
      description: `Stateless API with cacheable layers (${this.routes.length} routes)`,
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      cloudWatchRole: settings.cloudWatchRole,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
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
        methodOptions: Object.fromEntries(
          gatewayCached.map((r) => [
            `${r.path}/${r.method}`,
            {
              cachingEnabled: true,
              cacheTtl: Duration.seconds(r.cache.gateway!.ttl),
              cacheDataEncrypted: true,
              // A method override does not inherit the stage-wide settings: repeat them.
              loggingLevel: settings.loggingLevel,
              dataTraceEnabled: false,
              metricsEnabled: true,
              throttlingRateLimit: settings.throttle.rateLimit,
              throttlingBurstLimit: settings.throttle.burstLimit,
            },
          ]),
        ),
      },
    });
    this.stage = this.restApi.deploymentStage;
    this.url = this.restApi.url;
    this.addJsonGatewayResponses(props.cors);

    const validator = this.restApi.addRequestValidator('RequestValidator', {
      requestValidatorName: 'parameters-and-body',
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    for (const route of this.routes) {
      this.addRoute(route, route.options.authorization ?? props.authorization, validator, settings.functionDefaults, props.dataCache);
    }

    if (gatewayCached.length > 0) this.requireAuthorizationForCacheControl(gatewayCached);

    if (settings.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.stage.stageArn,
        webAclArn: settings.webAclArn,
      });
    }
    if (this.routes.some((r) => r.cache.edge)) {
      this.edge = new EdgeCache(this, 'Edge', { ...props.edge, api: this });
    }
    if (props.monitoring !== false) {
      this.monitoring = new ApiMonitoring(this, 'Monitoring', { dataCache: props.dataCache, ...props.monitoring, api: this });
    }
    if (!settings.webAclArn && !this.edge?.originVerification) {
      acknowledge(this.stage, 'AwsSolutions-APIG3', 'No web ACL: no webAclArn was passed and no edge-cached route brings the origin-verification web ACL; the stage is throttled');
    }
    if (settings.cloudWatchRole) {
      acknowledge(
        this.restApi.node.findChild('CloudWatchRole'),
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'API Gateway account-level logging role; the AWS managed policy is the documented way to grant it',
      );
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
    dataCache: DataCache | undefined,
  ): void {
    const fnOptions = { ...functionDefaults, ...route.options.function };
    const cacheClient = route.cache.data && dataCache;
    const fn = new StatelessFunction(this, `${route.id}Function`, {
      ...(cacheClient ? { vpc: cacheClient.vpc, vpcSubnets: cacheClient.functionSubnets } : {}),
      ...fnOptions,
      define: { ...(cacheClient ? cacheClient.bundlingDefine : {}), ...fnOptions.define },
      entry: route.options.entry,
      handler: route.options.handler,
      description: fnOptions.description ?? `${route.key} handler`,
      environment: { ...fnOptions.environment, ...routeEnvironment(route, dataCacheKeyPrefix(this)) },
    });
    this.functions[route.key] = fn;
    if (cacheClient) cacheClient.grantConnect(fn);
    acknowledge(fn, 'Serverless-LambdaDLQ', 'Invoked synchronously by API Gateway: a failure goes back to the caller; a DLQ only receives asynchronous invocations');

    const requestParameters: Record<string, boolean> = {};
    for (const p of route.pathParameters) requestParameters[`method.request.path.${p}`] = true;
    for (const [q, required] of Object.entries(route.options.request?.queryStrings ?? {})) {
      requestParameters[`method.request.querystring.${q}`] = required;
    }
    for (const [h, required] of Object.entries(route.options.request?.headers ?? {})) {
      requestParameters[`method.request.header.${h}`] = required;
    }
    const cacheKeyParameters = route.cache.gateway
      ? [
          ...route.pathParameters.map((p) => `method.request.path.${p}`),
          ...route.cache.key.queryStrings.map((q) => `method.request.querystring.${q}`),
          ...route.cache.key.headers.map((h) => `method.request.header.${h}`),
        ]
      : undefined;
    for (const h of route.cache.gateway ? route.cache.key.headers : []) {
      requestParameters[`method.request.header.${h}`] ??= false;
    }

    const bodySchema = route.options.request?.bodySchema;
    const model = bodySchema
      ? this.restApi.addModel(`${route.id}Body`, {
          contentType: 'application/json',
          modelName: `${route.id}Body`,
          schema: bodySchema,
        })
      : undefined;

    const method = this.restApi.root.resourceForPath(route.path).addMethod(
      route.method,
      new apigw.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false, cacheKeyParameters }),
      {
        ...authorization.bind(this),
        operationName: route.id,
        requestValidator: validator,
        requestParameters,
        requestModels: model ? { 'application/json': model } : undefined,
      },
    );
    this.methods[route.key] = method;

    if (authorization.kind === 'public') {
      acknowledge(method, 'AwsSolutions-APIG4', `Public by explicit choice: ${authorization.publicReason}`);
      acknowledge(method, 'AwsSolutions-COG4', `Public by explicit choice: ${authorization.publicReason}`);
    } else if (authorization.kind !== 'cognito') {
      acknowledge(method, 'AwsSolutions-COG4', `Callers authenticate with ${authorization.kind === 'iam' ? 'IAM (SigV4)' : 'a custom authorizer'} instead of a Cognito user pool`);
    }
  }

  /**
   * A client may send `Cache-Control: max-age=0` to make API Gateway bypass and refill its
   * cache. Only callers allowed `execute-api:InvalidateCache` may do that, and others get a
   * 403 rather than a warning header. CloudFormation has no property for these two method
   * settings, so an UpdateStage call sets them after every change of the stage's caching.
   */
  private requireAuthorizationForCacheControl(cachedRoutes: ParsedRoute[]): void {
    const paths = ['/*/*', ...cachedRoutes.map((r) => `/${r.path.replace(/\//g, '~1')}/${r.method}`)];
    const patchOperations = paths.flatMap((p) => [
      { op: 'replace', path: `${p}/caching/requireAuthorizationForCacheControl`, value: 'true' },
      { op: 'replace', path: `${p}/caching/unauthorizedCacheControlHeaderStrategy`, value: 'FAIL_WITH_403' },
    ]);
    const call: cr.AwsSdkCall = {
      service: 'APIGateway',
      action: 'updateStage',
      parameters: { restApiId: this.restApi.restApiId, stageName: this.stage.stageName, patchOperations },
      physicalResourceId: cr.PhysicalResourceId.of(`${this.node.addr}-cache-control-authorization`),
    };
    // A role and log group of our own instead of the provider's managed-policy role.
    const logGroup = new logs.LogGroup(this, 'CacheControlAuthorizationLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'CacheControlAuthorizationRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sets the stage cache authorization settings CloudFormation cannot set',
    });
    logGroup.grantWrite(role);
    new cr.AwsCustomResource(this, 'CacheControlAuthorization', {
      onCreate: call,
      onUpdate: call,
      installLatestAwsSdk: false,
      role,
      logGroup,
      memorySize: 256,
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['apigateway:PATCH'],
          resources: [Stack.of(this).formatArn({ service: 'apigateway', account: '', resource: `/restapis/${this.restApi.restApiId}/stages/${this.stage.stageName}` })],
        }),
      ]),
    });
    const provider = Stack.of(this).node.tryFindChild(PROVIDER_FUNCTION_ID);
    if (provider instanceof lambda.Function) {
      dropRedundantRoleDependency(provider);
      acknowledge(provider, 'Serverless-LambdaDLQ', 'Custom-resource provider invoked synchronously by CloudFormation, which reports failures itself');
      acknowledge(provider, 'Serverless-LambdaTracing', 'CDK-owned custom-resource provider: aws-cdk-lib offers no tracing option for it');
    }
  }

  /** API Gateway's own errors (auth, validation, throttling, integration) answered as JSON. */
  private addJsonGatewayResponses(cors: apigw.CorsOptions | undefined): void {
    const headers: Record<string, string> = {
      'Content-Type': "'application/json'",
      'Cache-Control': "'no-store'",
    };
    if (cors) headers['Access-Control-Allow-Origin'] = `'${cors.allowOrigins[0]}'`;
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
      this.restApi.addGatewayResponse(id, { type, responseHeaders: headers, templates: { 'application/json': body(message) } });
    }
  }
}
