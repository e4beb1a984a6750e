import { ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import Redis from 'iovalkey';
import { benchCacheEnv } from './hit-path';

export interface StampedeResult {
  readonly scenario: string;
  readonly callers: number;
  /** Separate Node.js processes the callers were spread over (round-robin). */
  readonly processes: number;
  readonly originLoads: number;
  readonly wallMs: number;
}

const ORIGIN_MS = 50;
/** Concurrent callers per measurement: one row per scenario and level. */
export const STAMPEDE_LEVELS: readonly number[] = [1, 10, 50, 100, 200, 500];
/** Separate Node.js processes ("containers", each its own CacheClient and connection) of the cross-process scenario. */
export const STAMPEDE_PROCESSES = 8;

/** Scenario names, identical at every concurrency level. */
export const STAMPEDE_SCENARIOS = {
  naive: 'no single-flight (plain GET/load/SET)',
  oneProcess: 'kit, 1 process (single-flight)',
  processes: `kit, ${STAMPEDE_PROCESSES} processes (single-flight + lease)`,
} as const;

/** A pool of worker processes (bench/data-cache/stampede-worker.ts, bundled once with esbuild). */
async function startWorkers(count: number, env: Record<string, string>): Promise<{ workers: ChildProcess[]; stop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cca-stampede-bench-'));
  const file = path.join(dir, 'worker.js');
  buildSync({ entryPoints: [path.join(__dirname, 'stampede-worker.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: file, logLevel: 'error' });
  const workers = Array.from({ length: count }, () => fork(file, [], { env: { PATH: process.env.PATH, ...env, DATA_CACHE_TTL_SECONDS: '60' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(workers.map((w) => ask(w, { type: 'warm' })));
  return {
    workers,
    stop: () => {
      for (const w of workers) w.send({ type: 'exit' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function ask<T = { type: string; loads: number; finishedAt: number }>(worker: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`stampede worker exited with ${code}`));
    worker.once('exit', onExit);
    worker.once('message', (reply) => {
      worker.off('exit', onExit);
      resolve(reply as T);
    });
    worker.send(message);
  });
}

/**
 * Origin loads caused by `callers` concurrent misses of one key, for each concurrency level and
 * scenario (a fresh key per measurement). The kit scenarios run in separate Node.js processes
 * that start together at a common time: one process (single-flight), then the callers spread
 * round-robin over STAMPEDE_PROCESSES processes (single-flight inside each, the fill lease between
 * them). Rows come grouped by scenario, levels ascending.
 */
export async function measureStampede(host: string, port: number, levels: readonly number[] = STAMPEDE_LEVELS): Promise<StampedeResult[]> {
  const results: StampedeResult[] = [];
  const runId = Date.now();

  // Plain cache-aside (GET, on miss load then SET), in this process: every concurrent miss loads.
  const raw = new Redis({ host, port });
  await raw.ping();
  for (const callers of levels) {
    const key = `stampede-naive-${runId}-${callers}`;
    let loads = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        const hit = await raw.get(key);
        if (hit !== null) return JSON.parse(hit);
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, ORIGIN_MS));
        const value = { id: key, body: 'x'.repeat(1000) };
        await raw.set(key, JSON.stringify(value), 'EX', 60);
        return value;
      }),
    );
    results.push({ scenario: STAMPEDE_SCENARIOS.naive, callers, processes: 1, originLoads: loads, wallMs: Math.round(performance.now() - started) });
  }
  raw.disconnect();

  const { workers, stop } = await startWorkers(STAMPEDE_PROCESSES, benchCacheEnv(host, port));
  try {
    for (const [scenario, processes] of [
      [STAMPEDE_SCENARIOS.oneProcess, 1],
      [STAMPEDE_SCENARIOS.processes, STAMPEDE_PROCESSES],
    ] as const) {
      for (const callers of levels) {
        const key = `stampede-${processes}-${runId}-${callers}`;
        // Enough lead time for every process to get its message on a busy host.
        const startAt = Date.now() + 300;
        const shares = workers.slice(0, processes).map((_, i) => Math.floor(callers / processes) + (i < callers % processes ? 1 : 0));
        const replies = await Promise.all(
          shares.map((share, i) => (share > 0 ? ask(workers[i], { type: 'run', key, callers: share, startAt, originMs: ORIGIN_MS }) : undefined)),
        );
        const done = replies.filter((r) => r !== undefined);
        results.push({
          scenario,
          callers,
          processes: done.length,
          originLoads: done.reduce((n, r) => n + r.loads, 0),
          wallMs: Math.max(...done.map((r) => r.finishedAt)) - startAt,
        });
      }
    }
  } finally {
    stop();
  }
  return results;
}
