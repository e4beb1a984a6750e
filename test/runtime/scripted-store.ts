import { CacheStore, FillLease, StoredItem, StoreRead } from '../../lambda/runtime/cache/types';

export type StoreMethod = 'read' | 'acquireLease' | 'fill' | 'releaseLease' | 'invalidate' | 'ensureGeneration' | 'bumpGeneration';

/**
 * A real store (redis-server, memcached, or the in-memory one) with failures and hooks put in
 * front of chosen calls, so a test can reach the CacheClient's error and reconnection paths in a
 * known order: `fail(method, n)` makes the next n calls reject before reaching the store,
 * `before` runs ahead of every call (awaited), `sessions` stands for the store's reconnections.
 */
export class ScriptedStore implements CacheStore {
  readonly engine: CacheStore['engine'];
  /** Every call, in order, with the key it was for. */
  readonly calls: Array<{ method: StoreMethod; key: string }> = [];
  before?: (method: StoreMethod, key: string) => void | Promise<void>;
  /** Unset: the store does not report reconnections (like memcached). */
  sessions?: number;
  private readonly failures = new Map<StoreMethod, number>();

  constructor(readonly inner: CacheStore) {
    this.engine = inner.engine;
  }

  /** The next `times` calls of `method` reject. */
  fail(method: StoreMethod, times = Infinity): void {
    this.failures.set(method, times);
  }

  /** How many calls of `method` were made (for `key`, if given). */
  count(method: StoreMethod, key?: string): number {
    return this.calls.filter((c) => c.method === method && (key === undefined || c.key === key)).length;
  }

  async read(key: string, generationKey?: string): Promise<StoreRead> {
    await this.step('read', key);
    return this.inner.read(key, generationKey);
  }
  async acquireLease(key: string, ttlMs: number, seen: StoredItem | undefined): Promise<FillLease | undefined> {
    await this.step('acquireLease', key);
    return this.inner.acquireLease(key, ttlMs, seen);
  }
  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    await this.step('fill', key);
    return this.inner.fill(key, text, ttlMs, lease);
  }
  async releaseLease(key: string, lease: FillLease): Promise<void> {
    await this.step('releaseLease', key);
    return this.inner.releaseLease(key, lease);
  }
  async invalidate(key: string): Promise<void> {
    await this.step('invalidate', key);
    return this.inner.invalidate(key);
  }
  async ensureGeneration(generationKey: string): Promise<string> {
    await this.step('ensureGeneration', generationKey);
    return this.inner.ensureGeneration(generationKey);
  }
  async bumpGeneration(generationKey: string): Promise<string> {
    await this.step('bumpGeneration', generationKey);
    return this.inner.bumpGeneration(generationKey);
  }
  /** Leaves the inner store open: it is shared by the describe block (engineStore). */
  async close(): Promise<void> {}

  private async step(method: StoreMethod, key: string): Promise<void> {
    this.calls.push({ method, key });
    await this.before?.(method, key);
    const left = this.failures.get(method) ?? 0;
    if (left > 0) {
      this.failures.set(method, left - 1);
      throw new Error(`${method} failed (scripted)`);
    }
  }
}
