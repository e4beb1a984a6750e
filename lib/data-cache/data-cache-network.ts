/** Private to DataCache: the isolated VPC it creates when none is passed, and subnet choice. */
import { CfnResource, ContextProvider, Fn, Stack, Token } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULT_NETWORK } from './data-cache-defaults';

/** Isolated subnets when the VPC has some; otherwise private ones (never public). */
export function defaultSubnets(vpc: ec2.IVpc): ec2.SubnetSelection {
  return {
    subnetType: vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
  };
}

export function newIsolatedVpc(scope: Construct, flowLogGroup: logs.ILogGroup): ec2.Vpc {
  const vpc = withoutAvailabilityZoneLookup(Stack.of(scope), () => new ec2.Vpc(scope, 'Vpc', {
    maxAzs: DEFAULT_NETWORK.maxAzs,
    natGateways: DEFAULT_NETWORK.natGateways,
    subnetConfiguration: [
      { name: 'Isolated', subnetType: DEFAULT_NETWORK.subnetType, cidrMask: DEFAULT_NETWORK.cidrMask },
    ],
    restrictDefaultSecurityGroup: DEFAULT_NETWORK.restrictDefaultSecurityGroup,
    flowLogs: {
      FlowLog: {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: DEFAULT_NETWORK.flowLogTrafficType,
      },
    },
    // Functions in isolated subnets reach DynamoDB without a NAT gateway.
    gatewayEndpoints: {
      DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    },
  }));
  removeRedundantProviderDependency(Stack.of(scope));
  return vpc;
}
/**
 * Builds with `Fn::GetAZs` zones when `stack` is environment-specific and no zone lookup is
 * recorded yet. `ec2.Vpc` reads `stack.availabilityZones`, which in such a stack is a context
 * lookup: `cdk synth` then needs AWS credentials, though an environment-agnostic stack gets the
 * same two zones from `Fn::GetAZs` without one. A recorded lookup (cdk.context.json) is kept, so
 * subnets of a deployed stack never move. The shadowing getter lives only while `build` runs.
 */
function withoutAvailabilityZoneLookup<T>(stack: Stack, build: () => T): T {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) return build();
  const { key } = ContextProvider.getKey(stack, { provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER });
  if (stack.node.tryGetContext(key) !== undefined) return build();
  const zones = Array.from({ length: DEFAULT_NETWORK.maxAzs }, (_, index) => Fn.select(index, Fn.getAzs()));
  Object.defineProperty(stack, 'availabilityZones', { value: zones, configurable: true });
  try {
    return build();
  } finally {
    delete (stack as { availabilityZones?: string[] }).availabilityZones;
  }
}

/**
 * The VPC's default-security-group custom resource provider (a stack singleton) gives its
 * handler a DependsOn on its role that the handler's `Fn::GetAtt` on the role already
 * implies (cfn-lint W3005). Dropping the duplicate edge changes no deployment order.
 */
function removeRedundantProviderDependency(stack: Stack): void {
  const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  const role = provider?.node.tryFindChild('Role');
  if (handler instanceof CfnResource && role instanceof CfnResource) {
    handler.removeResourceDependency(role);
  }
}

/** What `newCacheClientGroup` needs of a DataCache. */
export interface CacheClientGroupTarget {
  readonly vpc: ec2.IVpc;
  readonly connections: ec2.Connections;
  readonly engineName: string;
}

/**
 * A security group in the cache's VPC for functions that share one network identity, with the
 * cache port opened from it by a single ingress rule: `grantConnect()` of a function in this
 * group then finds the rule in place and adds none. Egress stays open, as on a function's
 * automatic group: the subnets are isolated, so it reaches only the VPC and its endpoints.
 * A rule later added to one member's `connections` applies to every member; a function that
 * needs rules of its own needs a group of its own.
 */
export function newCacheClientGroup(cache: CacheClientGroupTarget, scope: Construct, id: string, description: string): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, id, { vpc: cache.vpc, allowAllOutbound: true, description });
  cache.connections.allowDefaultPortFrom(group, `${cache.engineName} cache clients: ${group.node.path}`.slice(0, 255));
  return group;
}
