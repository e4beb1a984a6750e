import { Names, Stack, StackProps, Token } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkRange } from '../api/route-table';
import { DEFAULT_EDGE_WEB_ACL, EDGE_LIMITS } from './edge-cache-defaults';
import { DEFAULT_WAF_LOGGING } from './edge-security-defaults';
import { checkLogDestination, redactedHeaders, WafLogging, WafLoggingOptions } from './waf-logging';

/** Properties of an `EdgeWebAcl`. */
export interface EdgeWebAclProps extends WafLoggingOptions {
  /**
   * Requests one viewer address may send in any evaluation window; more are answered 429
   * until the rate falls below it. The address is the source of the viewer's connection to
   * CloudFront, which the viewer cannot choose (no header is read), so the limit can be
   * neither evaded by writing `X-Forwarded-For` nor aimed at someone else's address.
   * @default 2000
   */
  readonly rateLimit?: number;
  /**
   * Window of the rate limit, in seconds: 60, 120, 300 or 600.
   * @default 300
   */
  readonly evaluationWindowSeconds?: number;
}

/**
 * A CLOUDFRONT-scope WAFv2 web ACL with a per-viewer rate limit, for `EdgeCache` `webAclArn`.
 * CloudFront web ACLs exist only in us-east-1: create it in a stack of that region
 * (`EdgeWebAclStack`) and pass its ARN to the distribution's stack (a cross-region
 * reference, or the ARN as a string).
 */
export class EdgeWebAcl extends Construct {
  /** The web ACL. */
  public readonly webAcl: wafv2.CfnWebACL;
  /** Its ARN, for `EdgeCache` `webAclArn`. */
  public readonly webAclArn: string;
  /** The web ACL's logging configuration (unless `logging: false`). */
  public readonly loggingConfiguration?: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: EdgeWebAclProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== 'us-east-1') {
      throw new Error(`EdgeWebAcl: a CLOUDFRONT-scope web ACL must be created in us-east-1, not ${region}; put it in a stack with env.region 'us-east-1' (EdgeWebAclStack)`);
    }
    const rateLimit = props.rateLimit ?? DEFAULT_EDGE_WEB_ACL.rateLimit;
    const window = props.evaluationWindowSeconds ?? DEFAULT_EDGE_WEB_ACL.evaluationWindowSeconds;
    checkRange('rateLimit', rateLimit, EDGE_LIMITS.rateLimit.min, EDGE_LIMITS.rateLimit.max, 'requests per window');
    if (props.logDestinationArn !== undefined) checkLogDestination(props.logDestinationArn, 'logDestinationArn');
    if (![60, 120, 300, 600].includes(window)) {
      throw new Error(`evaluationWindowSeconds must be one of 60, 120, 300, 600, got ${window}`);
    }
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      description: 'Rate limit per viewer address, as CloudFront sees the connection',
      defaultAction: { allow: {} },
      customResponseBodies: {
        tooManyRequests: { contentType: 'APPLICATION_JSON', content: '{"code":"TOO_MANY_REQUESTS","message":"Too many requests"}' },
      },
      visibilityConfig: visibility(Names.uniqueId(this).slice(-128)),
      rules: [
        {
          name: 'RateLimitPerViewer',
          priority: 0,
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: 'tooManyRequests',
                responseHeaders: [{ name: 'cache-control', value: 'no-store' }],
              },
            },
          },
          // IP: the connection's source address. Never FORWARDED_IP, whose value the viewer writes.
          statement: { rateBasedStatement: { limit: rateLimit, evaluationWindowSec: window, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('RateLimitPerViewer'),
        },
      ],
    });
    this.webAclArn = this.webAcl.attrArn;
    if (props.logging ?? DEFAULT_WAF_LOGGING.logging) {
      // In us-east-1 with the web ACL, where WAF requires the log destination of a CLOUDFRONT scope.
      this.loggingConfiguration = new WafLogging(this, 'Logging', {
        webAcl: this.webAcl,
        logDestinationArn: props.logDestinationArn,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        redactedHeaders: redactedHeaders(),
      }).loggingConfiguration;
    }
  }
}

/** Properties of an `EdgeWebAclStack`: stack props (its region is us-east-1) and the web ACL's. */
export interface EdgeWebAclStackProps extends StackProps, EdgeWebAclProps {}

/**
 * A small stack in us-east-1 holding an `EdgeWebAcl`. Give the stack that holds the
 * distribution `crossRegionReferences: true` to pass `webAclArn` across regions directly.
 */
export class EdgeWebAclStack extends Stack {
  public readonly edgeWebAcl: EdgeWebAcl;
  /** ARN of the web ACL, for `EdgeCache` `webAclArn`. */
  public readonly webAclArn: string;

  constructor(scope: Construct, id: string, props: EdgeWebAclStackProps = {}) {
    const { rateLimit, evaluationWindowSeconds, logging, logDestinationArn, logRetention, logRemovalPolicy, ...stackProps } = props;
    if (stackProps.env?.region !== undefined && stackProps.env.region !== 'us-east-1') {
      throw new Error(`EdgeWebAclStack: env.region must be us-east-1 (CLOUDFRONT-scope web ACLs live there), got ${stackProps.env.region}`);
    }
    super(scope, id, { ...stackProps, env: { ...stackProps.env, region: 'us-east-1' } });
    this.edgeWebAcl = new EdgeWebAcl(this, 'EdgeWebAcl', { rateLimit, evaluationWindowSeconds, logging, logDestinationArn, logRetention, logRemovalPolicy });
    this.webAclArn = this.edgeWebAcl.webAclArn;
  }
}
