import { App, IPolicyValidationPlugin } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';

/**
 * The five cdk-nag packs every synth of the sample runs (bin/app.ts), the tests run
 * (test/support/nag.ts) and the synth profile measures: unacknowledged findings fail synth.
 * Here rather than in lib/sample because cdk-nag is a development dependency of the package.
 */
export function sampleNagPacks(app: App): IPolicyValidationPlugin[] {
  return [new AwsSolutionsChecks(app), new ServerlessChecks(app), new NIST80053R5Checks(app), new PCIDSS321Checks(app), new HIPAASecurityChecks(app)];
}
