import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { MemoryStore } from '../../lambda/runtime/cache/memory-store';
import { cacheAside, createStore, getCacheClient, readDataCacheSettings, resetCacheClient } from '../../lambda/runtime/cache/from-env';
import * as env from '../../lambda/runtime/cache/env';

const ROOT = path.resolve(__dirname, '../..');

describe('settings from the environment', () => {
  test('no engine: in-memory store with defaults', () => {
    expect(readDataCacheSettings({})).toEqual({
      engine: 'memory',
      endpoints: [],
      tls: false,
      auth: 'none',
      user: undefined,
      cacheName: undefined,
      region: undefined,
      policy: { ttlSeconds: 60, negativeTtlSeconds: 5, staleWhileRevalidateSeconds: 0, staleIfErrorSeconds: 0, jitter: 0.1, loadTimeoutMs: 8000 },
      keyPrefix: 'cca',
      connectTimeoutMs: 200,
      commandTimeoutMs: 100,
      maxValueBytes: 262144,
    });
  });

  test('every variable of the contract is read', () => {
    const settings = readDataCacheSettings({
      [env.DATA_CACHE_ENGINE]: 'valkey-serverless',
      [env.DATA_CACHE_ENDPOINT]: 'my-cache-abc.serverless.euw1.cache.amazonaws.com:6379',
      [env.DATA_CACHE_AUTH]: 'iam',
      [env.DATA_CACHE_USER]: 'app-user',
      [env.DATA_CACHE_NAME]: 'my-cache',
      [env.DATA_CACHE_TTL_SECONDS]: '300',
      [env.DATA_CACHE_NEGATIVE_TTL_SECONDS]: '10',
      [env.DATA_CACHE_SWR_SECONDS]: '30',
      [env.DATA_CACHE_SIE_SECONDS]: '600',
      [env.DATA_CACHE_JITTER]: '0.2',
      [env.DATA_CACHE_KEY_PREFIX]: 'shop',
      [env.DATA_CACHE_CONNECT_TIMEOUT_MS]: '300',
      [env.DATA_CACHE_COMMAND_TIMEOUT_MS]: '50',
      [env.DATA_CACHE_MAX_VALUE_BYTES]: '1024',
      AWS_REGION: 'eu-west-1',
    });
    expect(settings).toMatchObject({
      engine: 'valkey-serverless',
      endpoints: [{ host: 'my-cache-abc.serverless.euw1.cache.amazonaws.com', port: 6379 }],
      tls: true, // serverless: TLS unless told otherwise
      auth: 'iam',
      user: 'app-user',
      cacheName: 'my-cache',
      region: 'eu-west-1',
      policy: { ttlSeconds: 300, negativeTtlSeconds: 10, staleWhileRevalidateSeconds: 30, staleIfErrorSeconds: 600, jitter: 0.2 },
      keyPrefix: 'shop',
      connectTimeoutMs: 300,
      commandTimeoutMs: 50,
      maxValueBytes: 1024,
    });
    expect(env.DATA_CACHE_ENV_NAMES).toHaveLength(16);
  });

  test('memcached takes a list of servers; IPv6 and default ports', () => {
    const settings = readDataCacheSettings({ DATA_CACHE_ENGINE: 'memcached', DATA_CACHE_ENDPOINT: 'a.example:11211, b.example,[::1]:11300', DATA_CACHE_TLS: 'true' });
    expect(settings.endpoints).toEqual([
      { host: 'a.example', port: 11211 },
      { host: 'b.example', port: 11211 },
      { host: '::1', port: 11300 },
    ]);
    expect(settings.tls).toBe(true);
  });

  test('a memcached configuration endpoint turns on Auto Discovery; node endpoints and serverless do not', async () => {
    const discovery = (endpoint: string) => {
      const store = createStore(readDataCacheSettings({ DATA_CACHE_ENGINE: 'memcached', DATA_CACHE_ENDPOINT: endpoint }));
      return (store as unknown as { options: { autoDiscovery: boolean } }).options.autoDiscovery;
    };
    expect(discovery('my-cluster.abc123.cfg.euw1.cache.amazonaws.com:11211')).toBe(true);
    expect(discovery('my-cluster.abc123.0001.euw1.cache.amazonaws.com:11211')).toBe(false);
    expect(discovery('my-cache-abc123.serverless.euw1.cache.amazonaws.com:11211')).toBe(false);
    expect(discovery('a.cfg.x:1,b.cfg.x:1')).toBe(false);
  });

  test.each([
    [{ DATA_CACHE_ENGINE: 'dynamo' }, 'DATA_CACHE_ENGINE must be one of'],
    [{ DATA_CACHE_ENGINE: 'redis' }, 'DATA_CACHE_ENDPOINT is required'],
    [{ DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: 'a:1,b:2' }, 'must be host:port'],
    [{ DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: 'a:1', DATA_CACHE_TLS: 'yes' }, 'DATA_CACHE_TLS must be one of'],
    [{ DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: 'a:1', DATA_CACHE_AUTH: 'iam', AWS_REGION: 'x' }, 'DATA_CACHE_USER is required'],
    [{ DATA_CACHE_ENGINE: 'memcached', DATA_CACHE_ENDPOINT: 'a:1', DATA_CACHE_AUTH: 'iam' }, 'IAM auth is only for Valkey/Redis'],
    [{ DATA_CACHE_TTL_SECONDS: 'soon' }, 'DATA_CACHE_TTL_SECONDS must be a number'],
  ])('a malformed configuration is a clear error: %j', (vars, message) => {
    expect(() => readDataCacheSettings(vars)).toThrow(message);
  });

  test('IAM: the store authenticates as the user with a token for the cache', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = 'AKID';
    process.env.AWS_SECRET_ACCESS_KEY = 'SECRET';
    try {
      const store = createStore(
        readDataCacheSettings({
          DATA_CACHE_ENGINE: 'valkey-serverless',
          DATA_CACHE_ENDPOINT: '127.0.0.1:1',
          DATA_CACHE_AUTH: 'iam',
          DATA_CACHE_USER: 'app-user',
          DATA_CACHE_NAME: 'my-cache',
          AWS_REGION: 'eu-west-1',
        }),
      );
      const options = (store as unknown as { options: { username: string; password: () => string; tls: boolean } }).options;
      expect(options.username).toBe('app-user');
      expect(options.tls).toBe(true);
      expect(options.password()).toMatch(/^my-cache\/\?Action=connect&.*ResourceType=ServerlessCache.*User=app-user.*X-Amz-Signature=[0-9a-f]{64}$/);
      await store.close();
    } finally {
      process.env = saved;
    }
  });
});

