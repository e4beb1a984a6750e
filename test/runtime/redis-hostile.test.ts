/**
 * The redis store against junk servers (garbage, half replies, wrong lengths, sudden close):
 * each call fails within its command timeout with an error (never hangs, never resolves with
 * another command's reply), and the same store works again once pointed back at a real server.
 */
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { answerThenClose, answerWith, JunkBehaviour, JunkServer, startJunkServer } from '../support/junk-server';
import { CacheServer, startRedis } from '../support/servers';
import { cacheOver, uniqueKey } from './helpers';

let server: CacheServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

let junk: JunkServer | undefined;
afterEach(async () => {
  await junk?.close();
  junk = undefined;
});

const cases: [string, JunkBehaviour][] = [
  ['garbage', answerWith('%%%% garbage\r\n')],
  ['a half reply, then close', answerThenClose('$10\r\nabc')],
  ['a bulk string shorter than announced', answerWith('$2\r\nabcdef\r\n')],
  ['a bulk string longer than announced', answerWith('$50\r\nabc\r\n')],
  ['a reply of the wrong type', answerWith(':42\r\n')],
  ['an endless line', answerWith('+' + 'X'.repeat(64 * 1024))],
  ['silence', () => undefined],
];

test.each(cases)('%s', async (_label, behaviour) => {
  junk = await startJunkServer(behaviour);
  const store = new RedisStore({ host: junk.host, port: junk.port, commandTimeoutMs: 300, connectTimeoutMs: 1000 });
  try {
    const key = `cca:{k:${uniqueKey('probe')}}`;
    const outcome = await store.read(key).then(
      (read) => ({ read }),
      (error: Error) => ({ error }),
    );
    // RESP cannot tell a short bulk string from a whole one: "ab" may come back (it is not an
    // entry, so it reads as a miss); nothing else may.
    if ('read' in outcome) expect([undefined, 'ab']).toContain(outcome.read.item?.text);
    else expect(outcome.error.message.length).toBeGreaterThan(0);
    junk.setBehaviour({ forwardTo: server.port });
    let recovered = false;
    for (let attempt = 0; attempt < 3 && !recovered; attempt++) {
      const lease = await store.acquireLease(key, 1000).catch(() => undefined);
      if (lease === undefined) continue;
      recovered = await store.fill(key, 'entry', 60_000, lease);
    }
    expect(recovered).toBe(true);
    expect((await store.read(key)).item?.text).toBe('entry');
  } finally {
    await store.close();
  }
  expect(junk.open()).toBeLessThanOrEqual(2); // close() leaves nothing but sockets being torn down
});

test('an out-of-range TTL on redis is a RangeError at the call, not a cache failure', async () => {
  const store = new RedisStore({ host: server.host, port: server.port });
  const cache = cacheOver(store, { breaker: { failureThreshold: 1 } });
  try {
    await expect(cache.get(uniqueKey('ttl'), async () => 'v', { ttlSeconds: 1e16 })).rejects.toThrow(/ttlSeconds.*redis/);
    expect(cache.stats()).toMatchObject({ errors: 0, breakerOpened: 0, loads: 0 });
    const key = `cca:{k:${uniqueKey('direct')}}`;
    const lease = await store.acquireLease(key, 1000);
    await expect(store.fill(key, 'x', 1e19, lease!)).rejects.toThrow(RangeError);
    expect(await cache.getWithOutcome(uniqueKey('after'), async () => 'fine')).toEqual({ value: 'fine', outcome: 'miss' });
  } finally {
    await cache.close();
  }
});
