import { ROUTE_ENV as RUNTIME_ROUTE_ENV } from '../lambda/runtime/env';
import { CATALOG_DATA_PURGE as RUNTIME_CATALOG_PURGE } from '../lambda/catalog/cache-keys';
import { CATALOG_DATA_PURGE as INFRA_CATALOG_PURGE } from '../lib/sample/catalog-routes';
import { ROUTE_ENV as INFRA_ROUTE_ENV } from '../lib/api/runtime-env';

// lib/ and lambda/ never import each other; this keeps their shared names equal.
test('infrastructure and runtime agree on the route environment variables', () => {
  expect(RUNTIME_ROUTE_ENV).toEqual(INFRA_ROUTE_ENV);
});

test('no code under lambda/ imports aws-cdk-lib or lib/', () => {
  const { execSync } = require('child_process') as typeof import('child_process');
  const hits = execSync(`grep -rlE "from '(aws-cdk-lib|constructs)|from '\\.\\./+(\\.\\./)*lib/" lambda || true`, { encoding: 'utf8', cwd: `${__dirname}/..` });
  expect(hits.trim()).toBe('');
});

test('the stack purges exactly the data-cache keys the catalog handlers cache under', () => {
  expect(INFRA_CATALOG_PURGE).toEqual(RUNTIME_CATALOG_PURGE);
});