describe('the container-wide cache', () => {
  afterEach(() => resetCacheClient());

  test('built once from the environment; memory store when none is configured', async () => {
    const saved = process.env.DATA_CACHE_ENGINE;
    delete process.env.DATA_CACHE_ENGINE;
    try {
      expect(getCacheClient()).toBe(getCacheClient());
      expect(getCacheClient().store).toBeInstanceOf(MemoryStore);
      let loads = 0;
      const load = async () => ++loads;
      expect(await cacheAside('k', load)).toBe(1);
      expect(await cacheAside('k', load)).toBe(1);
      const first = getCacheClient();
      await resetCacheClient();
      expect(getCacheClient()).not.toBe(first);
    } finally {
      if (saved !== undefined) process.env.DATA_CACHE_ENGINE = saved;
    }
  });

  test('importing the runtime creates nothing and loads no client; only the configured backend is loaded, and not connected', () => {
    const script = `
      const loaded = (name) => Object.keys(require.cache).some((p) => p.includes('/node_modules/' + name + '/'));
      const sockets = () => process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe/.test(r) && r !== 'PipeWrap').length;
      const runtime = require(${JSON.stringify(path.join(ROOT, 'lambda/runtime/cache/index.ts'))});
      const afterImport = { iovalkey: loaded('iovalkey'), memjs: loaded('memjs'), sockets: sockets() };
      process.env.DATA_CACHE_ENGINE = process.argv[1];
      process.env.DATA_CACHE_ENDPOINT = '127.0.0.1:1';
      const cache = runtime.getCacheClient();
      const afterCreate = { iovalkey: loaded('iovalkey'), store: cache.store.engine, sockets: sockets() };
      console.log(JSON.stringify({ afterImport, afterCreate }));
    `;
    const run = (engine: string) =>
      JSON.parse(execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script, engine], { cwd: ROOT, encoding: 'utf8' }));
    expect(run('redis')).toEqual({
      afterImport: { iovalkey: false, memjs: false, sockets: 0 },
      afterCreate: { iovalkey: true, store: 'redis', sockets: 0 },
    });
    expect(run('memcached')).toEqual({
      afterImport: { iovalkey: false, memjs: false, sockets: 0 },
      afterCreate: { iovalkey: false, store: 'memcached', sockets: 0 },
    });
  });
});
