import { Annotations, Stack } from 'aws-cdk-lib';

/**
 * Service limits a large API meets, checked at synth so that a table too large fails with the
 * limit's name and the fix instead of at deploy. CloudFront's 25 behaviors per distribution
 * are checked by EdgeCache (`maxCacheBehaviors`, lib/edge/edge-cache-defaults.ts).
 */
export const LIMITS = {
  /** CloudFormation: resources in one template (root and each nested stack alike). */
  resourcesPerTemplate: 500,
  /** CloudFormation: size of a template uploaded to S3, as CDK writes it. */
  templateBytes: 1_000_000,
  /** API Gateway: resources per REST API, the default of an adjustable quota. */
  apiGatewayResources: 300,
  /** CloudFront: cache policies per account (all stacks, all distributions). */
  cachePoliciesPerAccount: 20,
  /** Cache policies in one stack past which a warning says how close the account may be. */
  cachePoliciesWarnAt: 5,
  /** Lambda: total size of a function's environment variables, names and values. */
  lambdaEnvironmentBytes: 4096,
} as const;

/**
 * Throws when the routes need more API Gateway resources (one per distinct path prefix) than
 * the account's "Resources per API" quota.
 */
export function checkApiResourceQuota(paths: string[], quota: number = LIMITS.apiGatewayResources): void {
  if (!Number.isInteger(quota) || quota < 1) {
    throw new Error(`apiResourceQuota must be a whole number of resources, 1 or more, got ${quota}`);
  }
  const prefixes = new Set<string>();
  for (const path of paths) {
    const segments = path.split('/').filter(Boolean);
    segments.forEach((_, i) => prefixes.add('/' + segments.slice(0, i + 1).join('/')));
  }
  if (prefixes.size > quota) {
    throw new Error(
      `routes need ${prefixes.size} API Gateway resources (one per distinct path prefix), over the ${quota} resources per REST API ` +
        `quota${quota === LIMITS.apiGatewayResources ? ' (the default)' : ''}. The quota is adjustable: request more "Resources per API" ` +
        'in Service Quotas and set apiResourceQuota to the granted value, or split the routes across two CacheableApis.',
    );
  }
}

interface RenderedTemplate {
  Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
}

/**
 * The errors of `stacks` against CloudFormation's per-template limits and Lambda's
 * environment size, and a warning on a stack that alone uses several of the account's cache
 * policies. Meant for a construct validation: templates are rendered after `prepare`, as
 * they will be written.
 */
export function checkTemplateLimits(stacks: Stack[]): string[] {
  const errors: string[] = [];
  const split = stacks.some((stack) => stack.nested);
  for (const stack of new Set(stacks)) {
    const template = renderTemplate(stack);
    const resources = Object.entries(template.Resources ?? {});
    const fix = stack.nested
      ? 'declare smaller route groups with routeStacks.groups (all routes of one first path segment share a stack)'
      : split
        ? `the routes already sit in nested stacks; most of this stack is ${largestKinds(resources)}: move other constructs to stacks of their own, or monitor fewer routes one by one`
        : "let route groups go into nested stacks (routeStacks: 'auto' or a lower routeStacks.threshold), or move other constructs to stacks of their own";
    if (resources.length > LIMITS.resourcesPerTemplate) {
      errors.push(`${stack.node.path}: ${resources.length} resources, over CloudFormation's ${LIMITS.resourcesPerTemplate} per template. Fix: ${fix}.`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(template, undefined, 1));
    if (bytes > LIMITS.templateBytes) {
      errors.push(`${stack.node.path}: template of ${(bytes / 1e6).toFixed(2)} MB, over CloudFormation's 1 MB per template. Fix: ${fix}.`);
    }
    for (const [logicalId, resource] of resources) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      const size = Object.entries(variables).reduce((sum, [name, value]) => sum + name.length + literalLength(value), 0);
      if (size > LIMITS.lambdaEnvironmentBytes) {
        errors.push(
          `${stack.node.path}/${logicalId}: Lambda environment of at least ${size} bytes, over Lambda's 4 KB (names and values). ` +
            'Fix: keep large values (schemas, lists, documents) in SSM Parameter Store, Secrets Manager or the bundle, and pass their names.',
        );
      }
    }
    const cachePolicies = resources.filter(([, r]) => r.Type === 'AWS::CloudFront::CachePolicy').length;
    if (cachePolicies > LIMITS.cachePoliciesWarnAt) {
      Annotations.of(stack).addWarningV2(
        'cdk-cacheable-api:cachePolicies',
        `${cachePolicies} CloudFront cache policies in this stack; an account holds ${LIMITS.cachePoliciesPerAccount} (a soft quota), across every stack ` +
          'and distribution. Give edge-cached routes the same cache settings where they can share a policy, or request a higher quota.',
      );
    }
  }
  return errors;
}

/** `AWS::CloudWatch::Alarm (450), AWS::EC2::SecurityGroupIngress (50)`: the three most numerous resource types. */
function largestKinds(resources: Array<[string, { Type?: string }]>): string {
  const counts = new Map<string, number>();
  for (const [, r] of resources) counts.set(`${r.Type}`, (counts.get(`${r.Type}`) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([type, n]) => `${type} (${n})`).join(', ');
}

function renderTemplate(stack: Stack): RenderedTemplate {
  // No public API renders a template before it is written; a validation runs after `prepare`,
  // so this is the template synth is about to write.
  return (stack as unknown as { _toCloudFormation(): RenderedTemplate })._toCloudFormation();
}

/** Bytes a value is known to take: literal strings, and the literal parts of an `Fn::Join`. References count 0. */
function literalLength(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return join[1].reduce<number>((sum, part) => sum + literalLength(part), 0) + join[0].length * Math.max(0, join[1].length - 1);
  }
  return 0;
}
