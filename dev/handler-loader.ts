import * as fs from 'node:fs';
import * as path from 'node:path';

/** A route's handler as the dev server calls it. */
export type LoadedHandler = (event: unknown, context: unknown) => unknown;

/** Loads a module by absolute path; the dev server's CLI registers tsx so `.ts` files load. */
export type RequireModule = (file: string) => unknown;

export interface LoadResult {
  readonly handler: LoadedHandler;
  /** Milliseconds spent loading the module, on the first call after a (re)load only. */
  readonly initMs?: number;
}

const SOURCE_FILE = /\.(?:[cm]?[jt]s|json)$/;

/**
 * Loads route handlers through `require` (the CommonJS loader tsx hooks into) and forgets the
 * modules a change affects, so the next request loads them again. Module state meant to outlive a
 * reload (the catalog's in-memory table) lives on `globalThis`, as lambda/catalog/deps.ts does.
 */
export class HandlerLoader {
  private readonly loaded = new Map<string, LoadedHandler>();

  constructor(private readonly requireModule: RequireModule = defaultRequire) {}

  /** The export `exportName` of `file`, loading the file on first use. */
  load(file: string, exportName: string): LoadResult {
    const id = `${file}#${exportName}`;
    const cached = this.loaded.get(id);
    if (cached) return { handler: cached };
    const started = performance.now();
    const mod = this.requireModule(file) as Record<string, unknown> | undefined;
    const initMs = performance.now() - started;
    const handler = mod?.[exportName] ?? (mod?.default as Record<string, unknown> | undefined)?.[exportName];
    if (typeof handler !== 'function') {
      const exported = Object.keys(mod ?? {}).join(', ') || 'nothing';
      throw new Error(`${file} has no function export "${exportName}" (it exports ${exported})`);
    }
    this.loaded.set(id, handler as LoadedHandler);
    return { handler: handler as LoadedHandler, initMs };
  }

  /** Whether `file` is currently loaded (in the module cache). */
  isLoaded(file: string): boolean {
    return moduleCache()?.[file] !== undefined;
  }

  /**
   * Forgets the changed files and every loaded module under `scope` that imports them, directly
   * or not; returns the ids of the modules forgotten (node_modules and modules outside `scope`,
   * such as the dev server's own, are kept). `beforeDrop` runs on each module about to be
   * forgotten (to close its connections).
   */
  async invalidate(
    changedFiles: readonly string[],
    scope: readonly string[],
    beforeDrop?: (id: string, exports: unknown) => Promise<void>,
  ): Promise<string[]> {
    const inScope = (id: string) =>
      !id.includes(`${path.sep}node_modules${path.sep}`) && scope.some((dir) => id.startsWith(path.resolve(dir) + path.sep));
    const cache = moduleCache();
    if (!cache) {
      this.loaded.clear();
      return [];
    }
    const parents = new Map<string, Set<string>>();
    for (const [id, mod] of Object.entries(cache)) {
      for (const child of mod?.children ?? []) {
        let set = parents.get(child.id);
        if (!set) parents.set(child.id, (set = new Set()));
        set.add(id);
      }
    }
    const drop = new Set<string>();
    const queue = changedFiles.filter((f) => cache[f] !== undefined);
    while (queue.length > 0) {
      const id = queue.pop()!;
      if (drop.has(id) || !inScope(id)) continue;
      drop.add(id);
      for (const parent of parents.get(id) ?? []) queue.push(parent);
    }
    for (const id of drop) {
      if (beforeDrop) await beforeDrop(id, cache[id]?.exports);
      delete cache[id];
    }
    for (const key of [...this.loaded.keys()]) {
      if (drop.has(key.slice(0, key.lastIndexOf('#')))) this.loaded.delete(key);
    }
    return [...drop];
  }
}

function defaultRequire(file: string): unknown {
  return require(file);
}

function moduleCache(): NodeJS.Dict<NodeModule> | undefined {
  // Under jest `require.cache` is jest's own registry view and may be absent.
  return typeof require !== 'undefined' ? require.cache : undefined;
}

export interface WatchOptions {
  readonly roots: readonly string[];
  /** Called once per burst of changes, with the absolute paths that changed. */
  readonly onChange: (files: string[]) => void;
  readonly debounceMs?: number;
}

/** A watch on source trees; `close()` stops it. */
export interface SourceWatch {
  readonly roots: readonly string[];
  close(): void;
}

/**
 * Watches `roots` (recursively) for changes to source files, debounced: an editor's save often
 * comes as several events (write, rename, chmod).
 */
export function watchSources(options: WatchOptions): SourceWatch {
  const roots = outermost(options.roots.filter((r) => fs.existsSync(r)));
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const watchers = roots.map((root) =>
    fs.watch(root, { recursive: true, persistent: false }, (_event, filename) => {
      if (!filename) return;
      const file = path.join(root, filename.toString());
      if (!SOURCE_FILE.test(file) || file.includes(`${path.sep}node_modules${path.sep}`)) return;
      pending.add(file);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...pending];
        pending.clear();
        options.onChange(files);
      }, options.debounceMs ?? 100);
    }),
  );
  return {
    roots,
    close: () => {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** The roots that are not inside another root. */
function outermost(roots: readonly string[]): string[] {
  const unique = [...new Set(roots.map((r) => path.resolve(r)))].sort();
  return unique.filter((r) => !unique.some((o) => o !== r && r.startsWith(o + path.sep)));
}
