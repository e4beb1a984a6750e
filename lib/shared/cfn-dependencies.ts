import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * lambda.Function adds a DependsOn on its role although `Role: Fn::GetAtt` already orders
 * them (cfn-lint W3005). Construct dependencies become DependsOn during prepare, which ends
 * before validation, so a validation hook can take the duplicate out; the DependsOn on the
 * role's policy, which nothing else orders, stays.
 */
export function dropRedundantRoleDependency(fn: lambda.Function): void {
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction;
  const cfnRole = fn.role?.node.defaultChild;
  if (!(cfnRole instanceof iam.CfnRole)) return;
  fn.node.addValidation({
    validate: () => {
      cfnFunction.removeResourceDependency(cfnRole);
      return [];
    },
  });
}
