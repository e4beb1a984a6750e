import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Records why a cdk-nag finding does not apply, on the construct it concerns (an
 * acknowledgement on a parent covers its children). Never used at stack level.
 */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}
