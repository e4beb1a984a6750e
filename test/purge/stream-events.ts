import type { AttributeValue, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export const STREAM_ARN = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Items/stream/2026-11-26T00:00:00.000';

type Plain = Record<string, string | number | boolean | string[] | undefined>;

/** DynamoDB's attribute-value form of a plain item, as the stream carries it. */
export function marshall(item: Plain): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    if (typeof value === 'string') out[name] = { S: value };
    else if (typeof value === 'number') out[name] = { N: String(value) };
    else if (typeof value === 'boolean') out[name] = { BOOL: value };
    else out[name] = { SS: value };
  }
  return out;
}

let sequence = 100_000_000_000_000_000_000n;

/** A stream record of a NEW_AND_OLD_IMAGES stream on a table keyed by `id`, with a fresh sequence number. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { old?: Plain; new?: Plain },
  options: { sequenceNumber?: string; keys?: Plain } = {},
): DynamoDBRecord {
  const sequenceNumber = options.sequenceNumber ?? String((sequence += 100n));
  const id = (images.new ?? images.old)?.id;
  return {
    eventID: `e-${sequenceNumber}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    eventSourceARN: STREAM_ARN,
    dynamodb: {
      ApproximateCreationDateTime: 1795651200,
      Keys: marshall(options.keys ?? { id }),
      ...(images.new ? { NewImage: marshall(images.new) } : {}),
      ...(images.old ? { OldImage: marshall(images.old) } : {}),
      SequenceNumber: sequenceNumber,
      SizeBytes: 120,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

export const insert = (item: Plain, options?: { sequenceNumber?: string }) => streamRecord('INSERT', { new: item }, options);
export const modify = (old: Plain, item: Plain, options?: { sequenceNumber?: string }) => streamRecord('MODIFY', { old, new: item }, options);
export const remove = (old: Plain, options?: { sequenceNumber?: string }) => streamRecord('REMOVE', { old }, options);

export const streamEvent = (...records: DynamoDBRecord[]): DynamoDBStreamEvent => ({ Records: records });

/** A Lambda context with a fixed amount of time left. */
export const contextWith = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });
