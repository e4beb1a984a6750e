import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** How a route's callers prove who they are. There is no default: an API must choose. */
export abstract class ApiAuthorization {
  /** Callers sign requests with SigV4 (AWS credentials); grant them `execute-api:Invoke`. */
  public static iam(): ApiAuthorization {
    return new (class extends ApiAuthorization {
      public readonly kind = 'iam';
      public bind(): apigw.MethodOptions {
        return { authorizationType: apigw.AuthorizationType.IAM };
      }
    })();
  }

  /** Callers present a Cognito user pool token. */
  public static cognito(userPools: cognito.IUserPool[], scopes?: string[]): ApiAuthorization {
    let authorizer: apigw.CognitoUserPoolsAuthorizer | undefined;
    return new (class extends ApiAuthorization {
      public readonly kind = 'cognito';
      public bind(scope: Construct): apigw.MethodOptions {
        // One authorizer per API, shared by every route that uses this authorization.
        authorizer ??= new apigw.CognitoUserPoolsAuthorizer(scope, 'CognitoAuthorizer', { cognitoUserPools: userPools });
        return {
          authorizationType: apigw.AuthorizationType.COGNITO,
          authorizer,
          authorizationScopes: scopes,
        };
      }
    })();
  }

  /** Any API Gateway authorizer (e.g. a Lambda TokenAuthorizer or RequestAuthorizer). */
  public static authorizer(authorizer: apigw.IAuthorizer): ApiAuthorization {
    return new (class extends ApiAuthorization {
      public readonly kind = 'custom';
      public bind(): apigw.MethodOptions {
        return { authorizationType: authorizer.authorizationType ?? apigw.AuthorizationType.CUSTOM, authorizer };
      }
    })();
  }

  /**
   * No caller authentication: an explicit opt-in for content meant for everyone.
   * @param reason why the route is public; recorded with the cdk-nag acknowledgement.
   */
  public static publicAccess(reason: string): ApiAuthorization {
    if (!reason || reason.trim().length < 10) {
      throw new Error('ApiAuthorization.publicAccess(reason): give a reason of at least 10 characters for leaving routes open');
    }
    return new (class extends ApiAuthorization {
      public readonly kind = 'public';
      public readonly publicReason = reason;
      public bind(): apigw.MethodOptions {
        return { authorizationType: apigw.AuthorizationType.NONE };
      }
    })();
  }

  /** `iam`, `cognito`, `custom` or `public`. */
  public abstract readonly kind: 'iam' | 'cognito' | 'custom' | 'public';
  /** Why a public route is public (public routes only). */
  public readonly publicReason?: string;

  /** Whether a caller's identity reaches the handler, so its responses must stay private by default. */
  public get authenticated(): boolean {
    return this.kind !== 'public';
  }

  /** The method options that enforce this authorization. */
  public abstract bind(scope: Construct): apigw.MethodOptions;
}
