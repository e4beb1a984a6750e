import { createHash } from 'crypto';
import { Duration, NestedStack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { Construct, IConstruct } from 'constructs';
import type { ParsedRoute } from './route-table';

/**
 * How a large route table is split into nested stacks. Each group's functions, API Gateway
 * resources and methods, models and invoke permissions go into its own `NestedStack`; the
 * REST API, its stage and deployment, access logs, WAF association, edge cache and monitoring
 * stay in the parent stack.
 */
export interface RouteStacksOptions {
  /**
   * Split when the table has more routes than this (1 or more).
   * @default 30 (about where one stack reaches CloudFormation's 500 resources at ~14 per route)
   */
  readonly threshold?: number;
  /**
   * Declared groups: nested stack name (letters and digits, starting with a letter) to the
   * first path segments whose routes it holds, e.g. `{ Catalog: ['items', 'categories'] }`.
   * A segment not listed gets a nested stack of its own. All routes under one first segment
   * share a stack, because they share its API Gateway resource.
   * @default - one nested stack per first path segment
   */
  readonly groups?: Record<string, string[]>;
}

/** `'auto'` (split past 45 routes, one stack per first segment), `'never'`, or the split's settings. */
export type RouteStacks = 'auto' | 'never' | RouteStacksOptions;

/** Route count past which `'auto'` splits the table. */
export const ROUTE_STACKS_THRESHOLD = 45;

/** One nested stack's share of the route table. */
export interface RouteGroup {
  /** Construct id of the nested stack, e.g. `RoutesItems`. */
  readonly id: string;
  /** First path segments of its routes. */
  readonly segments: string[];
  readonly routes: ParsedRoute[];
}

/** How the routes are placed: in the parent stack, or in nested route groups. */
export interface RoutePlacement {
  /** Routes built in the parent stack (all of them below the threshold; `/` routes always). */
  readonly parentRoutes: ParsedRoute[];
  readonly groups: RouteGroup[];
}

const GROUP_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** The first path segment of a route (`items` for `/items/{id}`), or `''` for `/`. */
export function firstSegment(route: ParsedRoute): string {
  return route.path.split('/')[1] ?? '';
}

/**
 * Places the routes: every route in the parent stack unless the table is split, then one
 * group per declared group or first path segment, in declaration order. A route never moves
 * between stacks when others are added (a moved API Gateway resource is created in its new
 * stack before it is deleted from the old one, which API Gateway refuses).
 */
export function placeRoutes(routes: ParsedRoute[], option: RouteStacks | undefined): RoutePlacement {
  const settings = checkRouteStacks(option);
  if (!settings || routes.length <= settings.threshold) return { parentRoutes: routes, groups: [] };
  const groupOfSegment = new Map<string, string>();
  for (const [name, segments] of Object.entries(settings.groups)) {
    for (const segment of segments) groupOfSegment.set(segment, `Routes${name}`);
  }
  const declared = new Set(groupOfSegment.values());
  const groups = new Map<string, { segments: Set<string>; routes: ParsedRoute[] }>();
  const parentRoutes: ParsedRoute[] = [];
  for (const route of routes) {
    const segment = firstSegment(route);
    if (segment === '') {
      parentRoutes.push(route);
      continue;
    }
    let id = groupOfSegment.get(segment) ?? `Routes${segmentName(segment)}`;
    // Distinct segments may share a name (`items`, `Items`, `item-s`): the later one, in
    // declaration order, gets a hash, so the first keeps its stack.
    const taken = declared.has(id) || (groups.get(id) && !groups.get(id)!.segments.has(segment));
    if (!groupOfSegment.has(segment) && taken) id += shortHash(segment);
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { segments: new Set(), routes: [] }));
    group.segments.add(segment);
    group.routes.push(route);
  }
  return { parentRoutes, groups: [...groups].map(([id, g]) => ({ id, segments: [...g.segments], routes: g.routes })) };
}

