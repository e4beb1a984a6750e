import * as fs from 'fs';
import { Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DataCache, DataCacheEngine } from '../lib/data-cache';
import { nagApp, synthFindings } from './support/nag';

function build(engine: DataCacheEngine) {
  const app = nagApp();
  const stack = new Stack(app, 'CacheStack');
  const cache = new DataCache(stack, 'DataCache', { engine });
  const fn = new lambda.Function(stack, 'Reader', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    vpc: cache.vpc,
    vpcSubnets: cache.functionSubnets,
  });
  cache.grantConnect(fn);
  return { app, stack };
}

test.each([
  ['serverless', DataCacheEngine.valkeyServerless()],
  ['rg', DataCacheEngine.replicationGroup()],
  ['memcached', DataCacheEngine.memcached()],
])('explore %s', (name, engine) => {
  const { app } = build(engine);
  let findings: string[] = [];
  try { findings = synthFindings(app); } catch (e) { findings = [String(e).slice(0, 200)]; }
  const rep = `${app.outdir}/validation-report.json`;
  if (fs.existsSync(rep)) { const r = JSON.parse(fs.readFileSync(rep, "utf8")); findings = r.pluginReports.flatMap((p: any) => p.violations.flatMap((v: any) => v.violatingConstructs.map((c: any) => `${v.ruleName} ${c.constructPath}`))); }
  console.log(name, findings.join('\n'));
  fs.copyFileSync(`${app.outdir}/CacheStack.template.json`, `/tmp/dc/${name}.json`);
});
