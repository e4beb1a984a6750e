import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledge } from '../shared/nag';

/** Properties of `ApiGatewayAccountLogging`. */
export interface ApiGatewayAccountLoggingProps {
  /**
   * What happens to the role and the account setting when the stack is deleted. Every REST
   * API of the account and region logs through this one setting: keep it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Marks a stack that already holds an ApiGatewayAccountLogging. */
const SINGLETON_MARK = 'cdk-cacheable-api:api-gateway-account-logging';

/**
 * The account-level API Gateway setting that lets every REST API of an account and region
 * write execution logs and CloudWatch access logs: a role API Gateway assumes, recorded in
 * `AWS::ApiGateway::Account`. It is one setting per account and region, not per API, so it is
 * deployed once (e.g. in a small stack of its own, before the APIs) and retained: deleting it
 * would break the logging of every other API there (aws-cdk#10878, #12769).
 *
 * `CacheableApi` never creates or deletes it unless asked (`cloudWatchRole: true`).
 */
export class ApiGatewayAccountLogging extends Construct {
  /** The role API Gateway assumes to write logs. */
  public readonly role: iam.Role;
  /** The account setting. */
  public readonly account: apigw.CfnAccount;

  constructor(scope: Construct, id: string, props: ApiGatewayAccountLoggingProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    if ((stack as unknown as Record<string, unknown>)[SINGLETON_MARK]) {
      throw new Error('ApiGatewayAccountLogging: a stack holds at most one (it is a single setting per account and region)');
    }
    (stack as unknown as Record<string, unknown>)[SINGLETON_MARK] = true;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'Lets API Gateway write execution and access logs of every REST API in this account and region',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    this.role.applyRemovalPolicy(removalPolicy);
    acknowledge(
      this.role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'Account-wide API Gateway logging role: it writes the logs of every API of the account, whose log groups this stack cannot list; the AWS managed policy is the documented grant',
    );
    this.account = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
    this.account.applyRemovalPolicy(removalPolicy);
  }
}