function checkRouteStacks(option: RouteStacks | undefined): { threshold: number; groups: Record<string, string[]> } | undefined {
  if (option === 'never') return undefined;
  if (option === undefined || option === 'auto') return { threshold: ROUTE_STACKS_THRESHOLD, groups: {} };
  if (typeof option !== 'object' || option === null) {
    throw new Error(`routeStacks must be 'auto', 'never' or { threshold?, groups? }, got ${JSON.stringify(option)}`);
  }
  const threshold = option.threshold ?? ROUTE_STACKS_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new Error(`routeStacks.threshold must be a whole number of routes, 1 or more, got ${threshold}`);
  }
  const seen = new Map<string, string>();
  for (const [name, segments] of Object.entries(option.groups ?? {})) {
    if (!GROUP_NAME.test(name)) {
      throw new Error(`routeStacks.groups: group name "${name}" must be 1 to 64 letters and digits, starting with a letter`);
    }
    if (!Array.isArray(segments) || segments.length === 0) {
      throw new Error(`routeStacks.groups.${name} must list first path segments, e.g. ['items', 'categories']`);
    }
    for (const segment of segments) {
      const other = seen.get(segment);
      if (other) throw new Error(`routeStacks.groups: segment "${segment}" is in both ${other} and ${name}; a segment's routes share one stack`);
      seen.set(segment, name);
    }
  }
  return { threshold, groups: option.groups ?? {} };
}

/**
 * A method's request parameters: its path parameters (required), declared query strings and
 * headers, and the stage-cache key parameters, which must be declared (optional unless declared
 * required).
 */
export function methodRequestParameters(route: ParsedRoute, cacheKeyParameters: string[] | undefined): Record<string, boolean> {
  const parameters: Record<string, boolean> = {};
  for (const p of route.pathParameters) parameters[`method.request.path.${p}`] = true;
  for (const [q, required] of Object.entries(route.options.request?.queryStrings ?? {})) parameters[`method.request.querystring.${q}`] = required;
  for (const [h, required] of Object.entries(route.options.request?.headers ?? {})) parameters[`method.request.header.${h}`] = required;
  for (const p of cacheKeyParameters ?? []) parameters[p] ??= false;
  return parameters;
}

/** `items-v2` → `ItemsV2`, `{tenant}` → `Tenant`. */
function segmentName(segment: string): string {
  const name = segment
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
  return /^[A-Za-z]/.test(name) ? name : `S${name}`;
}

/** The REST API as a nested stack sees it, and its first-level resources. */
export class RouteStack extends NestedStack {
  /** The parent's REST API, imported into this stack. */
  public readonly restApi: apigw.IRestApi;
  private readonly topResources = new Map<string, apigw.Resource>();

  constructor(
    scope: Construct,
    id: string,
    private readonly api: apigw.RestApi,
    stageName: string,
    private readonly cors: apigw.CorsOptions | undefined,
  ) {
    super(scope, id, { description: `Routes of ${api.node.path} (${id})` });
    this.restApi = apigw.RestApi.fromRestApiAttributes(this, 'Api', {
      restApiId: api.restApiId,
      rootResourceId: api.restApiRootResourceId,
    });
    // Invoke permissions name the stage (a literal: a reference to the parent's Stage would
    // make this stack wait for the stage, which waits for the deployment, which waits for this stack).
    (this.restApi as { deploymentStage?: { stageName: string } }).deploymentStage = { stageName };
  }

  /** The resource of `path` in this stack, its first segment created with the API's CORS pre-flight. */
  public resourceForPath(path: string): apigw.IResource {
    const [, top, ...rest] = path.split('/');
    let resource = this.topResources.get(top);
    if (!resource) {
      resource = this.restApi.root.addResource(top, { defaultCorsPreflightOptions: this.cors });
      this.topResources.set(top, resource);
    }
    return rest.length ? resource.resourceForPath(rest.join('/')) : resource;
  }

  /** Makes the parent's deployment wait for this stack's methods and change when they do. */
  public wireDeployment(methodSpecs: unknown[]): void {
    const deployment = this.api.latestDeployment;
    if (!deployment) return;
    deployment.node.addDependency(this);
    // The parent's deployment does not see methods of imported APIs: without this, a change to
    // this group's routes would deploy the nested stack but leave the stage on the old deployment.
    deployment.addToLogicalId({ routeStack: this.node.id, methods: shortHash(JSON.stringify({ methodSpecs, cors: this.cors })) });
  }
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * What the stage serves of a route, as plain data: a route stack keys the parent's deployment
 * on its routes' specs, so that changing one redeploys the stage.
 */
export function methodSpec(
  route: ParsedRoute,
  options: apigw.MethodOptions,
  requestParameters: Record<string, boolean>,
  cacheKeyParameters: string[] | undefined,
  timeout: Duration | undefined,
): unknown {
  return {
    key: route.key,
    authorizationType: options.authorizationType,
    authorizer: (options.authorizer as Partial<IConstruct> | undefined)?.node?.path,
    scopes: options.authorizationScopes,
    apiKeyRequired: options.apiKeyRequired,
    requestParameters,
    bodySchema: route.options.request?.bodySchema,
    cacheKeyParameters,
    responseTransferMode: route.options.responseTransferMode,
    timeout: timeout?.toSeconds(),
  };
}
