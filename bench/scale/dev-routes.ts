/**
 * The 200-route scale table for the dev server:
 * `npm run dev -- --routes bench/scale/dev-routes.ts --env TABLE_NAME=memory --api-key partner=<20+ characters>`.
 * Its Cognito routes name a user pool by id only: the dev server does not check callers (API keys aside).
 */
import { Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization } from '../../lib';
import { scaleRouteTable } from './scale-fixture';

const pool = cognito.UserPool.fromUserPoolId(new Stack(), 'Pool', 'eu-west-1_scaleDev0');

/** The scale fixture's table at 200 routes. */
export const routes = scaleRouteTable({ routes: 200 }, ApiAuthorization.cognito({ userPools: [pool] }));
