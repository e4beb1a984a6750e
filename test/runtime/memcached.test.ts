import { CacheClient } from '../../lambda/runtime/cache/cache-aside';
import { entryKeys } from '../../lambda/runtime/cache/keys';
import { MemcachedConnection } from '../../lambda/runtime/cache/memcached-client';
import { MemcachedStore } from '../../lambda/runtime/cache/memcached-store';
import * as net from 'node:net';
import { CacheServer, startMemcached, startTcpProxy, TcpProxy } from '../support/servers';
import { describeDataCacheBehaviour } from './data-cache-behaviour';
import { cacheOver, sleep, uniqueKey } from './helpers';

let server: CacheServer;
/** The stores talk to memcached through a proxy, so a test can cut their connections as the network would. */
let proxy: TcpProxy;
beforeAll(async () => {
  server = await startMemcached();
  proxy = await startTcpProxy(server.port);
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

describeDataCacheBehaviour('memcached', {
  createStore: (options) => new MemcachedStore({ servers: [{ host: proxy.host, port: proxy.port }], ...options }),
  server: () => server,
  killConnectionsSync: () => proxy.dropAll(),
  shared: true,
});

describe('memcached client and store specifics', () => {
  let connection: MemcachedConnection;
  beforeAll(async () => {
    connection = await MemcachedConnection.connect({ host: server.host, port: server.port });
  });
  afterAll(() => connection.destroy());

  test('text protocol: large and multi-byte values, multi-key gets, cas, add, incr, delete', async () => {
    const key = uniqueKey('proto');
    const big = 'ü'.repeat(150_000) + '\r\nEND\r\n'; // 300 KB, arrives in many chunks, contains protocol words
    expect(await connection.set(key, big, 60)).toBe('STORED');
    const found = await connection.gets([key, key + '-missing']);
    expect(found.get(key)?.value).toBe(big);
    expect(found.has(key + '-missing')).toBe(false);
    const cas = found.get(key)!.cas!;
    expect(await connection.add(key, 'x', 60)).toBe('NOT_STORED');
    expect(await connection.cas(key, 'second', 60, cas)).toBe('STORED');
    expect(await connection.cas(key, 'third', 60, cas)).toBe('EXISTS');
    expect(await connection.incr(key + '-n', 1)).toBeUndefined();
    await connection.set(key + '-n', '41', 60);
    expect(await connection.incr(key + '-n', 1)).toBe('42');
    expect(await connection.delete(key)).toBe(true);
    expect(await connection.delete(key)).toBe(false);
    expect(await connection.cas(key, 'gone', 60, cas)).toBe('NOT_FOUND');
    const pipelined = await Promise.all(Array.from({ length: 50 }, (_, i) => connection.set(`${key}-${i}`, String(i), 60)));
    expect(pipelined.every((r) => r === 'STORED')).toBe(true);
    expect(await connection.version()).toMatch(/^\d+\.\d+/);
  });

  test('keys that could inject commands are refused (rejected) before anything is sent', async () => {
    await expect(connection.gets(['a b'])).rejects.toThrow('invalid memcached key');
    await expect(connection.gets(['a\r\nflush_all'])).rejects.toThrow('invalid memcached key');
    await expect(connection.gets(['k'.repeat(251)])).rejects.toThrow('invalid memcached key');
    await expect(connection.set('a b', 'v', 1)).rejects.toThrow('invalid memcached key');
  });

  test('several servers: keys spread over them, a group stays on one server with its counter', async () => {
    const second = await startMemcached();
    const servers = [
      { host: server.host, port: server.port },
      { host: second.host, port: second.port },
    ];
    const store = new MemcachedStore({ servers });
    try {
      const cache = new CacheClient({ ttlSeconds: 60, store });
      const name = uniqueKey('spread');
      for (let i = 0; i < 40; i++) await cache.get(`${name}-${i}`, async () => i);
      const group = uniqueKey('group');
      for (let i = 0; i < 10; i++) await cache.get(`page=${i}`, async () => i, { group });
      const counts = await Promise.all(
        servers.map(async (endpoint) => {
          const c = await MemcachedConnection.connect(endpoint);
          try {
            const plain = Array.from({ length: 40 }, (_, i) => entryKeys('cca', `${name}-${i}`).key);
            const grouped = Array.from({ length: 10 }, (_, i) => entryKeys('cca', `page=${i}`, group).key);
            return {
              plain: (await c.gets(plain)).size,
              grouped: (await c.gets(grouped)).size,
              counter: (await c.gets([entryKeys('cca', 'x', group).generationKey!])).size,
            };
          } finally {
            c.destroy();
          }
        }),
      );
      expect(counts[0].plain + counts[1].plain).toBe(40);
      expect(Math.min(counts[0].plain, counts[1].plain)).toBeGreaterThan(5);
      const groupHome = counts.find((c) => c.grouped > 0)!;
      expect(groupHome).toMatchObject({ grouped: 10, counter: 1 });
      expect(await cache.invalidateGroup(group)).toBe(true);
      expect(await cache.get('page=1', async () => 'new', { group })).toBe('new');
    } finally {
      await store.close();
      await second.stop();
    }
  });

  test('item lifetimes are whole seconds on memcached, yet freshness is exact (entry metadata)', async () => {
    const store = new MemcachedStore({ servers: [{ host: server.host, port: server.port }] });
    try {
      const cache = cacheOver(store, { ttlSeconds: 0.25 });
      const key = uniqueKey('subsecond');
      let version = 1;
      await cache.get(key, async () => version);
      version = 2;
      expect(await cache.get(key, async () => version)).toBe(1);
      await sleep(300);
      expect(await cache.get(key, async () => version)).toBe(2);
    } finally {
      await store.close();
    }
  });

  test('Auto Discovery: nodes come from the configuration endpoint, are refreshed, and a plain server is its own node', async () => {
    const second = await startMemcached();
    let nodes = [server, second];
    // Stands in for an ElastiCache configuration endpoint: answers `config get cluster` only.
    const configEndpoint = net.createServer((socket) => {
      socket.on('data', (data) => {
        if (!data.toString().startsWith('config get cluster')) return void socket.write('ERROR\r\n');
        const body = `7\n${nodes.map((n) => `localhost|${n.host}|${n.port}`).join(' ')}\n`;
        socket.write(`CONFIG cluster 0 ${body.length}\r\n${body}\r\nEND\r\n`);
      });
    });
    await new Promise<void>((resolve) => configEndpoint.listen(0, '127.0.0.1', resolve));
    const configPort = (configEndpoint.address() as net.AddressInfo).port;
    const discovering = new MemcachedStore({ servers: [{ host: '127.0.0.1', port: configPort }], autoDiscovery: true, discoveryIntervalMs: 100 });
    const plain = new MemcachedStore({ servers: [{ host: server.host, port: server.port }], autoDiscovery: true });
    try {
      const cache = new CacheClient({ ttlSeconds: 60, store: discovering });
      const name = uniqueKey('discovered');
      for (let i = 0; i < 20; i++) expect(await cache.get(`${name}-${i}`, async () => i)).toBe(i);
      expect(discovering.nodeIds).toEqual([`localhost:${server.port}`, `localhost:${second.port}`]);
      for (let i = 0; i < 20; i++) expect(await cache.get(`${name}-${i}`, async () => -1)).toBe(i);
      nodes = [second]; // a node leaves the cluster
      await sleep(120);
      await cache.get(`${name}-0`, async () => 0); // triggers the refresh, alongside
      for (let i = 0; i < 100 && discovering.nodeIds.length > 1; i++) await sleep(10);
      expect(discovering.nodeIds).toEqual([`localhost:${second.port}`]);
      expect(cache.stats().errors).toBe(0);

      const plainCache = new CacheClient({ ttlSeconds: 60, store: plain });
      const key = uniqueKey('plain');
      await plainCache.get(key, async () => 'v');
      expect(await plainCache.get(key, async () => 'reloaded')).toBe('v');
      expect(plain.nodeIds).toEqual([`${server.host}:${server.port}`]);
    } finally {
      await Promise.all([discovering.close(), plain.close()]);
      configEndpoint.close();
      await second.stop();
    }
  });
});
