import { App, Stack } from 'aws-cdk-lib';
import { CompliancePolicy } from '../compliance/compliance-policy';
import { AiGatewayStack } from './ai-gateway-stack';
import { CatalogStack } from './catalog-stack';

/** What `cdk synth -c <name>=<value>` sets on the sample app (bin/app.ts). */
export interface SampleAppSettings {
  /** `-c compliance=strict`: the strict profile (lib/compliance). @default 'standard' */
  readonly compliance: 'standard' | 'strict';
  /** `-c gatewayCache=true`: the API Gateway stage cache on the catalog routes. @default false */
  readonly gatewayCache: boolean;
  /**
   * `-c nag=off`: synthesize without registering the cdk-nag packs, for a quick look at a
   * template (tests and CI always run all five). @default 'all'
   */
  readonly nag: 'all' | 'off';
}

/** The sample app's settings from its context, refusing unknown values by name. */
export function sampleAppSettings(app: App): SampleAppSettings {
  const flag = (name: string): unknown => app.node.tryGetContext(name);
  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const value = flag(name) ?? fallback;
    if (!allowed.includes(value as T)) {
      throw new Error(`context ${name}: unknown value "${String(value)}"; allowed: ${allowed.join(', ')}`);
    }
    return value as T;
  };
  const gatewayCache = flag('gatewayCache');
  if (gatewayCache !== undefined && ![true, false, 'true', 'false'].includes(gatewayCache as string | boolean)) {
    throw new Error(`context gatewayCache: unknown value "${String(gatewayCache)}"; allowed: true, false`);
  }
  return {
    compliance: choice('compliance', ['standard', 'strict'], 'standard'),
    gatewayCache: gatewayCache === true || gatewayCache === 'true',
    nag: choice('nag', ['all', 'off'], 'all'),
  };
}

/** The sample's two stacks, as `cdk synth` of this project builds them. */
export function addSampleStacks(app: App, settings: SampleAppSettings = sampleAppSettings(app)): Stack[] {
  const compliance = settings.compliance === 'strict' ? CompliancePolicy.strict({ reservedConcurrency: 5 }) : CompliancePolicy.standard();
  return [
    new CatalogStack(app, 'CatalogStack', {
      description: 'cdk-cacheable-api sample: a product catalog API with edge, gateway and data caches',
      gatewayCache: settings.gatewayCache,
      compliance,
    }),
    new AiGatewayStack(app, 'AiGatewayStack', {
      description: 'cdk-cacheable-api sample: an OpenAI-compatible AI gateway (Bedrock + upstream, answer cache, token budgets)',
      compliance,
    }),
  ];
}
