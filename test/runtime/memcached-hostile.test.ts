/**
 * The memcached client against hostile replies (junk TCP servers) and against out-of-range
 * TTLs on a real memcached: it never hangs, never hands a reply to the wrong request, and a
 * bad TTL is a clear error at the call.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { MemcachedConnection, MemcachedError } from '../../lambda/runtime/cache/memcached-client';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { answerThenClose, answerWith, JunkBehaviour, JunkServer, startJunkServer } from '../support/junk-server';
import { CacheServer, startMemcached } from '../support/servers';
import { cacheOver, uniqueKey } from './helpers';

let server: CacheServer;
beforeAll(async () => {
  server = await startMemcached();
});
afterAll(async () => {
  await server?.stop();
});

interface ChildOutcome {
  readonly settled?: 'resolved' | 'rejected';
  readonly name?: string;
  readonly message?: string;
  /** Set when the child had to be killed: the client never let its timeout fire. */
  readonly hung?: boolean;
}

/** One `read` against a server answering each reply, in a child process killed after 20 s. */
function readInChild(replies: readonly string[]): Promise<ChildOutcome[]> {
  const fixture = path.join(__dirname, 'fixtures', 'memcached-junk-client.ts');
  const tsx = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
  return new Promise((resolve, reject) => {
    const args = replies.map((reply) => Buffer.from(reply).toString('base64'));
    const child = spawn(tsx, [fixture, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    let killed = false;
    const killer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, 20_000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(killer);
      if (killed) return resolve(replies.map(() => ({ hung: true })));
      try {
        resolve(JSON.parse(out) as ChildOutcome[]);
      } catch {
        reject(new Error(`child printed no result: ${out}\n${err}`));
      }
    });
  });
}

describe('replies that used to hang the client', () => {
  test('malformed VALUE lines: each read rejects with a protocol error instead of spinning', async () => {
    const replies = ['VALUE \r\n', 'VALUE k 0 abc\r\n', 'VALUE k 0 -5\r\n', 'VALUE k 0 1.5\r\nx\r\nEND\r\n'];
    const outcomes = await readInChild(replies);
    expect(outcomes).toEqual(replies.map(() => expect.objectContaining({ settled: 'rejected', message: expect.stringMatching(/^memcached protocol error: malformed VALUE line/) })));
  });
});

describe('out-of-range TTLs on a real memcached', () => {
  let connection: MemcachedConnection;
  beforeEach(async () => {
    connection = await MemcachedConnection.connect({ host: server.host, port: server.port });
  });
  afterEach(() => connection.destroy());

  test('an unrepresentable exptime is refused before it is sent, and later replies stay with their requests', async () => {
    const [a, b, c] = [uniqueKey('a'), uniqueKey('b'), uniqueKey('c')];
    await connection.set(b, 'B-value', 60);
    const results = await Promise.allSettled([
      connection.set(a, 'A-value', 1e300),
      connection.gets([b]),
      connection.add(c, 'C-value', 60),
      connection.version(),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.objectContaining({ name: 'RangeError' }) });
    expect((results[0] as PromiseRejectedResult).reason.message).toMatch(/TTL/);
    expect(results[1]).toMatchObject({ status: 'fulfilled' });
    expect((results[1] as PromiseFulfilledResult<Map<string, { value: string }>>).value.get(b)?.value).toBe('B-value');
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'STORED' });
    expect(results[3]).toMatchObject({ status: 'fulfilled', value: expect.stringMatching(/^\d+\.\d+/) });
  });

  test('TTLs longer than 30 days are stored as absolute times and readable; ones past 2038 are refused', async () => {
    const key = uniqueKey('long');
    expect(await connection.set(key, 'kept', 3e8)).toBe('STORED'); // about 9.5 years
    expect((await connection.gets([key])).get(key)?.value).toBe('kept');
    await expect(connection.set(uniqueKey('too-long'), 'lost', 4e8)).rejects.toThrow(RangeError);
  });

  test('CacheClient: an out-of-range TTL rejects the call and never counts as a cache failure', async () => {
    const store = new MemcachedStore({ servers: [{ host: server.host, port: server.port }] });
    const cache = cacheOver(store, { breaker: { failureThreshold: 1 } });
    try {
      await expect(cache.get(uniqueKey('ttl'), async () => 'v', { ttlSeconds: 1e300 })).rejects.toThrow(/ttlSeconds.*memcached/);
      await expect(cache.get(uniqueKey('ttl'), async () => 'v', { ttlSeconds: 60, staleIfErrorSeconds: 4e8 })).rejects.toThrow(RangeError);
      expect(cache.stats()).toMatchObject({ errors: 0, breakerOpened: 0, loads: 0 });
      const key = uniqueKey('after');
      expect(await cache.getWithOutcome(key, async () => 'fine')).toEqual({ value: 'fine', outcome: 'miss' });
      expect(await cache.getWithOutcome(key, async () => 'reloaded')).toEqual({ value: 'fine', outcome: 'hit' });
    } finally {
      await cache.close();
    }
  });
});

