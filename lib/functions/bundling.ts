import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssetHashType } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** How a handler's source is turned into its Lambda asset. */
export interface HandlerBundlingOptions {
  /** Path of the handler's source file. */
  readonly entry: string;
  /** esbuild target, e.g. `node24`. */
  readonly target: string;
  /** Minify the output. */
  readonly minify: boolean;
  /** Emit an inline source map (the function then also needs `--enable-source-maps`). */
  readonly sourceMap: boolean;
  /** Modules left out of the bundle because the runtime provides them. */
  readonly externalModules: string[];
  /** Identifiers replaced at build time, as esbuild's `define`. */
  readonly define?: Record<string, string>;
  /** Module format of the bundle: CommonJS (`index.js`) or ES module (`index.mjs`). Default `cjs`. */
  readonly format?: BundleFormat;
}

/** Module format of a handler bundle. */
export type BundleFormat = 'cjs' | 'esm';

/**
 * An ES-module bundle still holds the CommonJS dependencies esbuild inlined, whose `require`
 * of Node built-ins needs a real `require` (esbuild's shim throws "Dynamic require ... is not
 * supported"): give the module one.
 */
const ESM_REQUIRE_BANNER = "import { createRequire as __cacheableApiCreateRequire } from 'node:module'; const require = __cacheableApiCreateRequire(import.meta.url);";

/** File name of the bundle in the asset: `.mjs` makes Lambda's Node.js load it as an ES module. */
export function bundleFileName(format: BundleFormat = 'cjs'): string {
  return format === 'esm' ? 'index.mjs' : BUNDLE_FILE;
}

/** Bundle file name inside the asset; the function's handler is `index.<export>`. */
export const BUNDLE_FILE = 'index.js';

/**
 * Bundles a handler with esbuild's JavaScript API in this process.
 *
 * NodejsFunction shells out to `npx --no-install esbuild` once per function (about 0.5 s
 * each on a 2-core machine, against about 10 ms of esbuild's own work), and falls back to
 * Docker when esbuild is missing. Calling the API directly keeps synth fast and never
 * needs Docker; the asset hash is taken from the output, so unchanged code keeps its hash.
 * A bundle whose inputs (every file esbuild read, by content) and options have not changed since
 * an earlier synth is copied from the bundle cache instead of rebuilt (see BUNDLE_CACHE_ENV).
 */
export function bundleHandler(options: HandlerBundlingOptions): lambda.Code {
  const entry = path.resolve(options.entry);
  if (!fs.existsSync(entry)) {
    throw new Error(`entry: handler file ${options.entry} does not exist (resolved to ${entry})`);
  }
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Image and command are never run (local bundling succeeds or throws), but CDK keys its
      // per-synth asset cache on them and not on the local bundler: the command must name
      // everything that shapes the output, or two handlers in one directory share a bundle.
      image: lambda.Runtime.NODEJS_24_X.bundlingImage,
      command: esbuildCommandLine(options, entry),
      local: {
        tryBundle(outputDir: string): boolean {
          bundleWithCache(options, entry, path.join(outputDir, bundleFileName(options.format)));
          return true;
        },
      },
    },
  });
}

function esbuildCommandLine(options: HandlerBundlingOptions, entry: string): string[] {
  return [
    'esbuild',
    '--bundle',
    path.relative(process.cwd(), entry),
    '--platform=node',
    `--format=${options.format ?? 'cjs'}`,
    `--target=${options.target}`,
    ...(options.minify ? ['--minify'] : []),
    ...(options.sourceMap ? ['--sourcemap=inline'] : []),
    ...options.externalModules.map((m) => `--external:${m}`),
    ...Object.entries(options.define ?? {}).map(([k, v]) => `--define:${k}=${v}`),
    ...(options.format === 'esm' ? [`--banner:js=${ESM_REQUIRE_BANNER}`] : []),
  ];
}

/**
 * Where bundles are kept between synths, keyed by their inputs; `off` turns the cache off.
 * @default - `cdk-cacheable-api-bundles` in the OS temporary directory
 */
export const BUNDLE_CACHE_ENV = 'CDK_CACHEABLE_API_BUNDLE_CACHE';

/** What the cache keeps per entry and options: each input file's content hash, and the output. */
interface CachedBundle {
  readonly inputs: ReadonlyArray<readonly [file: string, sha256: string]>;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function bundleCacheDir(): string | undefined {
  const setting = process.env[BUNDLE_CACHE_ENV];
  if (setting === 'off') return undefined;
  return setting || path.join(os.tmpdir(), 'cdk-cacheable-api-bundles');
}

/**
 * Writes the bundle to `outfile`: copied from the cache when every input esbuild read for the
 * same entry and options still has the content it had, else built (and then cached).
 */
function bundleWithCache(options: HandlerBundlingOptions, entry: string, outfile: string): void {
  const cacheDir = bundleCacheDir();
  if (!cacheDir) {
    buildWithEsbuild(options, entry, outfile);
    return;
  }
  // The version from esbuild's package.json: loading esbuild itself is left to a real build.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuildVersion = (require('esbuild/package.json') as { version: string }).version;
  const key = sha256(JSON.stringify({ esbuildVersion, entry, cwd: process.cwd(), command: esbuildCommandLine(options, entry) }));
  const record = path.join(cacheDir, `${key}.json`);
  const cachedOutput = path.join(cacheDir, `${key}.js`);
  try {
    const cached = JSON.parse(fs.readFileSync(record, 'utf8')) as CachedBundle;
    if (cached.inputs.every(([file, hash]) => sha256(fs.readFileSync(file)) === hash)) {
      fs.copyFileSync(cachedOutput, outfile);
      return;
    }
  } catch {
    // No record yet, an input gone, or a partial record: build.
  }
  const inputs = buildWithEsbuild(options, entry, outfile);
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const entryRecord: CachedBundle = { inputs: inputs.map((file) => [file, sha256(fs.readFileSync(file))] as const) };
    // Each file renamed into place, the output before the record: a reader (another synth, a
    // parallel test worker) never sees a partial file or a record without its output.
    const partial = `.${process.pid}.tmp`;
    fs.copyFileSync(outfile, cachedOutput + partial);
    fs.renameSync(cachedOutput + partial, cachedOutput);
    fs.writeFileSync(record + partial, JSON.stringify(entryRecord));
    fs.renameSync(record + partial, record);
  } catch {
    // The cache is an optimisation: a read-only or full temporary directory only costs rebuilds.
  }
}

/** Builds the bundle and returns the absolute paths of every file esbuild read for it. */
function buildWithEsbuild(options: HandlerBundlingOptions, entry: string, outfile: string): string[] {
  // Loaded on demand so that apps which skip bundling never load esbuild.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: options.format ?? 'cjs',
    banner: options.format === 'esm' ? { js: ESM_REQUIRE_BANNER } : undefined,
    target: options.target,
    minify: options.minify,
    sourcemap: options.sourceMap ? 'inline' : false,
    external: options.externalModules,
    define: options.define,
    logLevel: 'silent',
    legalComments: 'none',
    metafile: true,
  });
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed for ${entry}: ${result.errors.map((e) => e.text).join('; ')}`);
  }
  // Metafile input paths are relative to esbuild's working directory (process.cwd()).
  return Object.keys(result.metafile?.inputs ?? {}).map((input) => path.resolve(input));
}
