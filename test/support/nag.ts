import * as fs from 'fs';
import * as path from 'path';
import { App, AppProps, CfnResource, IPolicyValidationPlugin, Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { NO_ALARM_TOPIC_WARNING } from '../../lib/monitoring/alarm-actions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { sampleNagPacks } from '../../bin/nag-packs';

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
    // CI runs cfn-lint, which checks the same schemas, over every template tests write (and
    // bin/app.ts leaves it off as well unless CDK_VALIDATION=true).
    builtinCloudFormationValidation: false,
    ...appProps,
    context: { ...CDK_JSON_CONTEXT, ...(bundle ? {} : SKIP_BUNDLING), ...(appProps.context ?? {}) },
  });
}

/** All five rule packs of cdk-nag 3: AwsSolutions, Serverless and the regulated NIST 800-53 R5, PCI DSS 3.2.1, HIPAA Security. */
export function allPacks(app: App): IPolicyValidationPlugin[] {
  return sampleNagPacks(app);
}

/** A testApp with cdk-nag's AwsSolutions and Serverless rule packs registered. */
export function nagApp(props: AppProps & { bundle?: boolean } = {}): App {
  const app = testApp(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  // Tests of other concerns build monitored APIs without an alarm topic; the warning itself is
  // tested in test/compliance/alarm-actions.test.ts, and the sample's absence of it in
  // test/compliance/sample-packs.test.ts (both build their apps without this acknowledgement).
  Validations.of(app).acknowledge({ id: `Annotation::${NO_ALARM_TOPIC_WARNING}`, reason: 'Alarm topics are out of scope of the test that builds this app' });
  return app;
}

/** One unacknowledged finding: `<rule> <severity> <construct path>: <description>`. */
export type NagFinding = string;

/** One finding of a validation plugin on one resource. */
export interface NagViolation {
  readonly rule: string;
  readonly severity: string;
  /** Construct path of the CloudFormation resource the finding is about. */
  readonly constructPath: string;
  readonly description: string;
}

/**
 * Synthesizes the app and returns every unacknowledged finding of every plugin, errors and
 * warnings alike, so a test can expect the list to be empty and print what is left when not.
 */
export function synthFindings(app: App): NagFinding[] {
  return synthViolations(app).map((v) => `${v.rule} ${v.severity} ${v.constructPath}: ${v.description}`);
}

/** Synthesizes the app and returns every unacknowledged finding, one per violating resource. */
export function synthViolations(app: App): NagViolation[] {
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
      violation.violatingConstructs.map((c) => ({
        rule: violation.ruleName,
        severity: violation.severity ?? 'error',
        constructPath: c.constructPath,
        description: violation.description,
      })),
    ),
  );
}

/** An acknowledgement as `Validations.of(construct).acknowledge({ id, reason })` recorded it. */
export interface RecordedAcknowledgement {
  readonly construct: IConstruct;
  readonly id: string;
  readonly reason: string;
}

/** Rule ids of the cdk-nag packs (the CDK's own CloudFormation-Validate and annotation ids are not ours to place). */
const NAG_RULE_ID = /^(AwsSolutions|Serverless|HIPAA\.Security|NIST\.800[.-]53\.R[45]|PCI\.DSS\.321)-/;

/**
 * Builds and synthesizes an app (cdk-nag registered) with every cdk-nag acknowledgement recorded
 * but withheld, so the report holds every raw finding and each acknowledgement can be matched to
 * the findings it would have covered. Acknowledgements of other validations pass through.
 */
export function synthWithAcknowledgementsWithheld(build: (app: App) => void, plugins?: (app: App) => IPolicyValidationPlugin[]): {
  acknowledgements: RecordedAcknowledgement[];
  violations: NagViolation[];
} {
  const acknowledgements: RecordedAcknowledgement[] = [];
  const of = Validations.of;
  Validations.of = (scope: IConstruct): Validations => {
    const validations = of.call(Validations, scope);
    const recording = Object.create(validations) as Validations;
    recording.acknowledge = (...rules) => {
      const passed = rules.filter((rule) => !NAG_RULE_ID.test(rule.id));
      for (const rule of rules.filter((r) => NAG_RULE_ID.test(r.id))) acknowledgements.push({ construct: scope, id: rule.id, reason: rule.reason });
      if (passed.length > 0) validations.acknowledge(...passed);
    };
    return recording;
  };
  try {
    const app = plugins ? testApp() : nagApp();
    if (plugins) Validations.of(app).addPlugins(...plugins(app));
    build(app);
    return { acknowledgements, violations: synthViolations(app) };
  } finally {
    Validations.of = of;
  }
}

