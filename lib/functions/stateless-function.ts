import * as path from 'path';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_FILE, BundleFormat, bundleHandler } from './bundling';
import { dropRedundantRoleDependency } from '../shared/cfn-dependencies';
import { withDefaults } from '../shared/defaults';
import { acknowledge } from '../shared/nag';

/** Settings of a StatelessFunction that a route table may override. */
export interface StatelessFunctionOptions {
  /**
   * Lambda runtime (Node.js family).
   * @default lambda.Runtime.NODEJS_24_X, the newest Node.js runtime in aws-cdk-lib
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Instruction set.
   * @default lambda.Architecture.ARM_64 (Graviton: lower price per GB-second)
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Memory in MB; CPU share grows with it.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Function timeout; keep it under API Gateway's 29 s integration timeout.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables.
   * @default - none beyond what the kit sets
   */
  readonly environment?: Record<string, string>;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the function is removed from the stack.
   * @default RemovalPolicy.DESTROY
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * X-Ray tracing mode.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Customer-managed KMS key of the function's log group. Its key policy must allow
   * CloudWatch Logs (`logs.<region>.amazonaws.com`) to use it.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Minify the bundle (smaller asset, faster module load).
   * @default true
   */
  readonly minify?: boolean;
  /**
   * Ship an inline source map and start Node.js with `--enable-source-maps`. Off because it made
   * a catalog handler's bundle 8 times larger and its cold load slower (docs/benchmarks.md);
   * turn on while debugging.
   * @default false
   */
  readonly sourceMap?: boolean;
  /**
   * Modules not bundled because the runtime provides them.
   * @default ['@aws-sdk/*'] (the Node.js runtime ships AWS SDK v3)
   */
  readonly externalModules?: string[];
  /**
   * Identifiers replaced at build time (esbuild `define`), e.g. to keep only one data-cache
   * backend in the bundle.
   * @default - none
   */
  readonly define?: Record<string, string>;
  /**
   * Module format of the bundle. `'esm'` ships an ES module (`index.mjs`): top-level `await`
   * works (e.g. to fetch a secret during the init phase) and the handler may use `import.meta`.
   * @default 'cjs'
   */
  readonly format?: BundleFormat;
  /**
   * Maximum concurrent executions reserved for this function.
   * @default - unreserved (account pool)
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * VPC to place the function in (needed to reach a data cache).
   * @default - not in a VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets in `vpc`.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups in `vpc`.
   * @default - a new security group with no inbound rules
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Description shown in the Lambda console.
   * @default - none
   */
  readonly description?: string;
}

/** Properties of a StatelessFunction. */
export interface StatelessFunctionProps extends StatelessFunctionOptions {
  /** Path of the handler's source file. */
  readonly entry: string;
  /**
   * Name of the exported handler.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Execution role. The default role has no managed policies: it may write its own log group
   * and, in a VPC, manage its network interfaces.
   * @default - a new least-privilege role
   */
  readonly role?: iam.IRole;
}

/** The defaults applied under every StatelessFunction, kept in one place. */
export const STATELESS_FUNCTION_DEFAULTS: Required<
  Pick<
    StatelessFunctionOptions,
    'runtime' | 'architecture' | 'memorySize' | 'timeout' | 'logRetention' | 'logRemovalPolicy' | 'tracing' | 'minify' | 'sourceMap' | 'externalModules'
  >
> = {
  runtime: lambda.Runtime.NODEJS_24_X,
  architecture: lambda.Architecture.ARM_64,
  memorySize: 512,
  timeout: Duration.seconds(10),
  logRetention: logs.RetentionDays.ONE_MONTH,
  logRemovalPolicy: RemovalPolicy.DESTROY,
  tracing: lambda.Tracing.ACTIVE,
  minify: true,
  sourceMap: false,
  externalModules: ['@aws-sdk/*'],
};

