import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** What `acknowledge` recorded on each construct, read by the compliance profile (lib/compliance). */
const recorded = new WeakMap<IConstruct, Map<string, string>>();

/**
 * Records why a cdk-nag finding does not apply, on the construct it concerns (an
 * acknowledgement on a parent covers its children). Never used at stack level.
 */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  const rules = recorded.get(construct) ?? new Map<string, string>();
  rules.set(id, reason);
  recorded.set(construct, rules);
  Validations.of(construct).acknowledge({ id, reason });
}

/** The acknowledgements `acknowledge` placed on this very construct, rule id to reason. */
export function acknowledgementsOn(construct: IConstruct): ReadonlyMap<string, string> {
  return recorded.get(construct) ?? new Map<string, string>();
}
