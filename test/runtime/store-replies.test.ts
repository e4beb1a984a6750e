import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { RedisStore } from '../../lambda/runtime/cache/redis-store';
import { maxStoreTtlMs } from '../../lambda/runtime/cache/store';
import { JunkServer, startJunkServer } from '../support/junk-server';
import { uniqueKey } from './helpers';

// The lease and grouped-read commands of the stores against a scripted server on loopback: a
// reply these commands cannot get from a sound server is a protocol error, and a lease whose
// marker is not the caller's (memcached: invalidated and re-leased between `add` and `gets`) is
// not granted. With the out-of-range TTL errors of the lease calls. Written from the mutants
// StrykerJS left alive in redis-store.ts and memcached-store.ts (docs/testing.md).

let junk: JunkServer | undefined;
afterEach(async () => {
  await junk?.close();
  junk = undefined;
});

const key = () => `cca:{k:${uniqueKey('reply')}}`;

describe('redis: an unexpected reply to a lease, fill or grouped read is a protocol error', () => {
  const store = (server: JunkServer) => new RedisStore({ host: server.host, port: server.port, commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
  test.each([
    ['SET NX answered +QUEUED', '+QUEUED\r\n', (s: RedisStore) => s.acquireLease(key(), 1_000), 'unexpected reply to SET NX'],
    ['the fill script answered 2', ':2\r\n', (s: RedisStore) => s.fill(key(), 'x', 1_000, { token: 't' }), 'unexpected reply to the fill script'],
    ['MGET answered a two-character status', '+OK\r\n', (s: RedisStore) => s.read(key(), 'cca:{k:x}#g'), 'unexpected reply to MGET'],
    ['MGET answered three values', '*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n', (s: RedisStore) => s.read(key(), 'cca:{k:x}#g'), 'unexpected reply to MGET'],
    ['MGET answered a number for the entry', '*2\r\n:1\r\n$-1\r\n', (s: RedisStore) => s.read(key(), 'cca:{k:x}#g'), 'unexpected reply to MGET'],
    ['MGET answered a number for the counter', '*2\r\n$-1\r\n:1\r\n', (s: RedisStore) => s.read(key(), 'cca:{k:x}#g'), 'unexpected reply to MGET'],
  ])('%s', async (_label, reply, call, message) => {
    junk = await startJunkServer((_request, socket) => socket.write(reply));
    const s = store(junk);
    try {
      await expect(call(s)).rejects.toThrow(message);
    } finally {
      await s.close();
    }
  });
});

describe('memcached: a fill marker read back after `add` must be the caller\'s', () => {
  /** Answers `add` with STORED and `gets` with `getsReply(key)`. */
  async function scripted(getsReply: (key: string) => string): Promise<MemcachedStore> {
    junk = await startJunkServer((request, socket) => {
      const line = request.toString('latin1');
      if (line.startsWith('add ')) socket.write('STORED\r\n');
      else if (line.startsWith('gets ')) socket.write(getsReply(line.split(/\s+/)[1]));
      else socket.write('ERROR\r\n');
    });
    return new MemcachedStore({ servers: [{ host: junk.host, port: junk.port }], commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
  }

  test.each([
    ['another caller\'s marker', (k: string) => `VALUE ${k} 0 9 77\r\nL|mother1\r\nEND\r\n`],
    ['nothing (invalidated meanwhile)', () => 'END\r\n'],
  ])('%s: no lease', async (_label, getsReply) => {
    const s = await scripted(getsReply);
    try {
      expect(await s.acquireLease(key(), 1_000, undefined)).toBeUndefined();
    } finally {
      await s.close();
    }
  });
});

describe('lease and entry TTLs out of range are RangeErrors naming them', () => {
  test('redis', async () => {
    const s = new RedisStore({ host: '127.0.0.1', port: 1 });
    await expect(s.acquireLease(key(), -1)).rejects.toThrow('Data cache lease TTL');
    await expect(s.fill(key(), 'x', -1, { token: 't' })).rejects.toThrow('Data cache entry TTL');
    await s.close();
  });

  test('memcached: past 2038, for the lease too', async () => {
    const s = new MemcachedStore({ servers: [{ host: '127.0.0.1', port: 1 }] });
    await expect(s.acquireLease(key(), maxStoreTtlMs('memcached') + 60_000, undefined)).rejects.toThrow(/lease TTL .* out of range for memcached/);
    await s.close();
  });
});
