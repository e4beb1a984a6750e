/**
 * Resources in the stack and template size of the issue-16 route table (bench/scale/route-table-fixture.ts)
 * at several sizes, as the issue measured them: `GET /r<i>/{id}` routes, public, data-cached,
 * the first 20 edge-cached, monitoring on. A size whose synth fails prints the error instead.
 * Usage: npx tsx bench/scale/route-costs.ts [5 10 20 30 40]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { routeTableStack } from './route-table-fixture';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);

console.log('| routes | resources in the stack | template | resources per route (vs 5 routes) |');
console.log('|---|---|---|---|');
let base: { routes: number; resources: number } | undefined;
for (const routes of sizes.length ? sizes : [5, 10, 20, 30, 40]) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'route-costs-'));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
  });
  const { stack } = routeTableStack(app, `Routes${routes}`, { routes });
  let cell: string;
  try {
    app.synth();
    const file = path.join(outdir, stack.templateFile);
    const template = JSON.parse(fs.readFileSync(file, 'utf8'));
    const resources = Object.keys(template.Resources).length;
    // Size as CloudFormation counts it for an uploaded template: the JSON without indentation.
    const kb = Math.round(Buffer.byteLength(JSON.stringify(template)) / 1024);
    base ??= { routes, resources };
    const perRoute = routes > base.routes ? ((resources - base.resources) / (routes - base.routes)).toFixed(1) : '';
    cell = `| ${routes} | ${resources} | ${kb} KB | ${perRoute} |`;
  } catch (error) {
    cell = `| ${routes} | synth fails: ${String((error as Error).message).split('\n')[0].slice(0, 120)} | — | |`;
  }
  console.log(cell);
  fs.rmSync(outdir, { recursive: true, force: true });
}
