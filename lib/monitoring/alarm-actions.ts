import { Annotations, Aspects, IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';

/** Id of the warning synth prints when a construct's alarms notify nobody (acknowledgeable). */
export const NO_ALARM_TOPIC_WARNING = 'cdk-cacheable-api:alarmsNotifyNobody';

/** Alarms already wired to a topic: an aspect applied twice (or twice in a tree) adds one action. */
const wired = new WeakMap<cloudwatch.Alarm, Set<sns.ITopic>>();

/**
 * Adds an ALARM and an OK action notifying `topic` to every `cloudwatch.Alarm` it visits, once
 * per alarm and topic. Being an aspect, it also reaches alarms created after it was added (new
 * sections of ApiMonitoring, alarms a user adds under the same scope).
 */
export class AlarmActions implements IAspect {
  /**
   * Every alarm under `scope` notifies `topic` (ALARM and OK).
   */
  public static notify(scope: IConstruct, topic: sns.ITopic): void {
    Aspects.of(scope).add(new AlarmActions(topic));
  }

  /**
   * Warns once on `scope` (naming `prop`) when synth finds alarms under it that no action
   * notifies: an alarm nobody hears is a dashboard colour, not an alert.
   */
  public static warnWhenSilent(scope: IConstruct, prop: string): void {
    scope.node.addValidation({
      validate: () => {
        const silent = scope.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm && !notifies(c));
        if (silent.length > 0) {
          Annotations.of(scope).addWarningV2(
            NO_ALARM_TOPIC_WARNING,
            `${silent.length} alarm(s) of ${scope.node.path} notify nobody: set ${prop} (an sns.ITopic) or createAlarmTopic: true`,
          );
        }
        return [];
      },
    });
  }

  private constructor(private readonly topic: sns.ITopic) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof cloudwatch.Alarm)) return;
    const topics = wired.get(node) ?? new Set<sns.ITopic>();
    if (topics.has(this.topic)) return;
    topics.add(this.topic);
    wired.set(node, topics);
    const action = new cwActions.SnsAction(this.topic);
    node.addAlarmAction(action);
    node.addOkAction(action);
  }
}

/** Whether the alarm's CloudFormation resource has any ALARM, OK or INSUFFICIENT_DATA action. */
function notifies(alarm: cloudwatch.Alarm): boolean {
  const cfn = alarm.node.defaultChild as cloudwatch.CfnAlarm;
  const resolve = (list: unknown) => {
    const value = alarm.stack.resolve(list);
    return Array.isArray(value) && value.length > 0;
  };
  return resolve(cfn.alarmActions) || resolve(cfn.okActions) || resolve(cfn.insufficientDataActions);
}
