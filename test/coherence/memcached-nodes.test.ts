/**
 * Memcached clusters stay coherent: every container maps a key to the same node whatever
 * happens to the configuration endpoint, one dead node costs only its own keys, and a refresh
 * lock is released only by its owner. Real memcached servers; a small TCP server stands in for
 * the ElastiCache configuration endpoint.
 */
import * as net from 'node:net';
import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { entryKeys, leaseKey } from '../../lambda/runtime/cache/keys';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import { CacheServer, startMemcached } from '../support/servers';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let first: CacheServer;
let second: CacheServer;
beforeAll(async () => {
  [first, second] = await Promise.all([startMemcached(), startMemcached()]);
});
afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

type EndpointMode = 'answer' | 'drop' | 'silent' | 'error';

/** An ElastiCache configuration endpoint stand-in whose behaviour the test switches. */
async function configEndpoint(nodes: () => CacheServer[]) {
  let mode: EndpointMode = 'answer';
  let asked = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (!data.toString().startsWith('config get cluster')) return void socket.write('ERROR\r\n');
      asked++;
      if (mode === 'drop') return void socket.destroy();
      if (mode === 'silent') return;
      if (mode === 'error') return void socket.write('ERROR\r\n');
      const body = `7\n${nodes().map((n) => `localhost|${n.host}|${n.port}`).join(' ')}\n`;
      socket.write(`CONFIG cluster 0 ${body.length}\r\n${body}\r\nEND\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    set mode(next: EndpointMode) {
      mode = next;
    },
    get asked() {
      return asked;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/**
 * Keeps triggering discovery refreshes (alongside reads) until `done` holds. Ordered, not timed:
 * a busy machine only makes it loop longer (bounded, so a broken build fails instead of hanging).
 */
async function refreshUntil(cache: CacheClient, done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) {
    await cache.get('refresh-trigger', async () => 0);
    await sleep(10);
  }
}

/** Refreshes until the endpoint has been asked twice more: the first of those attempts has then finished. */
async function refreshTwice(cache: CacheClient, endpoint: { asked: number }): Promise<void> {
  const before = endpoint.asked;
  await refreshUntil(cache, () => endpoint.asked >= before + 2);
}

test('Auto Discovery keeps the node list on a dropped or silent configuration endpoint, and falls back to a plain server only on ERROR', async () => {
  let nodes = [first, second];
  const endpoint = await configEndpoint(() => nodes);
  const store = new MemcachedStore({
    servers: [{ host: '127.0.0.1', port: endpoint.port }],
    autoDiscovery: true,
    discoveryIntervalMs: 50,
    connectTimeoutMs: 100,
    commandTimeoutMs: 100,
  });
  const cache = new CacheClient({ ttlSeconds: 60, store });
  const both = [`localhost:${first.port}`, `localhost:${second.port}`];
  try {
    await cache.get('k', async () => 'v');
    expect(store.nodeIds).toEqual(both);
    const seen: string[][] = [];
    for (const mode of ['drop', 'silent'] as const) {
      endpoint.mode = mode;
      await refreshTwice(cache, endpoint);
      seen.push(store.nodeIds);
    }
    expect(seen).toEqual([both, both]);
    expect(await cache.get('k', async () => 'reloaded')).toBe('v');
    // Reachable again, with a changed cluster: the retry picks it up.
    endpoint.mode = 'answer';
    nodes = [second];
    await refreshUntil(cache, () => store.nodeIds.join() === `localhost:${second.port}`);
    expect(store.nodeIds).toEqual([`localhost:${second.port}`]);
    // An explicit ERROR: not a configuration endpoint, so it is the node.
    endpoint.mode = 'error';
    await refreshUntil(cache, () => store.nodeIds.join() === `127.0.0.1:${endpoint.port}`);
    expect(store.nodeIds).toEqual([`127.0.0.1:${endpoint.port}`]);
  } finally {
    await store.close();
    endpoint.close();
  }
});

test('a dead node out of two: only its keys skip the cache, the other node keeps serving hits', async () => {
  const third = await startMemcached();
  const servers = [
    { host: first.host, port: first.port },
    { host: third.host, port: third.port },
  ];
  const store = new MemcachedStore({ servers, connectTimeoutMs: 100, commandTimeoutMs: 100 });
  const cache = new CacheClient({ ttlSeconds: 60, store, breaker: { failureThreshold: 3, cooldownMs: 60_000 } });
  try {
    const keys = Array.from({ length: 24 }, (_, i) => `dead-node-${process.pid}-${i}`);
    for (const key of keys) await cache.get(key, async () => key);
    // Which keys live on the node about to die.
    const probe = await MemcachedConnection.connect(servers[1]);
    const found = await probe.gets(keys.map((k) => entryKeys('cca', k).key));
    probe.destroy();
    const onDead = keys.filter((k) => found.has(entryKeys('cca', k).key));
    const onLive = keys.filter((k) => !onDead.includes(k));
    expect(onDead.length).toBeGreaterThan(3);
    expect(onLive.length).toBeGreaterThan(3);
    await third.stop();
    for (const key of onDead) expect(await cache.get(key, async () => key)).toBe(key); // fail open
    const outcomes = await Promise.all(onLive.map(async (key) => (await cache.getWithOutcome(key, async () => 'reloaded')).outcome));
    expect(outcomes).toEqual(onLive.map(() => 'hit'));
  } finally {
    await store.close();
    await third.stop();
  }
});

test('a refresh lock is released only by its owner', async () => {
  const store = new MemcachedStore({ servers: [{ host: first.host, port: first.port }] });
  const raw = await MemcachedConnection.connect({ host: first.host, port: first.port });
  try {
    const key = entryKeys('cca', `lock-${process.pid}-${Date.now()}`).key;
    const lease = await store.acquireLease(key, 3000, undefined);
    expect(await store.fill(key, 'stale value', 60_000, lease!)).toBe(true);
    const seen = (await store.read(key)).item!;
    const slow = await store.acquireLease(key, 3000, seen); // refreshes slowly...
    expect(slow).toBeDefined();
    await raw.delete(leaseKey(key)); // ...past its lock's lifetime (the lock expires)
    const current = await store.acquireLease(key, 3000, seen); // another caller refreshes now
    expect(current).toBeDefined();
    await store.releaseLease(key, slow!); // the slow one gives up: must not drop the current lock
    expect(await store.acquireLease(key, 3000, seen)).toBeUndefined();
    await store.releaseLease(key, current!);
    expect(await store.acquireLease(key, 3000, seen)).toBeDefined();
  } finally {
    raw.destroy();
    await store.close();
  }
});

test('a key maps to the same node whatever order a process learnt the nodes in', () => {
  const { nodeIndexForKey } = require('../../lambda/runtime/cache/memcached-nodes') as typeof import('../../lambda/runtime/cache/memcached-nodes');
  const ids = ['a.cache:11211', 'b.cache:11211', 'c.cache:11211', 'd.cache:11211'];
  const reversed = [...ids].reverse();
  for (let i = 0; i < 200; i++) {
    const key = entryKeys('cca', `item:${i}`).key;
    expect(reversed[nodeIndexForKey(reversed, key)]).toBe(ids[nodeIndexForKey(ids, key)]);
  }
});
