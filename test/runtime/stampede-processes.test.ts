import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { CacheServer, startMemcached, startRedis } from '../support/servers';
import { uniqueKey } from './helpers';

/** The worker is bundled once with esbuild, so each child starts as fast as a deployed function. */
let workDir: string;
let worker: string;
const servers: Partial<Record<'redis' | 'memcached', CacheServer>> = {};

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'cca-stampede-'));
  worker = path.join(workDir, 'worker.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'fixtures', 'stampede-worker.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: worker,
    logLevel: 'error',
  });
  [servers.redis, servers.memcached] = await Promise.all([startRedis(), startMemcached()]);
});

afterAll(async () => {
  await Promise.all([servers.redis?.stop(), servers.memcached?.stop()]);
  rmSync(workDir, { recursive: true, force: true });
});

interface WorkerResult {
  readonly loads: number;
  readonly owners: number[];
  readonly code: number | null;
}

function runWorker(env: NodeJS.ProcessEnv, args: string[]): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(killer);
      try {
        const parsed = JSON.parse(out.trim()) as { loads: number; owners: number[] };
        resolve({ ...parsed, code });
      } catch {
        reject(new Error(`worker exited ${code} without a result: ${out}\n${err}`));
      }
    });
  });
}

describe.each(['redis', 'memcached'] as const)('%s: 4 processes x 50 concurrent misses of one key', (engine) => {
  test('one load in total; every process gets that value and exits by itself', async () => {
    const server = servers[engine]!;
    const env = { DATA_CACHE_ENGINE: engine, DATA_CACHE_ENDPOINT: `${server.host}:${server.port}`, DATA_CACHE_TTL_SECONDS: '60' };
    const key = uniqueKey(`cross-${engine}`);
    const startAt = String(Date.now() + 1500);
    const results = await Promise.all(Array.from({ length: 4 }, () => runWorker(env, [key, startAt, '50', '150'])));
    const loads = results.reduce((n, r) => n + r.loads, 0);
    expect(loads).toBe(1);
    const owners = new Set(results.flatMap((r) => r.owners));
    expect(owners.size).toBe(1);
    for (const r of results) {
      // Exited by itself without close(): a connection kept alive would hold the process until
      // runWorker's 15 s SIGKILL (code null). No wall-clock budget: a busy machine can be slow.
      expect(r.code).toBe(0);
    }
  });
});
