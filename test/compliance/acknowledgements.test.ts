import { App } from 'aws-cdk-lib';
import { CompliancePolicy } from '../../lib/compliance';
import { AiGatewayStack, CatalogStack } from '../../lib/sample';
import { acknowledge } from '../../lib/shared/nag';
import { allPacks, misplacedAcknowledgements, RecordedAcknowledgement, synthWithAcknowledgementsWithheld } from '../support/nag';

// Every acknowledgement of the sample, per pack, with its reason: the list below is the review
// surface (a new acknowledgement changes the snapshot), and a reason that is empty or a
// placeholder fails the test. The walker of test/nag-placement.test.ts checks that each sits
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

test('every acknowledgement of the strict sample, per pack, with its reason', () => {
  const counts = Object.fromEntries(Object.entries(listing(strict.acknowledgements)).map(([pack, lines]) => [pack, lines.length]));
  expect(counts).toMatchSnapshot('counts per pack');
  expect(listing(strict.acknowledgements)).toMatchSnapshot('acknowledgements');
});

test('no acknowledgement of the strict sample lacks a reason', () => {
  expect(strict.acknowledgements.filter((a) => unexplained(a.reason)).map((a) => `${a.id} @ ${a.construct.node.path}`)).toEqual([]);
});

test('every acknowledgement of the strict sample (gateway cache on) sits on the resource it concerns, under all five packs', () => {
  expect(strict.problems).toEqual([]);
});

test('the default sample\'s acknowledgements sit on their resources under all five packs too (none for the regulated packs)', () => {
  const { acknowledgements, problems } = build();
  expect(problems).toEqual([]);
  expect(acknowledgements.filter((a) => /^(NIST|PCI|HIPAA)/.test(a.id))).toEqual([]);
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
    expect(acknowledgements.filter((a) => unexplained(a.reason)).map((a) => a.id)).toEqual(['Serverless-LambdaDLQ']);
  });
});
