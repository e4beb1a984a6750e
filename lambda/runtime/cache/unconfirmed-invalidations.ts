import type { CacheStore } from './types';

/** How a replayed invalidation went, for the CacheClient's breaker and counters. */
export interface ReplayHooks {
  /** One replayed invalidation was confirmed. */
  repaired(): void;
  succeeded(): void;
  failed(err: unknown): void;
  /** After each pass (the store may have reconnected meanwhile). */
  afterPass(): void;
}

/**
 * Invalidations the cache has not confirmed (it was frozen, down, slow), by store key: value
 * keys and group generation counters. Each is recorded before it is sent, so a read of the key
 * while the outcome is unknown goes to the origin; it is forgotten only once the cache confirms
 * it (or a replay of it), and replayed every `intervalMs` until then. A sequence number per
 * record keeps a replay from clearing a newer invalidation of the same key sent meanwhile.
 */
export class UnconfirmedInvalidations {
  private readonly records = new Map<string, { readonly group: boolean; readonly sequence: number }>();
  private sequence = 0;
  private repairing: Promise<boolean> | undefined;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly store: CacheStore,
    private readonly intervalMs: number,
    private readonly schedule: (run: () => void, ms: number) => void,
    private readonly hooks: ReplayHooks,
  ) {}

  get size(): number {
    return this.records.size;
  }

  /** Whether the value key, or the group counter, has an invalidation not yet confirmed. */
  has(storeKey: string, generationKey: string | undefined): boolean {
    if (this.records.size === 0) return false;
    return this.records.has(storeKey) || (generationKey !== undefined && this.records.has(generationKey));
  }

  /** Records an invalidation about to be sent; pass the result to `confirmed` or `unconfirmed`. */
  begin(storeKey: string, group: boolean): number {
    const sequence = ++this.sequence;
    this.records.set(storeKey, { group, sequence });
    return sequence;
  }

  /** The cache confirmed the invalidation `begin` returned `sequence` for. */
  confirmed(storeKey: string, sequence: number): void {
    if (this.records.get(storeKey)?.sequence === sequence) this.records.delete(storeKey);
  }

  /** The cache did not confirm it: it stays recorded and a replay is scheduled. */
  unconfirmed(): void {
    this.scheduleRepair();
  }

  /** Replays every recorded invalidation now (one pass at a time); true when none is left. */
  repair(): Promise<boolean> {
    if (this.records.size === 0) return Promise.resolve(true);
    this.repairing ??= this.replay().finally(() => {
      this.repairing = undefined;
    });
    return this.repairing;
  }

  /** No more scheduled replays (the records stay; `repair` still runs them). */
  close(): void {
    this.closed = true;
  }

  private scheduleRepair(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      void this.repair();
    }, this.intervalMs);
  }

  private async replay(): Promise<boolean> {
    await Promise.all(
      [...this.records].map(async ([storeKey, { group, sequence }]) => {
        try {
          if (group) await this.store.bumpGeneration(storeKey);
          else await this.store.invalidate(storeKey);
          this.hooks.succeeded();
          this.hooks.repaired();
          this.confirmed(storeKey, sequence);
        } catch (err) {
          this.hooks.failed(err);
        }
      }),
    );
    this.hooks.afterPass();
    if (this.records.size > 0) this.scheduleRepair();
    return this.records.size === 0;
  }
}
