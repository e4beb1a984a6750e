import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';

/** Context that skips asset bundling: for template-only tests (test/bundling.test.ts bundles every handler). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

/**
 * Where tests write their cloud assemblies; CI runs cfn-lint over every template in it, so
 * each variant a test synthesizes is linted, not only the sample app.
 */
export const TEST_ASSEMBLIES = path.join(__dirname, '..', '..', '.test-assemblies');

/** A fresh cloud-assembly directory under TEST_ASSEMBLIES. */
export function testOutdir(): string {
  fs.mkdirSync(TEST_ASSEMBLIES, { recursive: true });
  return fs.mkdtempSync(path.join(TEST_ASSEMBLIES, 'assembly-'));
}

/** The feature flags `cdk synth` uses (cdk.json), so tests synthesize what users deploy. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/**
 * An App as `cdk synth` builds it (cdk.json's context) writing to its own cloud assembly
 * under TEST_ASSEMBLIES; asset bundling is skipped unless `bundle` is set.
 */
export function testApp(props: AppProps & { bundle?: boolean } = {}): App {
  const { bundle, ...appProps } = props;
  return new App({
    outdir: testOutdir(),
    // aws-cdk-lib's built-in CloudFormation schema validation costs 5 to 15 s per test file;
    // CI runs cfn-lint, which checks the same schemas, over every template tests write, and
    // `cdk synth` of the sample app keeps the built-in validation on.
    builtinCloudFormationValidation: false,
    ...appProps,
    context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : SKIP_BUNDLING), ...(appProps.context ?? {}) },
  });
}

/** A testApp with cdk-nag's AwsSolutions and Serverless rule packs registered. */
export function nagApp(props: AppProps & { bundle?: boolean } = {}): App {
  const app = testApp(props);
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
  const reportPath = path.join(app.outdir, 'validation-report.json');
  try {
    app.synth();
  } catch (error) {
    // Unacknowledged findings fail synth after writing the report; anything else is a real error.
    if (!fs.existsSync(reportPath)) throw error;
  }
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
