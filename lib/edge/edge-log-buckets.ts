import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/**
 * The CloudFront access-log bucket and the bucket of its own server access logs: encrypted,
 * private, SSL-only, versioned (logs are audit evidence: an overwrite or delete keeps the
 * previous version until the retention ends), expiring after `retention`.
 */
export function createLogBuckets(scope: Construct, retention: Duration, removalPolicy: RemovalPolicy): s3.Bucket {
  const lifecycleRules: s3.LifecycleRule[] = [
    {
      id: 'expire-logs',
      expiration: retention,
      noncurrentVersionExpiration: retention,
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    },
    // Expiring a current version leaves a delete marker; once its noncurrent versions are gone, drop it too.
    { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
  const serverAccessLogs = new s3.Bucket(scope, 'ServerAccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    lifecycleRules,
    removalPolicy,
  });
  return new s3.Bucket(scope, 'AccessLogs', {
    // CloudFront standard logs are delivered through bucket ACLs (awslogsdelivery):
    // ACLs stay enabled, and the bucket owner still owns every log object.
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    lifecycleRules,
    serverAccessLogsBucket: serverAccessLogs,
    serverAccessLogsPrefix: 'access-logs/',
    removalPolicy,
  });
}