describe('junk servers: each failure is fast and clear, and the store recovers on a real server', () => {
  const cases: [string, JunkBehaviour][] = [
    ['garbage', answerWith('%%%% garbage\r\n')],
    ['a half reply, then close', answerThenClose('VALUE k 0 10\r\nabc')],
    ['a wrong data length', answerWith('VALUE k 0 2\r\nabcdef\r\nEND\r\n')],
    ['a value for a key not asked for', answerWith('VALUE other 0 1\r\nx\r\nEND\r\n')],
    ['an endless line', answerWith('X'.repeat(64 * 1024))],
    ['a storage reply to a read', answerWith('STORED\r\nSTORED\r\n')],
    ['CLIENT_ERROR', answerWith('CLIENT_ERROR bad data chunk\r\n')],
  ];
  let junk: JunkServer | undefined;
  afterEach(async () => {
    await junk?.close();
    junk = undefined;
  });

  test.each(cases)('%s', async (_label, behaviour) => {
    junk = await startJunkServer(behaviour);
    const store = new MemcachedStore({ servers: [{ host: junk.host, port: junk.port }], commandTimeoutMs: 2000, connectTimeoutMs: 2000 });
    try {
      const failure = await store.read('cca:{k:probe}').then(
        () => undefined,
        (err: Error) => err,
      );
      expect(failure).toBeInstanceOf(MemcachedError);
      expect(failure?.message).toMatch(/^memcached (protocol error|replied|connection closed)/);
      // Pointed back at a real memcached, the same store works again.
      junk.setBehaviour({ forwardTo: server.port });
      const key = `cca:{k:${uniqueKey('recover')}}`;
      const lease = await store.acquireLease(key, 1000, undefined);
      expect(await store.fill(key, 'entry', 60_000, lease!)).toBe(true);
      expect((await store.read(key)).item?.text).toBe('entry');
    } finally {
      await store.close();
    }
  });
});

test('a server that dribbles a value for ever: the command timeout still fires, and the connection is dropped', async () => {
  const dribbling = new Set<NodeJS.Timeout>();
  const junk = await startJunkServer((_request, socket) => {
    socket.write('VALUE cca:{k:probe} 0 1000000\r\n');
    const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('a')), 5);
    dribbling.add(timer);
  });
  const store = new MemcachedStore({ servers: [{ host: junk.host, port: junk.port }], commandTimeoutMs: 200 });
  try {
    await expect(store.read('cca:{k:probe}')).rejects.toMatchObject({ name: 'CacheTimeoutError' });
    for (let i = 0; i < 100 && junk.open() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(junk.open()).toBe(0);
  } finally {
    for (const timer of dribbling) clearInterval(timer);
    await store.close();
    await junk.close();
  }
});

test('keys with multi-byte characters round-trip through the reply reader', async () => {
  const connection = await MemcachedConnection.connect({ host: server.host, port: server.port });
  try {
    const key = `${uniqueKey('utf8')}-ключ-€`;
    expect(await connection.set(key, 'v', 60)).toBe('STORED');
    expect((await connection.gets([key])).get(key)?.value).toBe('v');
  } finally {
    connection.destroy();
  }
});
