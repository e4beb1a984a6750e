import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';

/** Statement ids already added to each key: a key shared by the API and the compliance profile gets each once. */
const added = new WeakMap<kms.IKey, Set<string>>();

/** Adds the statement to the key's policy unless a statement of that sid was added before. */
function addOnce(key: kms.IKey, statement: iam.PolicyStatement): void {
  const sids = added.get(key) ?? new Set<string>();
  if (sids.has(statement.sid!)) return;
  sids.add(statement.sid!);
  added.set(key, sids);
  key.addToResourcePolicy(statement);
}

/**
 * Lets CloudWatch Logs of this account and region use a key of this stack for log groups. An
 * imported key cannot be changed here: its policy must already allow it.
 */
export function allowCloudWatchLogs(key: kms.IKey): void {
  const stack = Stack.of(key);
  addOnce(
    key,
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      },
    }),
  );
}

/**
 * Lets every principal of this account use the key through the given AWS services only (e.g.
 * `secretsmanager`, `sqs`): what an AWS managed key's policy says. Who may read a secret or a
 * queue stays decided by that resource's own grants; the key adds no access of its own, so a
 * function granted `secretsmanager:GetSecretValue` needs no `kms:Decrypt` grant as well.
 */
export function allowAccountThroughServices(key: kms.IKey, services: string[]): void {
  const stack = Stack.of(key);
  addOnce(
    key,
    new iam.PolicyStatement({
      sid: 'AllowThisAccountThroughServices',
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        StringEquals: {
          'kms:CallerAccount': stack.account,
          'kms:ViaService': services.map((service) => `${service}.${stack.region}.amazonaws.com`),
        },
      },
    }),
  );
}

/**
 * Lets an AWS service principal of this account (e.g. `cloudwatch.amazonaws.com` publishing alarms
 * to an encrypted topic) generate and decrypt data keys.
 */
export function allowServicePrincipal(key: kms.IKey, sid: string, service: string, sourceAccountCondition = true): void {
  addOnce(
    key,
    new iam.PolicyStatement({
      sid,
      principals: [new iam.ServicePrincipal(service)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      ...(sourceAccountCondition ? { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(key).account } } } : {}),
    }),
  );
}
