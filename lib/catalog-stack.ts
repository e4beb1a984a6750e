import { CfnOutput, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ApiAuthorization } from './api-authorization';
import { CacheableApi } from './cacheable-api';
import { catalogRoutes } from './catalog-routes';

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
}

/**
 * The sample app: a product catalog in DynamoDB served by a CacheableApi, reads cached at
 * every layer and writes keeping the caches true.
 */
export class CatalogStack extends Stack {
  public readonly table: dynamodb.TableV2;
  public readonly api: CacheableApi;

  constructor(scope: Construct, id: string, props: CatalogStackProps = {}) {
    super(scope, id, props);

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

    this.api = new CacheableApi(this, 'Api', {
      apiName: 'catalog',
      authorization: ApiAuthorization.iam(),
      routes: catalogRoutes({ gatewayCache: props.gatewayCache }),
      functionDefaults: { environment: { TABLE_NAME: this.table.tableName } },
    });

    // Each handler gets exactly the table actions it performs.
    const grants: Record<string, string[]> = {
      'GET /items': ['dynamodb:Scan'],
      'GET /items/{id}': ['dynamodb:GetItem'],
      'PUT /items/{id}': ['dynamodb:PutItem'],
      'DELETE /items/{id}': ['dynamodb:DeleteItem'],
    };
    for (const [routeKey, actions] of Object.entries(grants)) {
      this.table.grant(this.api.functions[routeKey], ...actions);
    }

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }
}
