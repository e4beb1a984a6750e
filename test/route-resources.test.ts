/**
 * Resources per route (issue 16): a route table of `GET /r<i>/{id}` routes (public, data-cached,
 * the first 20 edge-cached, monitoring on; bench/scale/route-table-fixture.ts) costs what a route
 * needs and no more: the data-cache clients share one security group and one ingress rule on the
 * cache, Lambda errors and throttles are alarmed in sums of up to 10 functions, identical edge
 * cache settings share one cache policy. 40 routes fit in one stack.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { FixtureScope, routeTableStack } from '../bench/scale/route-table-fixture';
import { nagApp, synthFindings } from './support/nag';

type Json = Record<string, any>;

// One synthesis for the file, cdk-nag registered; assemblies land in .test-assemblies for cfn-lint.
const app = nagApp();
/** The table at 40 routes: it used to stop at 584 resources. */
const large = routeTableStack(app, 'Routes40', { routes: 40 });
/** The same at 20 routes, to count what 20 more routes cost. */
const small = routeTableStack(app, 'Routes20', { routes: 20 });
/**
 * 12 routes: two with edge TTLs of their own, two with their own security group, one with
 * alarms of its own, and one in an API that does not share its security group.
 */
const mixed = routeTableStack(app, 'RoutesMixed', {
  routes: 12,
  edgeCached: 6,
  edgeTtl: (i) => Duration.seconds(i < 4 ? 60 : 300),
  routeOptions: (i, key, scope) => ({
    ...(i === 7 ? { alarms: true } : {}),
    ...(i >= 10 ? { function: { securityGroups: [ownGroup(scope!, key)] } } : {}),
  }),
});
function ownGroup(scope: FixtureScope, key: string): ec2.ISecurityGroup {
  const id = `Own${key.replace(/[^A-Za-z0-9]/g, '')}`;
  return new ec2.SecurityGroup(scope.stack, id, { vpc: scope.dataCache.vpc, description: `${key} alone` });
}
/** GET and PUT on each of 6 paths, the GETs edge-cached: the writes share each cached behavior. */
const withWrites = routeTableStack(app, 'RoutesWithWrites', { routes: 12, methods: ['GET', 'PUT'], apiProps: { monitoring: false } });
const unshared = routeTableStack(app, 'RoutesUnshared', { routes: 3, apiProps: { shareDataCacheSecurityGroup: false, monitoring: false } });

const findings = synthFindings(app);
const t = {
  large: Template.fromStack(large.stack),
  small: Template.fromStack(small.stack),
  mixed: Template.fromStack(mixed.stack),
  unshared: Template.fromStack(unshared.stack),
  withWrites: Template.fromStack(withWrites.stack),
};
const resourceCount = (template: Template) => Object.keys(template.toJSON().Resources).length;
const logicalId = (stack: typeof large.stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as any);
const routeFunctions = (template: Template): Record<string, Json> =>
  Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, f]) => (f as Json).Properties.Environment?.Variables?.ROUTE_KEY)
      .map(([id, f]) => [(f as Json).Properties.Environment.Variables.ROUTE_KEY, { id, ...(f as Json).Properties }]),
  );
const alarms = (template: Template): Record<string, Json> =>
  Object.fromEntries(
    Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, a]) => [id.replace(/^ApiMonitoring(.+)Alarm[0-9A-F]{8}$/, '$1'), (a as Json).Properties]),
  );

const behaviorsOf = (template: Template): Json[] =>
  (Object.values(template.findResources('AWS::CloudFront::Distribution'))[0] as Json).Properties.DistributionConfig.CacheBehaviors;
