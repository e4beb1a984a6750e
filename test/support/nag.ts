import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** Context that skips asset bundling: for template-only tests (test/bundling.test.ts bundles every handler). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/** An App writing to its own temporary cloud assembly, with cdk-nag's rule packs registered. */
export function nagApp(props: AppProps & { bundle?: boolean } = {}): App {
  const { bundle, ...appProps } = props;
  const app = new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cca-test-')),
    ...appProps,
    context: { ...(bundle ? {} : SKIP_BUNDLING), ...(appProps.context ?? {}) },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

/** One unacknowledged finding: `<rule> <severity> <construct path>`. */
export type NagFinding = string;

/**
 * Synthesizes the app and returns every unacknowledged finding of every plugin, errors and
 * warnings alike, so a test can expect the list to be empty and print what is left when not.
 */
export function synthFindings(app: App): NagFinding[] {
  try {
    app.synth();
  } catch (error) {
    if (!/Validation failed/.test(String(error))) throw error;
  }
  const reportPath = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(reportPath)) return [];
  const report = JSON.parse(fs.readFileSync(reportPath, 'utf8')) as {
    pluginReports: Array<{
      pluginName: string;
      violations: Array<{ ruleName: string; severity?: string; description: string; violatingConstructs: Array<{ constructPath: string }> }>;
    }>;
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) =>
      violation.violatingConstructs.map(
        (c) => `${violation.ruleName} ${violation.severity ?? 'error'} ${c.constructPath}: ${violation.description}`,
      ),
    ),
  );
}
