/**
 * One synth of the scale fixture, in its own process so that its peak RSS is its own:
 * `tsx bench/scale/scale-synth.ts <routes> <on|off monitoring> <outdir>`. Prints one JSON line:
 * the templates (resources, bytes), synth wall and CPU seconds (construct + synth, module loading excluded)
 * and the process's peak RSS; a synth refused by a limit prints the error instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { scaleStack } from './scale-fixture';

const [routes, monitoring, outdir] = [Number(process.argv[2]), process.argv[3] === 'on', process.argv[4]];
const context = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
const started = process.hrtime.bigint();
const cpuStarted = process.cpuUsage();
let error: string | undefined;
try {
  // Bundling on, as `cdk synth` does (the bundle cache serves unchanged handlers); CloudFormation
  // schema validation off, as in the sample app (CI lints with cfn-lint instead).
  const app = new App({ outdir, context, builtinCloudFormationValidation: false });
  scaleStack(app, 'Scale', { routes, apiProps: monitoring ? {} : { monitoring: false } });
  app.synth();
} catch (e) {
  error = (e as Error).message.split('\n').slice(0, 3).join(' ').slice(0, 400);
}
const synthSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStarted);
// CPU time is what a busy host stretches least: the wall time is reported beside it.
const synthCpuSeconds = (cpu.user + cpu.system) / 1e6;
const templates = error
  ? []
  : fs
      .readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((file) => {
        const text = fs.readFileSync(path.join(outdir, file), 'utf8');
        return { file, nested: file.endsWith('.nested.template.json'), resources: Object.keys(JSON.parse(text).Resources ?? {}).length, bytes: Buffer.byteLength(text) };
      });
console.log(JSON.stringify({ routes, monitoring, synthSeconds, synthCpuSeconds, peakRssMb: process.resourceUsage().maxRSS / 1024, templates, error }));