/** The behavior CloudFront serves `path` from: the first whose pattern matches (`*` any run of characters, `?` one). */
const cloudFrontBehavior = (behaviors: Json[], path: string): Json | undefined =>
  behaviors.find((b) => new RegExp(`^${(b.PathPattern as string).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(path));

test('cdk-nag AwsSolutions and Serverless checks report no unacknowledged finding', () => {
  expect(findings).toEqual([]);
});

test('40 routes synthesize in one stack, and 20 more routes cost at most 8.2 resources each', () => {
  expect(resourceCount(t.large)).toBeLessThan(500);
  // A role, its policy, a log group, the function, the invoke permission, two API Gateway
  // resources and the method: 8 per route, plus an alarm pair per 10 routes.
  expect((resourceCount(t.large) - resourceCount(t.small)) / 20).toBeLessThanOrEqual(8.2);
});

describe('data-cache clients share one security group', () => {
  test('every data-cache route function is in the one shared group, and the cache admits it by one rule on its port only', () => {
    const shared = logicalId(large.stack, large.api.dataCacheClients as ec2.SecurityGroup);
    const fns = Object.values(routeFunctions(t.large));
    expect(fns).toHaveLength(40);
    for (const fn of fns) expect(fn.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [shared, 'GroupId'] }]);
    const cacheGroup = logicalId(large.stack, large.dataCache.securityGroup as ec2.SecurityGroup);
    const ingress = Object.values(t.large.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => (r as Json).Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { 'Fn::GetAtt': [cacheGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [shared, 'GroupId'] },
        IpProtocol: 'tcp',
        FromPort: 6379,
        ToPort: 6379,
      }),
    ]);
    // Two groups in the stack: the cache's (no egress at all) and the clients'.
    const groups = t.large.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(groups).sort()).toEqual([cacheGroup, shared].sort());
    expect(groups[cacheGroup].Properties.SecurityGroupEgress).toEqual([expect.objectContaining({ Description: 'Disallow all traffic' })]);
    expect(groups[shared].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test("a route that brings its own security group keeps it, with its own rule on the cache", () => {
    const fns = routeFunctions(t.mixed);
    const shared = logicalId(mixed.stack, mixed.api.dataCacheClients as ec2.SecurityGroup);
    const own = Object.keys(fns).filter((key) => JSON.stringify(fns[key].VpcConfig.SecurityGroupIds) !== JSON.stringify([{ 'Fn::GetAtt': [shared, 'GroupId'] }]));
    expect(own.sort()).toEqual(['GET /r10/{id}', 'GET /r11/{id}']);
    expect(JSON.stringify(fns['GET /r10/{id}'].VpcConfig.SecurityGroupIds)).toContain('OwnGETr10id');
    const sources = Object.values(t.mixed.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => JSON.stringify((r as Json).Properties.SourceSecurityGroupId));
    expect(sources).toHaveLength(3);
    expect(sources.filter((s) => s.includes('OwnGETr1'))).toHaveLength(2);
  });

  test('shareDataCacheSecurityGroup: false gives each function its own group and rule, as before', () => {
    expect(unshared.api.dataCacheClients).toBeUndefined();
    const groups = new Set(Object.values(routeFunctions(t.unshared)).map((f) => JSON.stringify(f.VpcConfig.SecurityGroupIds)));
    expect(groups.size).toBe(3);
    t.unshared.resourceCountIs('AWS::EC2::SecurityGroupIngress', 3);
  });
});

describe('API-level alarms', () => {
  test('40 routes: Lambda errors and throttles in sums of 10 functions, every function in exactly one sum', () => {
    const all = alarms(t.large);
    const fns = routeFunctions(t.large);
    for (const [prefix, metric] of [['FunctionErrors', 'Errors'], ['FunctionThrottles', 'Throttles']]) {
      const ids = Object.keys(all).filter((id) => id.startsWith(prefix)).sort();
      expect(ids).toEqual([1, 2, 3, 4].map((n) => `${prefix}${n}`));
      const watched: string[] = [];
      for (const id of ids) {
        const stats = all[id].Metrics.filter((m: Json) => m.MetricStat);
        expect(stats.length).toBeLessThanOrEqual(10); // CloudWatch's hard limit per alarm
        expect(all[id].Metrics.find((m: Json) => m.ReturnData).Expression).toBe(`SUM([${stats.map((m: Json) => m.Id).join(', ')}])`);
        for (const m of stats) {
          expect(m.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metric });
          watched.push(m.MetricStat.Metric.Dimensions[0].Value.Ref);
        }
      }
      expect(watched.sort()).toEqual(Object.values(fns).map((f) => f.id).sort());
    }
    // No per-route alarm unless asked for: 2 API alarms + 8 sums + the cache's throttle alarm.
    expect(Object.keys(all)).toHaveLength(2 + 8 + 1);
  });

  test('a route with alarms: true has its own three, and is left out of the sums', () => {
    const all = alarms(t.mixed);
    const fnId = routeFunctions(t.mixed)['GET /r7/{id}'].id;
    expect(Object.keys(all).filter((id) => id.startsWith('GetR7'))).toEqual(['GetR7ByIdErrors', 'GetR7ByIdThrottles', 'GetR7ByIdDataCacheHitRatio']);
    const summed = Object.keys(all).filter((id) => id.startsWith('Function')).flatMap((id) => all[id].Metrics.filter((m: Json) => m.MetricStat));
    expect(summed).toHaveLength(2 * 11);
    expect(JSON.stringify(summed)).not.toContain(fnId);
  });
});

describe('edge cache policies are shared by identical settings', () => {
  test('20 edge-cached routes with the same settings: one cache policy, and two behaviors that match their paths and no other route', () => {
    t.large.resourceCountIs('AWS::CloudFront::CachePolicy', 1);
    const [policyId] = Object.keys(t.large.findResources('AWS::CloudFront::CachePolicy'));
    const behaviors = behaviorsOf(t.large);
    expect(behaviors.map((b) => b.PathPattern)).toEqual(['/r?/*', '/r1?/*']);
    for (const b of behaviors) expect(b.CachePolicyId).toEqual({ Ref: policyId });
    expect(new Set(Object.values(large.api.edge!.cachePolicies)).size).toBe(1);
    expect(Object.keys(large.api.edge!.cachePolicies)).toHaveLength(20);
    // As CloudFront picks a behavior (first match in order): r0-r19 cached, r20-r39 to the default.
    for (let i = 0; i < 40; i++) {
      const chosen = cloudFrontBehavior(behaviors, `/r${i}/some-id`);
      expect([i, chosen?.CachePolicyId]).toEqual([i, i < 20 ? { Ref: policyId } : undefined]);
    }
  });

  test('routes of the same settings whose merged pattern would take another route keep a behavior each', () => {
    // r0-r3 (60 s) cannot become /r?/* : it would also match /r4/* and /r5/* (300 s), and the rest.
    expect(behaviorsOf(t.mixed).map((b) => b.PathPattern)).toEqual(['/r0/*', '/r1/*', '/r2/*', '/r3/*', '/r4/*', '/r5/*']);
  });

  test('behaviors whose writes need the same forwarding share one origin request policy', () => {
    const behaviors = behaviorsOf(t.withWrites);
    expect(behaviors.map((b) => b.PathPattern)).toEqual(['/r0/*', '/r1/*', '/r2/*', '/r3/*', '/r4/*', '/r5/*']); // writes share them: no merge
    t.withWrites.resourceCountIs('AWS::CloudFront::OriginRequestPolicy', 1);
    const [policyId] = Object.keys(t.withWrites.findResources('AWS::CloudFront::OriginRequestPolicy'));
    for (const b of behaviors) expect(b).toMatchObject({ OriginRequestPolicyId: { Ref: policyId }, AllowedMethods: expect.arrayContaining(['PUT']) });
  });

  test('distinct settings get distinct policies, each behind exactly the routes that have them', () => {
    const policies = t.mixed.findResources('AWS::CloudFront::CachePolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    const ttlOf = (ref: { Ref: string }) => (policies[ref.Ref] as Json).Properties.CachePolicyConfig.DefaultTTL;
    const behaviors = behaviorsOf(t.mixed);
    const byPattern = Object.fromEntries(behaviors.map((b: Json) => [b.PathPattern, ttlOf(b.CachePolicyId)]));
    expect(byPattern).toEqual({ '/r0/*': 60, '/r1/*': 60, '/r2/*': 60, '/r3/*': 60, '/r4/*': 300, '/r5/*': 300 });
  });
});
