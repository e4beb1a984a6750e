import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build, BuildOptions, buildSync, Plugin } from 'esbuild';
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

const BUILD: BuildOptions = { bundle: true, minify: true, platform: 'node', target: 'node24', format: 'cjs', external: ['@aws-sdk/*'], logLevel: 'error' };
/** As the stack bundles a cache client (CacheClient.bundlingDefine): only its engine's backend. */
const defineFor = (name: string) => (name === 'kit-from-env' ? { 'process.env.DATA_CACHE_BUNDLED_BACKEND': '"redis"' } : undefined);
const envFor = (name: string) => ({ PATH: process.env.PATH, ...(name === 'kit-from-env' ? { DATA_CACHE_ENGINE: 'redis', DATA_CACHE_ENDPOINT: '127.0.0.1:6379' } : {}) });

/** Prints wall and CPU ms of each `require()` of its arguments, in order, in this one process. */
const PROBE = [
  'const out=[];for(const f of process.argv.slice(1)){',
  'const c=process.cpuUsage(),t=process.hrtime.bigint();require(f);',
  'const u=process.cpuUsage(c);out.push(Number(process.hrtime.bigint()-t)/1e6,(u.user+u.system)/1000)}',
  'process.stdout.write(out.join(" "))',
].join('');

function probe(files: string[], env: NodeJS.ProcessEnv, nodeOptions: string[] = []): number[] {
  return execFileSync(process.execPath, [...nodeOptions, '-e', PROBE, ...files], { encoding: 'utf8', env }).split(' ').map(Number);
}

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
        buildSync({ ...BUILD, entryPoints: [path.join(__dirname, 'handlers', `${name}.ts`)], define: defineFor(name), outfile });
        return [name, outfile];
      }),
    ) as Record<HandlerName, string>;
    const wall = Object.fromEntries(HANDLERS.map((name) => [name, [] as number[]])) as Record<HandlerName, number[]>;
    const cpu = Object.fromEntries(HANDLERS.map((name) => [name, [] as number[]])) as Record<HandlerName, number[]>;
    for (let run = 0; run < runs; run++) {
      for (const name of HANDLERS) {
        const [w, c] = probe([files[name]], envFor(name));
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

export interface KitCost {
  readonly kit: HandlerName;
  readonly client: HandlerName;
  /** Bundle bytes the kit adds over the client-only handler. */
  readonly bytes: number;
  /** Median over fresh processes of the kit's own load time, measured after the client in the same process. */
  readonly loadMs: number;
  readonly loadCpuMs: number;
  /** The client's load time in the same processes, for scale. */
  readonly clientLoadMs: number;
}

/** Which module is "the client" under each kit handler. */
const CLIENT_MODULE: Record<string, { readonly filter: RegExp; readonly entry: string }> = {
  'redis-kit': { filter: /^iovalkey$/, entry: 'iovalkey' },
  'kit-from-env': { filter: /^iovalkey$/, entry: 'iovalkey' },
  'memcached-kit': { filter: /memcached-client$/, entry: path.join(__dirname, '..', '..', 'lambda', 'runtime', 'cache', 'memcached-client') },
};

/**
 * The kit's own load cost, paired per process so it cannot come out negative: each fresh process
 * first requires a bundle of the client module alone (iovalkey, or the kit's memcached protocol
 * client), then the kit handler's bundle in which that module is replaced by the instance already
 * loaded. The second `require()` is then the kit's own code and init work, timed directly; the
 * figure is the median of those durations (not a difference of two medians).
 */
export async function measureKitCost(pairs: ReadonlyArray<readonly [HandlerName, HandlerName]>, bundles: Record<HandlerName, BundleResult>, runs = 21): Promise<KitCost[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cca-kit-cost-'));
  try {
    const costs: KitCost[] = [];
    for (const [kit, client] of pairs) {
      const shared = CLIENT_MODULE[kit];
      const clientFile = path.join(dir, `${kit}-client.js`);
      buildSync({
        ...BUILD,
        stdin: { contents: `globalThis.__benchClient = require(${JSON.stringify(shared.entry)});`, resolveDir: path.join(__dirname, '..', '..'), loader: 'js' },
        outfile: clientFile,
      });
      const useLoadedClient: Plugin = {
        name: 'use-loaded-client',
        setup(builder) {
          builder.onResolve({ filter: shared.filter }, () => ({ path: 'client', namespace: 'loaded-client' }));
          builder.onLoad({ filter: /.*/, namespace: 'loaded-client' }, () => ({ contents: 'module.exports = globalThis.__benchClient;', loader: 'js' }));
        },
      };
      const kitFile = path.join(dir, `${kit}-own.js`);
      // Plugins need esbuild's asynchronous API.
      await build({ ...BUILD, entryPoints: [path.join(__dirname, 'handlers', `${kit}.ts`)], define: defineFor(kit), plugins: [useLoadedClient], outfile: kitFile });
      const own: number[] = [];
      const ownCpu: number[] = [];
      const clientMs: number[] = [];
      for (let run = 0; run < runs; run++) {
        const [clientWall, , kitWall, kitCpu] = probe([clientFile, kitFile], envFor(kit));
        clientMs.push(clientWall);
        own.push(kitWall);
        ownCpu.push(kitCpu);
      }
      costs.push({
        kit,
        client,
        bytes: bundles[kit].bytes - bundles[client].bytes,
        loadMs: round(median(own), 2),
        loadCpuMs: round(median(ownCpu), 2),
        clientLoadMs: round(median(clientMs), 2),
      });
    }
    return costs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SourceMapCost {
  readonly handler: string;
  readonly bytesWithout: number;
  readonly bytesWith: number;
  readonly loadMsWithout: number;
  readonly loadMsWith: number;
  /** CPU time (user + system) of the same loads: steadier than wall time on a busy host. */
  readonly loadCpuMsWithout: number;
  readonly loadCpuMsWith: number;
  readonly extraCpuMsMedian: number;
  /** Median of the per-run differences (runs alternate the two builds); extraMsIqr: their interquartile range. */
  readonly extraMsMedian: number;
  readonly extraMsIqr: readonly [number, number];
}

/**
 * What `sourceMap: true` costs a real handler at cold start: GET /items/{id} bundled as the stack
 * bundles it, without and with an inline source map, each `require()`d in fresh processes (the
 * source-mapped one under `--enable-source-maps`, as the function runs it), alternating.
 * Written under .bench/ in the repository so that `@aws-sdk/*`, left out of the bundle as
 * Lambda provides it, resolves from node_modules.
 */
export function measureSourceMapCost(runs = 21): SourceMapCost {
  const root = path.join(__dirname, '..', '..');
  const dir = path.join(root, '.bench', 'source-map');
  mkdirSync(dir, { recursive: true });
  try {
    const build = (sourcemap: boolean) => {
      const outfile = path.join(dir, sourcemap ? 'with.js' : 'without.js');
      buildSync({
        ...BUILD,
        entryPoints: [path.join(root, 'lambda', 'catalog', 'get-item.ts')],
        define: { 'process.env.DATA_CACHE_BUNDLED_BACKEND': '"redis"' },
        sourcemap: sourcemap ? 'inline' : false,
        outfile,
      });
      return outfile;
    };
    const without = build(false);
    const withMap = build(true);
    const env = { PATH: process.env.PATH, TABLE_NAME: 'memory', AWS_REGION: 'eu-west-1' };
    const a: number[] = [];
    const b: number[] = [];
    const aCpu: number[] = [];
    const bCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      const one = () => {
        const [wall, cpu] = probe([without], env);
        a.push(wall);
        aCpu.push(cpu);
      };
      const two = () => {
        const [wall, cpu] = probe([withMap], env, ['--enable-source-maps']);
        b.push(wall);
        bCpu.push(cpu);
      };
      if (run % 2 === 0) {
        one();
        two();
      } else {
        two();
        one();
      }
    }
    const diffs = a.map((x, i) => b[i] - x).sort((x, y) => x - y);
    return {
      handler: 'GET /items/{id} (lambda/catalog/get-item.ts)',
      bytesWithout: statSync(without).size,
      bytesWith: statSync(withMap).size,
      loadMsWithout: round(median(a), 2),
      loadMsWith: round(median(b), 2),
      loadCpuMsWithout: round(median(aCpu), 2),
      loadCpuMsWith: round(median(bCpu), 2),
      extraCpuMsMedian: round(median(aCpu.map((x, i) => bCpu[i] - x)), 2),
      extraMsMedian: round(median(diffs), 2),
      extraMsIqr: [round(diffs[Math.floor(diffs.length * 0.25)], 2), round(diffs[Math.floor(diffs.length * 0.75)], 2)],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
