import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { edgePathBodies, parseEdgePathBody, QueueSender, sendBodies } from '../../lambda/purge/edge-queue';
import { Moto, startMoto } from '../support/moto';

// The edge purge's request-queue messages: size limits at the character, messages malformed field
// by field, and sending in batches of ten to a real SQS (moto_server on loopback).

const MAX_BODY_CHARS = 200_000;

describe('message bodies', () => {
  test('a body is closed before the path that would take it past 200,000 characters of paths', () => {
    // A path costs its JSON length plus one: 999 characters cost 1002.
    const path = (i: number) => `/${String(i).padStart(998, 'x')}`;
    const fits = Array.from({ length: Math.floor(MAX_BODY_CHARS / 1002) }, (_, i) => path(i)); // 199 paths, 199,398
    expect(edgePathBodies(fits)).toHaveLength(1);
    const exact = [...fits, `/${'y'.repeat(MAX_BODY_CHARS - 199 * 1002 - 4)}`]; // the last one costs exactly the rest
    expect(edgePathBodies(exact)).toHaveLength(1);
    const over = [...fits, `/${'y'.repeat(MAX_BODY_CHARS - 199 * 1002 - 3)}`];
    const bodies = edgePathBodies(over);
    expect(bodies.map((b) => parseEdgePathBody(b))).toEqual([fits, [over[199]]]);
  });

  test('no paths, no body; a path longer than a body goes alone', () => {
    expect(edgePathBodies([])).toEqual([]);
    const long = `/${'z'.repeat(MAX_BODY_CHARS + 10)}`;
    expect(edgePathBodies(['/a', long, '/b']).map((b) => JSON.parse(b).paths)).toEqual([['/a'], [long], ['/b']]);
    expect(edgePathBodies([long]).map((b) => JSON.parse(b).paths)).toEqual([[long]]);
  });

  test('property: the bodies carry every path once, in order, each body within the size', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30_000 }).map((s) => `/${s}`), { maxLength: 40 }), (paths) => {
        const bodies = edgePathBodies(paths);
        expect(bodies.flatMap((b) => JSON.parse(b).paths)).toEqual(paths);
        for (const b of bodies) {
          const carried: string[] = JSON.parse(b).paths;
          expect(JSON.parse(b).kind).toBe('edge-paths');
          if (carried.length > 1) expect(carried.reduce((n, p) => n + JSON.stringify(p).length + 1, 0)).toBeLessThanOrEqual(MAX_BODY_CHARS);
        }
      }),
      { numRuns: 50 },
    );
  });

  test.each([
    ['not JSON', '{'],
    ['JSON null', 'null'],
    ['another kind', JSON.stringify({ kind: 'data-purge', paths: ['/a'] })],
    ['paths missing', JSON.stringify({ kind: 'edge-paths' })],
    ['paths a string', JSON.stringify({ kind: 'edge-paths', paths: '/a' })],
    ['a path not a string', JSON.stringify({ kind: 'edge-paths', paths: ['/a', 1] })],
    ['a path not starting with /', JSON.stringify({ kind: 'edge-paths', paths: ['/a', 'b'] })],
    ['a path over 4000 characters', JSON.stringify({ kind: 'edge-paths', paths: ['/a', `/${'x'.repeat(4000)}`] })],
  ])('%s: not an edge-paths message', (_what, body) => {
    expect(parseEdgePathBody(body)).toBeUndefined();
  });

  test('a path of exactly 4000 characters, and no paths at all, are accepted', () => {
    const longest = `/${'x'.repeat(3999)}`;
    expect(parseEdgePathBody(JSON.stringify({ kind: 'edge-paths', paths: [longest] }))).toEqual([longest]);
    expect(parseEdgePathBody(JSON.stringify({ kind: 'edge-paths', paths: [] }))).toEqual([]);
  });
});

describe('sending', () => {
  let moto: Moto;
  let sqs: SQSClient;
  let queue: string;
  beforeAll(async () => {
    moto = await startMoto();
    sqs = moto.sqs();
    queue = await moto.createQueue('EdgePurgeRequests');
  }, 30_000);
  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  test('bodies go ten per call, with the delay asked, and all arrive', async () => {
    const calls: Array<{ entries: number; delays: number[] }> = [];
    const recording: QueueSender = {
      send: (command) => (calls.push({ entries: command.input.Entries!.length, delays: command.input.Entries!.map((e) => e.DelaySeconds!) }), sqs.send(command)),
    };
    const bodies = Array.from({ length: 21 }, (_, i) => `body-${i}`);
    await sendBodies(recording, queue, bodies);
    expect(calls.map((c) => c.entries)).toEqual([10, 10, 1]);
    expect(calls.flatMap((c) => c.delays)).toEqual(bodies.map(() => 0));
    const got: string[] = [];
    for (let i = 0; i < 10 && got.length < 21; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, VisibilityTimeout: 300 }));
      got.push(...(out.Messages ?? []).map((m) => m.Body!));
    }
    expect(got.sort()).toEqual([...bodies].sort());

    calls.length = 0;
    await sendBodies(recording, queue, ['late'], 7);
    expect(calls).toEqual([{ entries: 1, delays: [7] }]);

    // A multiple of ten makes no empty last call (SQS refuses an empty batch); none makes no call.
    calls.length = 0;
    await sendBodies(recording, queue, bodies.slice(0, 20));
    await sendBodies(recording, queue, []);
    expect(calls.map((c) => c.entries)).toEqual([10, 10]);
  });

  test('a send to a queue that does not exist throws', async () => {
    await expect(sendBodies(sqs, queue.replace('EdgePurgeRequests', 'Nope'), ['x'])).rejects.toThrow(/does not exist/);
  });

  test('entries SQS refuses make the send throw, naming how many and why', async () => {
    // SQS refusing some entries of a batch is not something moto_server can be made to do on demand.
    const refusing = (failed: Array<{ Id?: string; Message?: string }>): QueueSender => ({ send: async () => ({ Failed: failed }) });
    await expect(sendBodies(refusing([{ Id: '1', Message: 'too big' }]), queue, ['a', 'b'])).rejects.toThrow('SQS refused 1 of 2 messages: too big');
    await expect(sendBodies(refusing([{ Id: '0' }]), queue, ['a'])).rejects.toThrow('SQS refused 1 of 1 messages: no reason given');
    await expect(sendBodies(refusing([]), queue, ['a'])).resolves.toBeUndefined();
  });
});
