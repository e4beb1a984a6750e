import { Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Longest authorizer result cache API Gateway allows, in seconds. */
export const MAX_AUTHORIZER_CACHE_SECONDS = 3600;

/**
 * Default authorizer result-cache TTLs. The result cache is a cache layer too: API Gateway
 * keeps an authorizer's answer per identity-source value, so a revoked caller stays allowed
 * until the entry expires, and a Lambda authorizer's policy is reused for every route the
 * same identity calls.
 */
export const AUTHORIZER_CACHE_DEFAULTS = {
  /** A Cognito decision depends only on the token (scopes are checked per method): 5 minutes. */
  cognitoSeconds: 300,
  /**
   * A Lambda authorizer's policy may depend on what it was called for (path, method); a cached
   * policy would then decide other routes. Off unless you say the policy covers every route.
   */
  lambdaSeconds: 0,
} as const;

/** Options of `ApiAuthorization.cognito`. */
export interface CognitoAuthorizationOptions {
  /** User pools whose tokens are accepted (at least one). */
  readonly userPools: cognito.IUserPool[];
  /**
   * OAuth scopes the access token must carry (any one of them). Routes can ask for other
   * scopes with `withScopes(...)`, sharing the same authorizer.
   * @default - an ID token or any access token of the pools
   */
  readonly scopes?: string[];
  /**
   * How long API Gateway keeps the authorizer's answer per token (0 to 3600 seconds).
   * @default Duration.seconds(300)
   */
  readonly resultsCacheTtl?: Duration;
  /**
   * Construct id of the authorizer in each API that uses it (letters and digits).
   * @default 'CognitoAuthorizer', then 'CognitoAuthorizer2', ... in the order APIs first use them
   */
  readonly name?: string;
}

/** Options of `ApiAuthorization.lambdaToken`. */
export interface LambdaTokenAuthorizationOptions {
  /** The function that validates the token and returns an IAM policy. */
  readonly handler: lambda.IFunction;
  /**
   * Header that carries the token.
   * @default 'Authorization'
   */
  readonly tokenHeader?: string;
  /**
   * Regular expression the token must match before the function is called.
   * @default - every token reaches the function
   */
  readonly validationRegex?: string;
  /**
   * How long API Gateway keeps the returned policy per token (0 to 3600 seconds). Set it only
   * when the policy allows or denies every route the token may call, not just the one asked.
   * @default Duration.seconds(0)
   */
  readonly resultsCacheTtl?: Duration;
  /**
   * Construct id of the authorizer in each API that uses it.
   * @default 'TokenAuthorizer', 'TokenAuthorizer2', ...
   */
  readonly name?: string;
}

/** Options of `ApiAuthorization.lambdaRequest`. */
export interface LambdaRequestAuthorizationOptions {
  /** The function that decides from the request and returns an IAM policy. */
  readonly handler: lambda.IFunction;
  /**
   * Request parts the function needs, e.g. `apigw.IdentitySource.header('Authorization')`; a
   * request without one of them is refused before the function runs. They key the result cache.
   */
  readonly identitySources: string[];
  /**
   * How long API Gateway keeps the returned policy per identity-source values (0 to 3600 seconds).
   * @default Duration.seconds(0)
   */
  readonly resultsCacheTtl?: Duration;
  /**
   * Construct id of the authorizer in each API that uses it.
   * @default 'RequestAuthorizer', 'RequestAuthorizer2', ...
   */
  readonly name?: string;
}

/** What kind of authorization a description stands for. */
export type AuthorizationKind = 'iam' | 'cognito' | 'lambda-token' | 'lambda-request' | 'custom' | 'public';

/** One authorizer shared by every description derived from the same call (e.g. `withScopes`). */
interface AuthorizerSpec {
  readonly kind: 'cognito' | 'lambda-token' | 'lambda-request' | 'custom';
  readonly name?: string;
  create(scope: Construct, id: string): apigw.IAuthorizer;
}

/** The authorizers built for each API, per spec: a description can be bound to many APIs. */
const built = new WeakMap<Construct, Map<AuthorizerSpec, apigw.IAuthorizer>>();

const IDS: Record<AuthorizerSpec['kind'], string> = {
  cognito: 'CognitoAuthorizer',
  'lambda-token': 'TokenAuthorizer',
  'lambda-request': 'RequestAuthorizer',
  custom: 'Authorizer',
};

/**
 * How a route's callers prove who they are. There is no default: an API must choose.
 *
 * A value is a description, not a construct: the same value can be used by many routes and
 * many APIs, and each API creates its own authorizer for it on first use.
 */
export class ApiAuthorization {
  /** Callers sign requests with SigV4 (AWS credentials); grant them `execute-api:Invoke`. */
  public static iam(): ApiAuthorization {
    return new ApiAuthorization('iam', apigw.AuthorizationType.IAM, []);
  }

  /**
   * Callers present a Cognito user-pool token in `Authorization`. Several calls (different
   * pools) give several authorizers in one API.
   */
  public static cognito(options: CognitoAuthorizationOptions): ApiAuthorization;
  /** @deprecated use `cognito({ userPools, scopes })` */
  public static cognito(userPools: cognito.IUserPool[], scopes?: string[]): ApiAuthorization;
  public static cognito(arg: CognitoAuthorizationOptions | cognito.IUserPool[], legacyScopes?: string[]): ApiAuthorization {
    const options: CognitoAuthorizationOptions = Array.isArray(arg) ? { userPools: arg, scopes: legacyScopes } : arg;
    if (!options?.userPools?.length) throw new Error('ApiAuthorization.cognito: userPools must list at least one user pool');
    checkName('ApiAuthorization.cognito', options.name);
    checkScopes('ApiAuthorization.cognito', options.scopes);
    const ttl = cacheTtl('ApiAuthorization.cognito', options.resultsCacheTtl, AUTHORIZER_CACHE_DEFAULTS.cognitoSeconds);
    const spec: AuthorizerSpec = {
      kind: 'cognito',
      name: options.name,
      create: (scope, id) =>
        new apigw.CognitoUserPoolsAuthorizer(scope, id, { cognitoUserPools: options.userPools, resultsCacheTtl: Duration.seconds(ttl) }),
    };
    return new ApiAuthorization('cognito', apigw.AuthorizationType.COGNITO, [apigw.IdentitySource.header('Authorization')], spec, options.scopes, ttl);
  }

  /** A Lambda TOKEN authorizer: the function gets the bearer token and returns a policy. */
  public static lambdaToken(options: LambdaTokenAuthorizationOptions): ApiAuthorization {
    if (!options?.handler) throw new Error('ApiAuthorization.lambdaToken: handler is required (the authorizer function)');
    checkName('ApiAuthorization.lambdaToken', options.name);
    const header = options.tokenHeader ?? 'Authorization';
    if (!/^[A-Za-z0-9-]{1,64}$/.test(header)) throw new Error(`ApiAuthorization.lambdaToken: tokenHeader must be a header name, got "${header}"`);
    const ttl = cacheTtl('ApiAuthorization.lambdaToken', options.resultsCacheTtl, AUTHORIZER_CACHE_DEFAULTS.lambdaSeconds);
    const identitySource = apigw.IdentitySource.header(header);
    const spec: AuthorizerSpec = {
      kind: 'lambda-token',
      name: options.name,
      create: (scope, id) =>
        new apigw.TokenAuthorizer(scope, id, {
          handler: options.handler,
          identitySource,
          validationRegex: options.validationRegex,
          resultsCacheTtl: Duration.seconds(ttl),
        }),
    };
    return new ApiAuthorization('lambda-token', apigw.AuthorizationType.CUSTOM, [identitySource], spec, undefined, ttl);
  }

  /** A Lambda REQUEST authorizer: the function gets the identity sources (headers, query strings, context). */
  public static lambdaRequest(options: LambdaRequestAuthorizationOptions): ApiAuthorization {
    if (!options?.handler) throw new Error('ApiAuthorization.lambdaRequest: handler is required (the authorizer function)');
    checkName('ApiAuthorization.lambdaRequest', options.name);
    if (!options.identitySources?.length) {
      throw new Error("ApiAuthorization.lambdaRequest: identitySources must list at least one, e.g. apigw.IdentitySource.header('Authorization')");
    }
    for (const source of options.identitySources) {
      if (!Token.isUnresolved(source) && !/^(method\.request\.(header|querystring)\.[A-Za-z0-9._~-]+|context\.[A-Za-z0-9.]+|stageVariables\.[A-Za-z0-9_]+)$/.test(source)) {
        throw new Error(
          `ApiAuthorization.lambdaRequest: identitySources: "${source}" is not method.request.header.<name>, method.request.querystring.<name>, context.<name> or stageVariables.<name>`,
        );
      }
    }
    const ttl = cacheTtl('ApiAuthorization.lambdaRequest', options.resultsCacheTtl, AUTHORIZER_CACHE_DEFAULTS.lambdaSeconds);
    const spec: AuthorizerSpec = {
      kind: 'lambda-request',
      name: options.name,
      create: (scope, id) =>
        new apigw.RequestAuthorizer(scope, id, { handler: options.handler, identitySources: options.identitySources, resultsCacheTtl: Duration.seconds(ttl) }),
    };
    return new ApiAuthorization('lambda-request', apigw.AuthorizationType.CUSTOM, [...options.identitySources], spec, undefined, ttl);
  }

  /**
   * An authorizer construct you built yourself. It belongs to one API (API Gateway attaches an
   * authorizer to one REST API): prefer `lambdaToken`, `lambdaRequest` or `cognito`, which can be reused.
   */
  public static authorizer(authorizer: apigw.IAuthorizer): ApiAuthorization {
    const spec: AuthorizerSpec = { kind: 'custom', create: () => authorizer };
    return new ApiAuthorization('custom', authorizer.authorizationType ?? apigw.AuthorizationType.CUSTOM, [], spec);
  }

  /**
   * No caller authentication: an explicit opt-in for content meant for everyone.
   * @param reason why the route is public; recorded with the cdk-nag acknowledgement.
   */
  public static publicAccess(reason: string): ApiAuthorization {
    if (!reason || reason.trim().length < 10) {
      throw new Error('ApiAuthorization.publicAccess(reason): give a reason of at least 10 characters for leaving routes open');
    }
    const auth = new ApiAuthorization('public', apigw.AuthorizationType.NONE, []);
    (auth as { publicReason?: string }).publicReason = reason;
    return auth;
  }

  /** Why a public route is public (public routes only). */
  public readonly publicReason?: string;

  private constructor(
    /** `iam`, `cognito`, `lambda-token`, `lambda-request`, `custom` or `public`. */
    public readonly kind: AuthorizationKind,
    private readonly authorizationType: apigw.AuthorizationType,
    /**
     * The request parameters that carry the caller's identity (`method.request.header.Authorization`,
     * ...), as the authorizer reads them. Empty for IAM (a SigV4 signature changes with every
     * request), public routes and prebuilt authorizers.
     */
    public readonly identitySources: string[],
    private readonly spec?: AuthorizerSpec,
    /** OAuth scopes the method requires (Cognito only). */
    public readonly scopes?: string[],
    /** Authorizer result-cache TTL in seconds (authorizers only). */
    public readonly resultsCacheTtlSeconds?: number,
  ) {}

  /** Whether a caller's identity reaches the handler, so its responses must stay private by default. */
  public get authenticated(): boolean {
    return this.kind !== 'public';
  }

  /**
   * The same Cognito authorizer, requiring other OAuth scopes on the routes that use the
   * returned value (the token must carry one of them).
   */
  public withScopes(...scopes: string[]): ApiAuthorization {
    if (this.kind !== 'cognito') throw new Error(`withScopes: OAuth scopes apply to Cognito authorization, not ${this.kind}`);
    checkScopes('withScopes', scopes);
    if (scopes.length === 0) throw new Error('withScopes: give at least one scope, e.g. withScopes("catalog/write")');
    return new ApiAuthorization(this.kind, this.authorizationType, this.identitySources, this.spec, scopes, this.resultsCacheTtlSeconds);
  }

  /**
   * The method options that enforce this authorization in `scope`'s API; the authorizer is
   * created in `scope` on first use and shared by its other routes.
   */
  public bind(scope: Construct): apigw.MethodOptions {
    if (!this.spec) return { authorizationType: this.authorizationType };
    let perApi = built.get(scope);
    if (!perApi) built.set(scope, (perApi = new Map()));
    let authorizer = perApi.get(this.spec);
    if (!authorizer) {
      const base = this.spec.name ?? IDS[this.spec.kind];
      let id = base;
      for (let n = 2; scope.node.tryFindChild(id); n++) {
        if (this.spec.name) throw new Error(`ApiAuthorization: two authorizers of one API are both named "${this.spec.name}"`);
        id = `${base}${n}`;
      }
      authorizer = this.spec.create(scope, id);
      perApi.set(this.spec, authorizer);
    }
    return { authorizationType: this.authorizationType, authorizer, authorizationScopes: this.scopes };
  }
}

function checkName(prop: string, name: string | undefined): void {
  if (name !== undefined && !/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name)) {
    throw new Error(`${prop}: name must be 1 to 64 letters and digits, starting with a letter, got "${name}"`);
  }
}

function checkScopes(prop: string, scopes: string[] | undefined): void {
  for (const scope of scopes ?? []) {
    if (typeof scope !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E]{1,256}$/.test(scope)) {
      throw new Error(`${prop}: scopes: "${scope}" is not an OAuth scope (printable characters without spaces, quotes or backslashes)`);
    }
  }
}

function cacheTtl(prop: string, ttl: Duration | undefined, fallback: number): number {
  if (ttl === undefined) return fallback;
  const seconds = ttl.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_AUTHORIZER_CACHE_SECONDS) {
    throw new Error(`${prop}: resultsCacheTtl must be a whole number of seconds between 0 and ${MAX_AUTHORIZER_CACHE_SECONDS}, got ${seconds}`);
  }
  return seconds;
}
