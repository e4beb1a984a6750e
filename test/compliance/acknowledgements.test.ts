import { App } from 'aws-cdk-lib';
import { CompliancePolicy } from '../../lib/compliance';
import { PRICED_RULES } from '../../lib/compliance/priced-choices';
import { AiGatewayStack, CatalogStack } from '../../lib/sample';
import { acknowledge } from '../../lib/shared/nag';
import { allPacks, misplacedAcknowledgements, RecordedAcknowledgement, synthWithAcknowledgementsWithheld } from '../support/nag';

// Every acknowledgement of the sample, default (standard profile) and strict, per pack, with its
// reason: the lists are the review surface (a new acknowledgement changes the snapshot), and a
// reason that is empty or a placeholder fails the test. The walker of test/nag-placement.test.ts checks that each sits
// on the resource it concerns, here with all five packs registered.

/** A reason that explains nothing: empty, too short to say why, or a placeholder. */
export function unexplained(reason: string): boolean {
  const text = reason.trim();
  return text.length < 30 || /\b(todo|tbd|fixme|xxx|placeholder|lorem|n\/a)\b|^(none|ok|fine|ignore|suppressed?)\.?$/i.test(text);
}

const packOf = (id: string) => id.replace(/-[A-Za-z0-9]+(\[.*\])?$/, '');

/** The acknowledgements in force: a later one of the same rule on the same construct replaces the earlier. */
function inForce(acknowledgements: readonly RecordedAcknowledgement[]): RecordedAcknowledgement[] {
  const last = new Map<string, RecordedAcknowledgement>();
  for (const ack of acknowledgements) last.set(`${ack.construct.node.path}\n${ack.id}`, ack);
  return [...last.values()];
}

function listing(acknowledgements: readonly RecordedAcknowledgement[]): Record<string, string[]> {
  const byPack: Record<string, string[]> = {};
  for (const ack of inForce(acknowledgements)) {
    (byPack[packOf(ack.id)] ??= []).push(`${ack.id} @ ${ack.construct.node.path}: ${ack.reason}`);
  }
  for (const lines of Object.values(byPack)) lines.sort();
  return Object.fromEntries(Object.entries(byPack).sort(([a], [b]) => a.localeCompare(b)));
}

function build(compliance?: CompliancePolicy) {
  let root: App | undefined;
  const { acknowledgements, violations } = synthWithAcknowledgementsWithheld((app) => {
    root = app;
    new CatalogStack(app, 'CatalogStack', { compliance, gatewayCache: true });
    new AiGatewayStack(app, 'AiGatewayStack', { compliance });
  }, allPacks);
  return { acknowledgements, problems: misplacedAcknowledgements(root!, acknowledgements, violations) };
}

const strict = build(CompliancePolicy.strict({ reservedConcurrency: 5 }));
// The default sample: no compliance prop, so the standard profile.
const standard = build();
const samples = { strict, default: standard };

describe.each(Object.entries(samples))('the %s sample (gateway cache on), under all five packs', (_name, sample) => {
  test('every acknowledgement, per pack, with its reason', () => {
    const counts = Object.fromEntries(Object.entries(listing(sample.acknowledgements)).map(([pack, lines]) => [pack, lines.length]));
    expect(counts).toMatchSnapshot('counts per pack');
    expect(listing(sample.acknowledgements)).toMatchSnapshot('acknowledgements');
  });

  test('no acknowledgement lacks a reason', () => {
    expect(sample.acknowledgements.length).toBeGreaterThan(50);
    expect(sample.acknowledgements.filter((a) => unexplained(a.reason)).map((a) => `${a.id} @ ${a.construct.node.path}`)).toEqual([]);
  });

  test('every acknowledgement sits on the resource it concerns', () => {
    expect(sample.problems).toEqual([]);
  });
});

describe('default (standard) against strict', () => {
  const ruleOf = (id: string) => id.replace(/^.*-/, '');
  const keyed = (acks: readonly RecordedAcknowledgement[]) => new Map(inForce(acks).map((a) => [`${a.id} @ ${a.construct.node.path}`, a.reason]));
  const defaults = keyed(standard.acknowledgements);
  const stricts = keyed(strict.acknowledgements);
  const priced = [...defaults].filter(([key]) => (PRICED_RULES as readonly string[]).includes(ruleOf(key.split(' @ ')[0])));

  test('each priced acknowledgement of the default sample is gone under strict, which fixes its finding instead, and names what strict does', () => {
    expect(priced.length).toBeGreaterThan(40);
    // Strict keeps exactly one on a resource: the server-access-log bucket, which no key can encrypt (a fact, not a price).
    expect(priced.filter(([key]) => stricts.has(key)).map(([key]) => key).sort()).toEqual([
      'HIPAA.Security-S3DefaultEncryptionKMS @ CatalogStack/Api/Edge/ServerAccessLogs',
      'NIST.800.53.R5-S3DefaultEncryptionKMS @ CatalogStack/Api/Edge/ServerAccessLogs',
      'PCI.DSS.321-S3DefaultEncryptionKMS @ CatalogStack/Api/Edge/ServerAccessLogs',
    ]);
    for (const [key, reason] of priced) {
      if (!stricts.has(key)) expect([key, reason]).toEqual([key, expect.stringContaining('CompliancePolicy.strict')]);
    }
  });

  test('every other acknowledgement of the default sample (a fact of the architecture) stands under strict too, with the same reason', () => {
    const facts = [...defaults].filter(([key]) => !priced.some(([p]) => p === key));
    expect(facts.length).toBeGreaterThan(80);
    expect(facts.filter(([key, reason]) => stricts.get(key) !== reason).map(([key]) => key)).toEqual([]);
  });
});

describe('the reason check itself', () => {
  test.each(['', '   ', 'TODO', 'todo: explain', 'n/a', 'Suppressed', 'Not applicable here', 'TBD later, see the ticket for the full story'])('rejects %p', (reason) => {
    expect(unexplained(reason)).toBe(true);
  });

  test('accepts a reason that says why', () => {
    expect(unexplained('Invoked synchronously by API Gateway: a DLQ only receives asynchronous invocations')).toBe(false);
  });

  test('a placeholder acknowledgement added to the sample is caught', () => {
    const { acknowledgements } = synthWithAcknowledgementsWithheld((app) => {
      const stack = new AiGatewayStack(app, 'AiGatewayStack');
      acknowledge(stack.api.functions['GET /v1/models'], 'Serverless-LambdaDLQ', 'TODO');
    }, allPacks);
    // The standard profile carries it over to the regulated packs' LambdaDLQ: caught there too.
    expect(acknowledgements.filter((a) => unexplained(a.reason)).map((a) => a.id).sort()).toEqual(['HIPAA.Security-LambdaDLQ', 'NIST.800.53.R5-LambdaDLQ', 'Serverless-LambdaDLQ']);
  });
});
