/** Private to DataCache: ElastiCache ids, IAM authentication and the shapes its builders share. */
import { CfnResource, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DATA_CACHE_LIMITS, DEFAULT_DATA_CACHE, DEFAULT_USER_PASSWORD, DISABLED_DEFAULT_USER_ACCESS_STRING } from './data-cache-defaults';
import { ReplicationGroupEngine, ValkeyServerlessOptions } from './data-cache-props';
import { acknowledge } from '../shared/nag';

/** Resource types a retained cache keeps using. */
export const RETAINED_WITH_CACHE = [
  'AWS::ElastiCache::User',
  'AWS::ElastiCache::UserGroup',
  'AWS::ElastiCache::SubnetGroup',
  'AWS::ElastiCache::ParameterGroup',
  'AWS::SecretsManager::Secret',
  'AWS::EC2::SecurityGroup',
];

export interface IamAuth {
  /** Unique lowercase prefix of the cache's ElastiCache ids. */
  readonly baseName: string;
  readonly user: elasticache.CfnUser;
  readonly userGroup: elasticache.CfnUserGroup;
}

export interface BuiltCache {
  readonly resource: CfnResource;
  readonly securityGroup: ec2.SecurityGroup;
  readonly port: number;
  readonly user?: elasticache.CfnUser;
  readonly cacheName: string;
  readonly cacheArn: string;
  readonly endpointAddress: string;
  readonly endpointPort: string;
  readonly slowLogGroup?: logs.ILogGroup;
}

/**
 * An ElastiCache id unique in the app: lowercase letters, digits and single hyphens, starting
 * with a letter (the rules of cache names, user ids and user group ids).
 */
export function elastiCacheId(scope: Construct, maxLength: number): string {
  const id = Names.uniqueResourceName(scope, { maxLength, separator: '-' })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/-$/, '');
  return /^[a-z]/.test(id) ? id : `c${id}`.slice(0, maxLength);
}

export function serverlessUsageLimits(o: ValkeyServerlessOptions): elasticache.CfnServerlessCache.CacheUsageLimitsProperty | undefined {
  if (o.maxDataStorageGb === undefined && o.maxEcpuPerSecond === undefined) return undefined;
  return {
    dataStorage: o.maxDataStorageGb === undefined ? undefined : { maximum: o.maxDataStorageGb, unit: 'GB' },
    ecpuPerSecond: o.maxEcpuPerSecond === undefined ? undefined : { maximum: o.maxEcpuPerSecond },
  };
}

/**
 * The IAM-authenticated application user, a switched-off `default` user replacing the
 * engine's built-in one (which would otherwise accept unauthenticated connections), and the
 * user group that holds them.
 */
export function newIamAuth(
  scope: Construct,
  settings: Pick<typeof DEFAULT_DATA_CACHE, 'accessString' | 'removalPolicy'>,
  engine: ReplicationGroupEngine,
): IamAuth {
  const baseName = elastiCacheId(scope, DATA_CACHE_LIMITS.idMaxLength - '-default'.length);

  // IAM authentication requires user id == user name.
  const appUserId = `${baseName}-app`;
  const user = new elasticache.CfnUser(scope, 'IamUser', {
    engine,
    userId: appUserId,
    userName: appUserId,
    accessString: settings.accessString,
    authenticationMode: { Type: 'iam' },
  });

  const defaultUserPassword = new secretsmanager.Secret(scope, 'DefaultUserPassword', {
    description: `Password of the switched-off "default" user of ${scope.node.path}; no client uses it`,
    generateSecretString: { ...DEFAULT_USER_PASSWORD },
    // Secrets cannot be snapshotted; after the cache's final snapshot the secret has no use.
    removalPolicy: settings.removalPolicy === RemovalPolicy.SNAPSHOT ? RemovalPolicy.DESTROY : settings.removalPolicy,
  });
  acknowledge(
    defaultUserPassword,
    'AwsSolutions-SMG4',
    'Password of the ElastiCache "default" user, which is switched off (access string "off -@all") and cannot authenticate; ' +
    'it exists because a user group needs a "default" user with an authentication mode. ' +
    'Rotating a credential nobody can use would only add a rotation function with network access to the cache.',
  );
  const defaultUser = new elasticache.CfnUser(scope, 'DefaultUser', {
    engine,
    userId: `${baseName}-default`,
    userName: 'default',
    accessString: DISABLED_DEFAULT_USER_ACCESS_STRING,
    authenticationMode: {
      Type: 'password',
      // A {{resolve:secretsmanager:…}} dynamic reference: the password never enters the template.
      Passwords: [defaultUserPassword.secretValue.unsafeUnwrap()],
    },
  });

  const userGroup = new elasticache.CfnUserGroup(scope, 'UserGroup', {
    engine,
    userGroupId: `${baseName}-users`,
    // Ids are plain strings (not Refs): the dependencies say the users come first.
    userIds: [user.userId, defaultUser.userId],
  });
  userGroup.addResourceDependency(user);
  userGroup.addResourceDependency(defaultUser);

  return { baseName, user, userGroup };
}
