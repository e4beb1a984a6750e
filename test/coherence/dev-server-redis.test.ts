/**
 * The coherence contract end to end over HTTP: the catalog routes on the dev server (real
 * handlers, dev edge cache, data cache in a real redis-server, in-memory table), readers and
 * writers going on while redis is frozen (SIGSTOP) or killed and restarted from an RDB snapshot
 * taken before later writes. The dev server is one process, the writer's own: the contract's
 * bound is 0 for every acknowledged write, so no read that starts after a write's 200 may return
 * an older price, and at the end every id reads back its last acknowledged write.
 *
 * Redis's breaker cool-down (5 s) is waited out before the final read-back: with the breaker
 * open every read goes to the table, which is what hid the stale entries until then.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { catalogRoutes } from '../../lib/sample/catalog-routes';
import { CATALOG_DATA_PURGE } from '../../lambda/catalog/cache-keys';
import { createDevServer, DevServer } from '../../dev/server';
import { freePort, requireBinary } from '../support/servers';
import { Load } from './http-load';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const BREAKER_COOLDOWN_MS = 5_000;

/** redis-server with an RDB file it reloads on restart (as its default configuration does). */
class SnapshottingRedis {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(path.join(tmpdir(), 'cca-rdb-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<SnapshottingRedis> {
    const redis = new SnapshottingRedis(await freePort());
    await redis.launch();
    return redis;
  }

  /** SAVE: what a periodic snapshot writes; a restart loads it back. */
  save(): void {
    execFileSync(requireBinary('redis-cli'), ['-h', '127.0.0.1', '-p', String(this.port), 'save']);
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
    this.child = spawn(requireBinary('redis-server'), args, { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        execFileSync(requireBinary('redis-cli'), ['-h', '127.0.0.1', '-p', String(this.port), 'ping'], { stdio: 'ignore' });
        return;
      } catch {
        if (i > 200) throw new Error('redis-server did not start');
        await sleep(20);
      }
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('the catalog on the dev server with a real redis-server: 0 stale reads after the bound', () => {
  let redis: SnapshottingRedis;
  let server: DevServer;

  beforeEach(async () => {
    redis = await SnapshottingRedis.start();
    server = await createDevServer({
      routes: catalogRoutes(),
      dataPurge: CATALOG_DATA_PURGE,
      port: 0,
      keyPrefix: `coh${redis.port}`,
      environment: {
        TABLE_NAME: 'memory',
        DATA_CACHE_ENGINE: 'redis',
        DATA_CACHE_ENDPOINT: `127.0.0.1:${redis.port}`,
        DATA_CACHE_TLS: 'false',
        DATA_CACHE_AUTH: 'none',
      },
      log: () => undefined,
    });
  });

  afterEach(async () => {
    await server?.close();
    await redis?.stop();
  });

  const ids = (label: string) => Array.from({ length: 20 }, (_, i) => `${label}-${i}`);

  test('redis frozen (SIGSTOP) with writes going on, then thawed', async () => {
    const load = new Load(server.url, ids('freeze'));
    for (const id of load.ids) await load.put(id);
    for (const id of load.ids) await load.get(id); // cached in redis
    load.start();
    await sleep(300);
    redis.pause();
    await sleep(1_500);
    redis.resume();
    await sleep(500);
    await load.stop();
    await sleep(BREAKER_COOLDOWN_MS);
    load.start(4, 0); // reads only, after the cool-down: served from redis again
    await sleep(500);
    await load.stop();
    const finalApiMismatches = await load.finalMismatches();
    expect({ staleReads: load.staleReads, finalApiMismatches, examples: load.examples }).toEqual({ staleReads: 0, finalApiMismatches: 0, examples: [] });
    expect(load.reads).toBeGreaterThan(100);
  });

  test('redis killed (SIGKILL) and restarted from an RDB snapshot older than the last writes', async () => {
    const load = new Load(server.url, ids('restart'));
    for (const id of load.ids) await load.put(id);
    for (const id of load.ids) await load.get(id);
    redis.save(); // the snapshot holds every id's first price
    for (const id of load.ids) await load.put(id); // confirmed invalidations, undone by the restart
    for (const id of load.ids) await load.get(id);
    load.start(4, 1);
    await sleep(300);
    await redis.kill();
    await sleep(700);
    await redis.launch(); // reloads dump.rdb
    await sleep(300);
    await load.stop();
    await sleep(BREAKER_COOLDOWN_MS);
    load.start(4, 0);
    await sleep(500);
    await load.stop();
    const finalApiMismatches = await load.finalMismatches();
    expect({ staleReads: load.staleReads, finalApiMismatches, examples: load.examples }).toEqual({ staleReads: 0, finalApiMismatches: 0, examples: [] });
  });

  test('CPU overload: the event loop stalls, commands miss their deadlines and the breaker opens with redis healthy', async () => {
    const load = new Load(server.url, ids('overload'));
    for (const id of load.ids) await load.put(id);
    for (const id of load.ids) await load.get(id);
    load.start();
    await sleep(200);
    for (let i = 0; i < 6; i++) {
      // The process is too busy to read replies in time: what a saturated CPU does to the timeouts.
      const until = Date.now() + 250;
      while (Date.now() < until) {
        // busy
      }
      await sleep(60);
    }
    await sleep(500);
    await load.stop();
    await sleep(BREAKER_COOLDOWN_MS);
    load.start(4, 0);
    await sleep(500);
    await load.stop();
    const finalApiMismatches = await load.finalMismatches();
    expect({ staleReads: load.staleReads, finalApiMismatches, examples: load.examples }).toEqual({ staleReads: 0, finalApiMismatches: 0, examples: [] });
  });
});
