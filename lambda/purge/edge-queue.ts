import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';

/**
 * Messages of the edge purge's request queue: the viewer paths to invalidate, as sent by the data
 * purge once it has purged the changes they belong to, by the edge purge handing off what quota
 * pressure kept it from sending, and by `npm run redrive`. Self-contained, so a message the
 * failure queue keeps can be replayed as is.
 */
export interface EdgePathMessage {
  readonly kind: 'edge-paths';
  readonly paths: string[];
}

/** Under SQS's 256 KiB message size, with room for the JSON around the paths. */
const MAX_BODY_CHARS = 200_000;
/** SendMessageBatch's limit. */
const MAX_BATCH_ENTRIES = 10;

/** Message bodies carrying the paths, each under the size limit. */
export function edgePathBodies(paths: readonly string[]): string[] {
  const bodies: string[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const path of paths) {
    const cost = JSON.stringify(path).length + 1;
    if (chunk.length > 0 && size + cost > MAX_BODY_CHARS) {
      bodies.push(JSON.stringify({ kind: 'edge-paths', paths: chunk } satisfies EdgePathMessage));
      chunk = [];
      size = 0;
    }
    chunk.push(path);
    size += cost;
  }
  if (chunk.length > 0) bodies.push(JSON.stringify({ kind: 'edge-paths', paths: chunk } satisfies EdgePathMessage));
  return bodies;
}

/** The paths of a message body, or undefined when it is not an edge-paths message. */
export function parseEdgePathBody(body: string): string[] | undefined {
  try {
    const message = JSON.parse(body) as Partial<EdgePathMessage>;
    if (message?.kind !== 'edge-paths' || !Array.isArray(message.paths)) return undefined;
    if (!message.paths.every((p) => typeof p === 'string' && p.startsWith('/') && p.length <= 4000)) return undefined;
    return message.paths;
  } catch {
    return undefined;
  }
}

export interface QueueSender {
  send(command: SendMessageBatchCommand): Promise<{ Failed?: Array<{ Id?: string; Message?: string }> }>;
}

/** Sends the bodies, ten per call; throws when any entry was refused. */
export async function sendBodies(sqs: QueueSender, queueUrl: string, bodies: readonly string[], delaySeconds = 0): Promise<void> {
  for (let i = 0; i < bodies.length; i += MAX_BATCH_ENTRIES) {
    const entries = bodies.slice(i, i + MAX_BATCH_ENTRIES).map((body, j) => ({ Id: String(j), MessageBody: body, DelaySeconds: delaySeconds }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (out.Failed && out.Failed.length > 0) {
      throw new Error(`SQS refused ${out.Failed.length} of ${entries.length} messages: ${out.Failed[0].Message ?? 'no reason given'}`);
    }
  }
}
