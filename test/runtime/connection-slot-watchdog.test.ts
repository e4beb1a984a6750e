import fc from 'fast-check';
import { CacheTimeoutError, ConnectionSlot, Connector } from '../../lambda/runtime/cache/store';

// ConnectionSlot keeps the commands in flight in a linked list its one watchdog timer walks
// (store.ts). Whatever order commands are answered in, each answered one must leave the list
// (else the watchdog would later time it out and drop a healthy connection) and every other
// one must stay in it (else it would never time out). The connector here is the kit's own
// interface, driven by hand: answers arrive in the same tick as the requests, before any
// timer can run, so no assertion depends on how fast the scheduler is.

const TIMEOUT_MS = 20;

interface Conn {
  readonly id: number;
  open: boolean;
}

function slotWithConnector() {
  const opened: Conn[] = [];
  const connector: Connector<Conn> = {
    open: async () => {
      const conn = { id: opened.length, open: true };
      opened.push(conn);
      return conn;
    },
    close: (conn) => {
      conn.open = false;
    },
    isOpen: (conn) => conn.open,
  };
  return { slot: new ConnectionSlot(connector, { commandTimeoutMs: TIMEOUT_MS, connectTimeoutMs: 5_000 }), opened };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('whatever the order of answers, answered commands leave the watch list and unanswered ones time out', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.func(fc.integer()),
      async (answered, rank) => {
        const { slot, opened } = slotWithConnector();
        await slot.run(async () => 'open'); // the connection, opened before the commands under test
        const answers: (() => void)[] = [];
        const results = answered.map((isAnswered, i) =>
          slot.run((): Promise<number> => (isAnswered ? new Promise((resolve) => answers.push(() => resolve(i))) : new Promise(() => undefined))),
        );
        // Answered in an arbitrary order, in this same tick (before any deadline).
        answers.map((answer, i) => ({ answer, key: rank(i) })).sort((a, b) => a.key - b.key).forEach(({ answer }) => answer());
        const settled = await Promise.allSettled(results);
        settled.forEach((outcome, i) => {
          if (answered[i]) expect(outcome).toEqual({ status: 'fulfilled', value: i });
          else expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(CacheTimeoutError);
        });
        // Past every deadline of the answered commands, the connection is kept unless a command timed out.
        await sleep(3 * TIMEOUT_MS);
        expect(opened[0].open).toBe(answered.every(Boolean));
        // A command issued afterwards is watched too: it times out rather than hang.
        await expect(slot.run(() => new Promise<never>(() => undefined))).rejects.toBeInstanceOf(CacheTimeoutError);
        await slot.close();
      },
    ),
    { numRuns: 40 },
  );
}, 60_000);
