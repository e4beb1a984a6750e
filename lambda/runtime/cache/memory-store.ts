import { leaseKey } from './keys';
import { checkStoreTtl, leaseToken } from './store';
import { CacheStore, FillLease, StoredItem, StoreRead } from './types';

export interface MemoryStoreOptions {
  /** Entries kept before the least recently used are evicted. @default 10000 */
  readonly maxEntries?: number;
  /** Clock, in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
}

interface Slot {
  readonly text: string;
  readonly expiresAt: number;
}

/**
 * In-process store: the default when no cache is configured (local runs, the dev server, unit
 * tests). Same lease semantics as the Redis store; bounded by an LRU on entry count; TTLs are
 * honoured on read.
 */
export class MemoryStore implements CacheStore {
  readonly engine = 'memory' as const;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Map iteration order is insertion order, so re-inserting on read makes the first key the LRU one. */
  private readonly slots = new Map<string, Slot>();

  constructor(options: MemoryStoreOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /** Number of live entries (leases and counters included). */
  get size(): number {
    return this.slots.size;
  }

  async read(key: string, generationKey?: string): Promise<StoreRead> {
    const text = this.lookup(key);
    const item: StoredItem | undefined = text === undefined ? undefined : { text };
    if (generationKey === undefined) return { item };
    return { item, generation: this.lookup(generationKey) };
  }

  async acquireLease(key: string, ttlMs: number): Promise<FillLease | undefined> {
    checkStoreTtl('memory', ttlMs, 'lease TTL', this.now());
    const lease = leaseKey(key);
    if (this.lookup(lease) !== undefined) return undefined;
    const token = leaseToken();
    this.put(lease, token, ttlMs);
    return { token };
  }

  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    checkStoreTtl('memory', ttlMs, 'entry TTL', this.now());
    const leaseSlot = leaseKey(key);
    if (this.lookup(leaseSlot) !== lease.token) return false;
    this.slots.delete(leaseSlot);
    this.put(key, text, ttlMs);
    return true;
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    const leaseSlot = leaseKey(key);
    if (this.lookup(leaseSlot) === lease.token) this.slots.delete(leaseSlot);
  }

  async invalidate(key: string): Promise<void> {
    this.slots.delete(key);
    this.slots.delete(leaseKey(key));
  }

  async ensureGeneration(generationKey: string): Promise<string> {
    const current = this.lookup(generationKey);
    if (current !== undefined) return current;
    // Start from the clock, not 0, so a counter that was evicted never returns to an old value.
    const initial = String(this.now());
    this.put(generationKey, initial, Infinity);
    return initial;
  }

  async bumpGeneration(generationKey: string): Promise<string> {
    const current = Number(this.lookup(generationKey) ?? 0);
    const next = String(Math.max(current + 1, this.now()));
    this.put(generationKey, next, Infinity);
    return next;
  }

  async close(): Promise<void> {
    this.slots.clear();
  }

  private lookup(key: string): string | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    if (slot.expiresAt <= this.now()) return undefined;
    this.slots.set(key, slot);
    return slot.text;
  }

  private put(key: string, text: string, ttlMs: number): void {
    this.slots.delete(key);
    this.slots.set(key, { text, expiresAt: this.now() + ttlMs });
    while (this.slots.size > this.maxEntries) {
      const oldest = this.slots.keys().next().value as string;
      this.slots.delete(oldest);
    }
  }
}
