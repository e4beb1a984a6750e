import * as path from 'path';
import { App, IPolicyValidationPlugin, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ApiAuthorization, CacheableApi, DataCache, DataCacheEngine, StatelessFunction } from '../lib';
import { CATALOG_HANDLERS_DIR, CatalogStack } from '../lib/sample';
import { acknowledge } from '../lib/shared/nag';
import { allPacks, misplacedAcknowledgements, synthWithAcknowledgementsWithheld } from './support/nag';

// An acknowledgement hides its finding for everything under the construct it is placed on: on a
// stack, it would also hide the finding for every resource a user adds later. These tests
// synthesize with every cdk-nag acknowledgement withheld, match each acknowledgement to the raw
// findings it would cover, and require it to sit on the resource those findings are about.

const health = path.join(CATALOG_HANDLERS_DIR, 'health.ts');

function placementProblems(build: (app: App) => void, plugins?: (app: App) => IPolicyValidationPlugin[]): { problems: string[]; acknowledgements: number } {
  let root: App | undefined;
  const { acknowledgements, violations } = synthWithAcknowledgementsWithheld((app) => {
    root = app;
    build(app);
  }, plugins);
  return { problems: misplacedAcknowledgements(root!, acknowledgements, violations), acknowledgements: acknowledgements.length };
}

test('every acknowledgement of the sample stack (gateway cache on) sits on the resource it concerns', () => {
  // All five packs: the sample's standard compliance profile acknowledges regulated-pack findings too.
  const { problems, acknowledgements } = placementProblems((app) => new CatalogStack(app, 'CatalogStack', { gatewayCache: true }), allPacks);
  expect(problems).toEqual([]);
  expect(acknowledgements).toBeGreaterThan(30); // the walk saw the kit's acknowledgements
});

test('every acknowledgement of node-based and Memcached caches and an API without edge sits on its resource', () => {
  const { problems, acknowledgements } = placementProblems((app) => {
    const stack = new Stack(app, 'Variants');
    const redis = new DataCache(stack, 'Redis', { engine: DataCacheEngine.replicationGroup() });
    new DataCache(stack, 'Memcached', { engine: DataCacheEngine.memcached() });
    new CacheableApi(stack, 'Api', {
      authorization: ApiAuthorization.iam(),
      dataCache: redis,
      routes: { 'GET /health': { entry: health, authorization: ApiAuthorization.publicAccess('Health check') } },
    });
  });
  expect(problems).toEqual([]);
  expect(acknowledgements).toBeGreaterThan(5);
});

describe('the walker itself', () => {
  // Broken placements the walker must report, so the two tests above can fail.
  const problemsOf = (misplace: (stack: Stack, fn: StatelessFunction) => void) =>
    placementProblems((app) => {
      const stack = new Stack(app, 'Broken');
      const group = new Construct(stack, 'Group');
      const fn = new StatelessFunction(group, 'Fn', { entry: health });
      misplace(stack, fn);
    }).problems;

  test('reports an acknowledgement on the stack', () => {
    expect(problemsOf((stack) => acknowledge(stack, 'Serverless-LambdaDLQ', 'moved up'))).toContain(
      'Serverless-LambdaDLQ is acknowledged at Broken (aws-cdk-lib.Stack) above the resource it concerns: move it to Broken/Group/Fn',
    );
  });

  test('reports an acknowledgement on a grouping construct that is not a resource', () => {
    expect(problemsOf((_stack, fn) => acknowledge(fn.node.scope!, 'Serverless-LambdaDLQ', 'moved up'))).toContain(
      'Serverless-LambdaDLQ is acknowledged at Broken/Group (constructs.Construct) above the resource it concerns: move it to Broken/Group/Fn',
    );
  });

  test('reports an acknowledgement on one resource that covers another resource below it', () => {
    const problems = problemsOf((stack) => {
      // A queue whose subtree holds an unrelated function: its acknowledgement reaches too far.
      const queue = new sqs.Queue(stack, 'Queue', { enforceSSL: true });
      new StatelessFunction(new Construct(queue, 'Nested'), 'Inner', { entry: health });
      acknowledge(queue, 'Serverless-LambdaDLQ', 'moved up');
    });
    expect(problems).toContain('Serverless-LambdaDLQ is acknowledged at Broken/Queue (aws-cdk-lib.aws_sqs.Queue) above the resource it concerns: move it to Broken/Queue/Nested/Inner');
  });

  test('reports an acknowledgement of a finding that does not occur', () => {
    expect(problemsOf((_stack, fn) => acknowledge(fn, 'AwsSolutions-S1', 'not a bucket'))).toContain(
      'AwsSolutions-S1 is acknowledged at Broken/Group/Fn (StatelessFunction), where no such finding occurs',
    );
  });

  test('accepts the kit own placement on the same function', () => {
    expect(problemsOf(() => undefined)).toEqual([]);
  });
});