/** `aws-cdk-lib.Stack` for a class of the CDK (minified there to `Stack2`), else the class name. */
function typeName(construct: IConstruct): string {
  const fqn = (construct.constructor as unknown as Record<symbol, { fqn?: string } | undefined>)[Symbol.for('jsii.rtti')]?.fqn;
  const name = construct.constructor.name;
  return fqn && fqn.split('.').pop() === name.replace(/\d+$/, '') ? fqn : name;
}

const isUnder = (childPath: string, parentPath: string) => childPath === parentPath || childPath.startsWith(`${parentPath}/`);

/**
 * The construct a finding's CloudFormation resource belongs to: its L2 wrapper when the
 * resource is that construct's default child (`Fn/Resource` -> `Fn`), else the resource itself.
 */
function ownerPath(app: IConstruct, cfnPath: string): string {
  const parentPath = cfnPath.slice(0, cfnPath.lastIndexOf('/'));
  const parent = app.node.findAll().find((c) => c.node.path === parentPath);
  return parent?.node.defaultChild?.node.path === cfnPath ? parentPath : cfnPath;
}

/**
 * Every cdk-nag acknowledgement that is not on the resource it concerns, as a sentence naming
 * where it is and where it belongs. An acknowledgement is in place when it sits on a resource
 * (a CfnResource, or an L2 construct whose default child is one) and every finding it covers
 * (the nearest acknowledgement of the rule on the finding's path wins, as the CDK applies them)
 * is about that resource or one it directly owns (a Role's DefaultPolicy, a function's security
 * group). Also reported: an acknowledgement that covers no finding at all.
 */
export function misplacedAcknowledgements(
  app: IConstruct,
  acknowledgements: readonly RecordedAcknowledgement[],
  violations: readonly NagViolation[],
): string[] {
  const problems = new Set<string>();
  const byRule = new Map<string, Set<string>>();
  for (const ack of acknowledgements) {
    const paths = byRule.get(ack.id) ?? new Set<string>();
    paths.add(ack.construct.node.path);
    byRule.set(ack.id, paths);
  }
  const covered = new Map<string, NagViolation[]>();
  for (const violation of violations) {
    const candidates = [...(byRule.get(violation.rule) ?? [])].filter((p) => isUnder(violation.constructPath, p));
    if (candidates.length === 0) continue;
    const nearest = candidates.reduce((a, b) => (b.length > a.length ? b : a));
    const key = `${violation.rule}\n${nearest}`;
    covered.set(key, [...(covered.get(key) ?? []), violation]);
  }
  for (const ack of acknowledgements) {
    const at = ack.construct.node.path;
    const kind = typeName(ack.construct);
    const findings = covered.get(`${ack.id}\n${at}`) ?? [];
    if (findings.length === 0) {
      problems.add(`${ack.id} is acknowledged at ${at} (${kind}), where no such finding occurs`);
      continue;
    }
    const defaultChild = ack.construct.node.defaultChild;
    // A nested stack's default child is its AWS::CloudFormation::Stack, yet it holds every resource beneath it: never "the resource".
    const isResource =
      !Stack.isStack(ack.construct) && (CfnResource.isCfnResource(ack.construct) || (defaultChild !== undefined && CfnResource.isCfnResource(defaultChild)));
    for (const finding of findings) {
      const owner = ownerPath(app, finding.constructPath);
      const ownerParent = owner.slice(0, owner.lastIndexOf('/'));
      if (!isResource || (owner !== at && ownerParent !== at)) {
        problems.add(`${ack.id} is acknowledged at ${at} (${kind}) above the resource it concerns: move it to ${owner}`);
      }
    }
  }
  return [...problems].sort();
}
