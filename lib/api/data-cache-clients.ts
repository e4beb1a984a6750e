import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import type { DataCache } from '../data-cache/data-cache';
import { newCacheClientGroup } from '../data-cache/data-cache-network';
import type { StatelessFunctionOptions } from '../functions/stateless-function';
import type { ParsedRoute } from './route-table';

/** Function settings of a route: the API's `functionDefaults` under the route's `function`. */
export function routeFunctionOptions(route: ParsedRoute, functionDefaults: StatelessFunctionOptions | undefined): StatelessFunctionOptions {
  return { ...functionDefaults, ...route.options.function };
}

/**
 * The security group the API's data-cache client functions share, when `share` is on and a
 * data-cached route takes the default group: one group and one ingress rule on the cache
 * instead of one of each per function (issue 16). Routes that set `function.securityGroups`
 * keep theirs.
 */
export function sharedDataCacheClientGroup(
  api: Construct,
  routes: ParsedRoute[],
  functionDefaults: StatelessFunctionOptions | undefined,
  dataCache: DataCache | undefined,
  share: boolean,
): ec2.SecurityGroup | undefined {
  if (!dataCache || !share) return undefined;
  const clients = routes.filter((r) => r.cache.data && routeFunctionOptions(r, functionDefaults).securityGroups === undefined);
  if (clients.length === 0) return undefined;
  return newCacheClientGroup(dataCache, api, 'DataCacheClients', `Data-cache client functions of ${api.node.path}`.slice(0, 255));
}
