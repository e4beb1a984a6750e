import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { CacheableApi } from '../api/cacheable-api';
import { Compliance } from '../compliance/compliance';
import { CompliancePolicy } from '../compliance/compliance-policy';
import { acknowledgeInPacks } from '../compliance/pack-rules';
import { DataCache, DataCacheEngine } from '../data-cache/data-cache';
import { CacheSync } from '../sync/cache-sync';
import { CATALOG_AUTHORIZATION, CATALOG_CONSUMERS, CATALOG_DATA_PURGE, catalogRoutes } from './catalog-routes';

/** Properties of the sample catalog stack. */
export interface CatalogStackProps extends StackProps {
  /**
   * What happens to the items table when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * Cache item reads in the API Gateway stage cache too.
   * @default false
   */
  readonly gatewayCache?: boolean;
  /**
   * The data cache's engine.
   * @default DataCacheEngine.valkeyServerless()
   */
  readonly dataCacheEngine?: DataCacheEngine;
  /**
   * ARN of a CLOUDFRONT-scope web ACL for the distribution, e.g. `EdgeWebAclStack.webAclArn`
   * (in us-east-1): the per-viewer rate limit on the real viewer address.
   * @default - none: only the stage throttle and the partner's usage plan limit request rates
   */
  readonly edgeWebAclArn?: string;
  /**
   * Also set the account's API Gateway CloudWatch role (retained on deletion), for an account
   * and region where no API has set it yet: the stage's logs need it. It is one setting per
   * account and region, shared by every API there.
   * @default false
   */
  readonly apiGatewayAccountLogging?: boolean;
  /**
   * The compliance profile for every resource of the stack: `CompliancePolicy.strict()`
   * (`cdk synth -c compliance=strict`) also reserves concurrency per route.
   * @default CompliancePolicy.standard() - the kit's defaults, every regulated-pack finding acknowledged on its resource
   */
  readonly compliance?: CompliancePolicy;
}

/**
 * The sample app: a product catalog in DynamoDB served by a CacheableApi, reads cached at
 * every layer and writes keeping the caches true.
 */
export class CatalogStack extends Stack {
  public readonly table: dynamodb.TableV2;
  public readonly api: CacheableApi;
  public readonly dataCache: DataCache;
  public readonly cacheSync: CacheSync;

  constructor(scope: Construct, id: string, props: CatalogStackProps = {}) {
    super(scope, id, props);
    const compliance = props.compliance ?? CompliancePolicy.standard();

    this.table = new dynamodb.TableV2(this, 'Items', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: (props.tableRemovalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.RETAIN,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      // The change stream lets every writer, not only this API, keep the caches in sync.
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });

    // In an isolated VPC of its own, with a DynamoDB gateway endpoint: no NAT anywhere.
    this.dataCache = new DataCache(this, 'DataCache', { engine: props.dataCacheEngine });

    this.api = new CacheableApi(this, 'Api', {
      dataCache: this.dataCache,
      // Writes share /items/* with the cached item reads; SigV4 callers sign for the
      // execute-api host and CloudFront must pass their Authorization header on.
      edge: { forwardAuthorizationToWrites: true, webAclArn: props.edgeWebAclArn },
      apiName: 'catalog',
      authorization: CATALOG_AUTHORIZATION,
      routes: catalogRoutes({ gatewayCache: props.gatewayCache, partnerFeed: true, reservedConcurrency: compliance.name === 'strict' }),
      // One partner with an API key (in Secrets Manager) and a usage plan for GET /partner/items.
      consumers: CATALOG_CONSUMERS,
      cloudWatchRole: props.apiGatewayAccountLogging ?? false,
      functionDefaults: { environment: { TABLE_NAME: this.table.tableName } },
      // Every alarm notifies a topic of its own, KMS-encrypted (subscribe the on-call to it).
      monitoring: { createAlarmTopic: true },
    });

    // Each handler gets exactly the table actions it performs.
    const grants: Record<string, string[]> = {
      'GET /items': ['dynamodb:Scan'],
      'GET /partner/items': ['dynamodb:Scan'],
      'GET /items/{id}': ['dynamodb:GetItem'],
      'PUT /items/{id}': ['dynamodb:PutItem'],
      'DELETE /items/{id}': ['dynamodb:DeleteItem'],
    };
    for (const [routeKey, actions] of Object.entries(grants)) {
      this.table.grant(this.api.functions[routeKey], ...actions);
    }

    // Any writer of the table, not only this API, keeps both caches true.
    this.cacheSync = new CacheSync(this, 'CacheSync', {
      table: this.table,
      routes: this.api.routes,
      distribution: this.api.edge?.distribution,
      dataCache: this.dataCache,
      dataKeys: CATALOG_DATA_PURGE.keys,
      dataGroups: CATALOG_DATA_PURGE.groups,
    });

    this.api.monitoring?.addStreamFunctions([this.cacheSync.edgePurge, this.cacheSync.dataPurge].filter((f) => f !== undefined));
    const sync = this.cacheSync;
    this.api.monitoring?.addQueues({
      backlogs: [sync.edgeRequests, sync.dataRetries].filter((q) => q !== undefined),
      failures: [...new Set([sync.edgeFailures, sync.dataFailures, sync.deadLetterQueue])].filter((q) => q !== undefined),
    });

    Compliance.apply(this, compliance);
    this.acknowledgeSampleChoices();

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'API stage URL (answers only through CloudFront)' });
    if (this.api.edge) {
      new CfnOutput(this, 'DistributionDomainName', { value: this.api.edge.distributionDomainName });
    }
    new CfnOutput(this, 'HealthFunctionName', { value: this.api.functions['GET /health'].functionName });
    new CfnOutput(this, 'PartnerApiKeySecretArn', {
      value: this.api.consumers!.secrets.partner.secretArn,
      description: 'Secret holding the partner API key (send it as x-api-key to /partner/items)',
    });
  }

  /** What the sample leaves out under every profile, and why, on the resources concerned. */
  private acknowledgeSampleChoices(): void {
    const edge = this.api.edge;
    if (!edge) return;
    const logBuckets = [edge.logBucket, edge.node.tryFindChild('ServerAccessLogs')].filter((b) => b !== undefined);
    for (const bucket of logBuckets) {
      acknowledgeInPacks(
        bucket,
        'S3BucketReplicationEnabled',
        'Access logs of the sample\'s single-region deployment, versioned and expiring with the log retention; there is no second-region ' +
          'bucket here to replicate to (a regulated deployment replicates its log buckets to the organisation\'s log archive)',
      );
    }
  }
}
