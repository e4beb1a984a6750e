import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { median, round } from './stats';

export interface BundleResult {
  readonly handler: string;
  readonly bytes: number;
  /** Wall-clock time of `require()`, median over fresh processes. */
  readonly loadMsMedian: number;
  /** CPU time (user + system) of the same `require()`: steadier than wall time on a busy host. */
  readonly loadCpuMsMedian: number;
}

export const HANDLERS = ['empty', 'redis-client', 'redis-kit', 'kit-from-env', 'memcached-client', 'memcached-kit', 'memjs-client'] as const;
export type HandlerName = (typeof HANDLERS)[number];

/**
 * Minified CJS bundle of each handler (platform node, target node24, `@aws-sdk/*` external, as
 * the kit's functions are built) and its module load time: median over fresh `node` processes
 * of the time `require()` of the bundle takes. Processes run round-robin so machine noise
 * spreads over all handlers alike.
 */
export function measureBundles(runs = 21): Record<HandlerName, BundleResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cca-bundles-'));
  try {
    const files = Object.fromEntries(
      HANDLERS.map((name) => {
        const outfile = path.join(dir, `${name}.js`);
        buildSync({
          entryPoints: [path.join(__dirname, 'handlers', `${name}.ts`)],
          bundle: true,
          minify: true,
          platform: 'node',
          target: 'node24',
          format: 'cjs',
          external: ['@aws-sdk/*'],
          // As the stack bundles a cache client (CacheClient.bundlingDefine): only its engine's backend.
          define: name === 'kit-from-env' ? { 'process.env.DATA_CACHE_BUNDLED_BACKEND': '"redis"' } : undefined,
          outfile,
          logLevel: 'error',
        });
        return [name, outfile];
      }),
    ) as Record<HandlerName, string>;
    const wall = Object.fromEntries(HANDLERS.map((name) => [name, [] as number[]])) as Record<HandlerName, number[]>;
    const cpu = Object.fromEntries(HANDLERS.map((name) => [name, [] as number[]])) as Record<HandlerName, number[]>;
    const probe = [
      'const c=process.cpuUsage(),t=process.hrtime.bigint();',
      'require(process.argv[1]);',
      'const w=Number(process.hrtime.bigint()-t)/1e6,u=process.cpuUsage(c);',
      'process.stdout.write(w+" "+(u.user+u.system)/1000)',
    ].join('');
    for (let run = 0; run < runs; run++) {
      for (const name of HANDLERS) {
        const env = { PATH: process.env.PATH, ...(name === 'kit-from-env' ? { DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: '127.0.0.1:6379' } : {}) };
        const [w, c] = execFileSync(process.execPath, ['-e', probe, files[name]], { encoding: 'utf8', env }).split(' ').map(Number);
        wall[name].push(w);
        cpu[name].push(c);
      }
    }
    return Object.fromEntries(
      HANDLERS.map((name) => [
        name,
        { handler: name, bytes: statSync(files[name]).size, loadMsMedian: round(median(wall[name]), 2), loadCpuMsMedian: round(median(cpu[name]), 2) },
      ]),
    ) as Record<HandlerName, BundleResult>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