/**
 * A Node.js Lambda function with production defaults for stateless API handlers: newest
 * runtime, ARM64, minified esbuild bundle built in-process, explicit log group with retention
 * and JSON logs, X-Ray tracing, and a least-privilege role. Every default can be overridden.
 */
export class StatelessFunction extends NodejsFunction {
  private readonly wildcardResourceReasons: string[] = [];

  constructor(scope: Construct, id: string, props: StatelessFunctionProps) {
    const settings = withDefaults(STATELESS_FUNCTION_DEFAULTS, props);
    if (settings.runtime.family !== lambda.RuntimeFamily.NODEJS) {
      throw new Error(`runtime must be a Node.js runtime, got ${settings.runtime.name}`);
    }
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: settings.logRetention,
      removalPolicy: settings.logRemovalPolicy,
      encryptionKey: settings.logEncryptionKey,
    });
    const role = props.role ?? new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${id}`,
    });
    const environment: Record<string, string> = { ...(settings.environment ?? {}) };
    if (settings.sourceMap) environment.NODE_OPTIONS = '--enable-source-maps';

    super(scope, id, {
      runtime: settings.runtime,
      architecture: settings.architecture,
      memorySize: settings.memorySize,
      timeout: settings.timeout,
      tracing: settings.tracing,
      description: settings.description,
      reservedConcurrentExecutions: settings.reservedConcurrentExecutions,
      vpc: settings.vpc,
      vpcSubnets: settings.vpcSubnets,
      securityGroups: settings.securityGroups,
      environment,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      role,
      handler: `${path.basename(BUNDLE_FILE, '.js')}.${props.handler ?? 'handler'}`,
      code: bundleHandler({
        entry: props.entry,
        target: `node${/nodejs(\d+)/.exec(settings.runtime.name)?.[1] ?? '24'}`,
        minify: settings.minify,
        sourceMap: settings.sourceMap,
        externalModules: [...settings.externalModules],
        define: settings.define,
        format: settings.format,
      }),
    });
    dropRedundantRoleDependency(this);

    if (!props.role) {
      logGroup.grantWrite(role);
      if (settings.vpc) {
        // What AWSLambdaVPCAccessExecutionRole grants, without the managed policy (AwsSolutions-IAM4),
        // and narrower: only the two Describe actions need "*" (they have no resource-level
        // permissions); the ENI actions are held to this account and region's EC2 resources.
        this.addWildcardResourcePolicy(
          ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
          'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions, so they accept only Resource "*"',
        );
        // Pseudo-parameters even in an environment-specific stack, so the finding id (and its
        // acknowledgement below) is the same in every stack.
        const accountEc2Resources = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:*/*`;
        this.addToRolePolicy(new iam.PolicyStatement({
          actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: [accountEc2Resources],
        }));
        acknowledge(
          this.role!,
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:*/*]',
          'Lambda creates, re-addresses and deletes the function\'s network interfaces with ids unknown at deploy time; ' +
            'the ENI actions are held to this account and region (the Lambda guide asks for all resource ids on DeleteNetworkInterface)',
        );
      }
      if (settings.tracing !== lambda.Tracing.DISABLED) {
        // CDK adds the X-Ray statement itself; only its reason is ours to record.
        this.addWildcardResourceReason('X-Ray PutTraceSegments/PutTelemetryRecords accept only Resource "*"');
      }
    }
  }

  /**
   * Grants actions that accept only `Resource: "*"` and records why on the role's cdk-nag
   * acknowledgement, which lists every such reason of this function.
   */
  public addWildcardResourcePolicy(actions: string[], reason: string): void {
    this.addToRolePolicy(new iam.PolicyStatement({ actions, resources: ['*'] }));
    this.addWildcardResourceReason(reason);
  }

  private addWildcardResourceReason(reason: string): void {
    this.wildcardResourceReasons.push(reason);
    // One acknowledgement per rule and construct holds: the latest, so it carries all reasons.
    acknowledge(this.role!, 'AwsSolutions-IAM5[Resource::*]', this.wildcardResourceReasons.join('; '));
  }
}
