/**
 * Types of the data-cache runtime, kept apart from the code so a backend, a test double or a
 * metrics exporter can depend on them without loading any client library.
 */

/** What a store holds under one key. */
export interface StoredItem {
  /** The encoded entry (see entry.ts). */
  readonly text: string;
  /** Check-and-set version (memcached `cas unique`); stores that lease differently leave it out. */
  readonly version?: string;
}

/** One read: the entry, and the group generation when one was asked for (same round trip). */
export interface StoreRead {
  readonly item?: StoredItem;
  /** Current value of the generation counter asked for; absent when the counter does not exist. */
  readonly generation?: string;
  /** True when another caller holds the fill lease of a missing key (memcached shows this on read). */
  readonly filling?: boolean;
}

/** The right, held by one caller at a time, to write a key after loading it from the origin. */
export interface FillLease {
  readonly token: string;
  /** Version the key had when the lease was taken, for stores that fill by check-and-set. */
  readonly version?: string;
}

/**
 * A cache backend. Every write of a loaded value goes through a lease so that an invalidation
 * that happens while the value is being loaded can never be undone by the slower writer:
 * `invalidate` revokes the lease, and `fill` stores nothing without a valid lease.
 */
export interface CacheStore {
  /** Short name for metrics and logs. */
  readonly engine: 'redis' | 'memcached' | 'memory' | 'dynamodb';
  /** Reads `key`, and `generationKey` in the same round trip when given. */
  read(key: string, generationKey?: string): Promise<StoreRead>;
  /**
   * Claims the fill lease of `key` for `ttlMs`; `seen` is what `read` returned (undefined on a
   * miss). Resolves to undefined when another caller holds it.
   */
  acquireLease(key: string, ttlMs: number, seen: StoredItem | undefined): Promise<FillLease | undefined>;
  /** Writes `text` with a lifetime of `ttlMs` only while `lease` is still valid; true if written. */
  fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean>;
  /** Gives a lease back early (the load failed or the value was not cacheable). */
  releaseLease(key: string, lease: FillLease): Promise<void>;
  /** Deletes the value of `key` and revokes any lease on it. */
  invalidate(key: string): Promise<void>;
  /** Creates the counter at `generationKey` if missing; resolves to its current value. */
  ensureGeneration(generationKey: string): Promise<string>;
  /** Moves the counter on to a value it has never had, which makes every entry tagged with an older value a miss. */
  bumpGeneration(generationKey: string): Promise<string>;
  /** Closes connections; the store reconnects if used again. */
  close(): Promise<void>;
  /**
   * Connections opened to replace one that was lost (closed by the server, broken, timed out).
   * A change tells the CacheClient the cache may have restarted from an old snapshot; stores
   * whose restarts come back empty (memcached) leave it out.
   */
  readonly sessions?: number;
}

/** Connection settings shared by the network stores. */
export interface ConnectionOptions {
  /** Longest wait for a connection (TCP, TLS and auth). @default 200 */
  readonly connectTimeoutMs?: number;
  /** Longest wait for one command's reply. @default 100 */
  readonly commandTimeoutMs?: number;
  /**
   * Age after which a connection is replaced before its next command. ElastiCache closes
   * IAM-authenticated connections after 12 hours. @default 11 hours
   */
  readonly maxConnectionAgeMs?: number;
}

/** How long entries live. Seconds may be fractional. */
export interface CachePolicy {
  /** Lifetime of a fresh value. */
  readonly ttlSeconds: number;
  /** Lifetime of a cached "not found" (the load returned undefined or null). @default 5, at most ttlSeconds */
  readonly negativeTtlSeconds?: number;
  /** Window after expiry in which the stale value is served while one caller refreshes it. @default 0 */
  readonly staleWhileRevalidateSeconds?: number;
  /** Window after expiry in which the stale value is served if the load fails. @default 0 */
  readonly staleIfErrorSeconds?: number;
  /** Random fraction (0 to 1) taken off each lifetime so entries written together expire apart. @default 0.1 */
  readonly jitter?: number;
  /**
   * Longest wait for the load, in ms (Infinity: none). A load that takes longer rejects every
   * caller waiting on it with a CacheLoadTimeoutError (or serves the stale value within
   * staleIfErrorSeconds), frees the key and is counted in `loadTimeouts`; its late result is
   * dropped. Per route: DATA_CACHE_LOAD_TIMEOUT_MS. @default 8000, below the kit's 10 s function timeout
   */
  readonly loadTimeoutMs?: number;
}

/**
 * Where the stale-while-revalidate refresh runs. Lambda freezes the process as soon as the
 * handler returns, so work left running "in the background" only continues at the next
 * invocation of the same container (if any).
 * - `inline`: the one caller that wins the refresh lease loads and returns the fresh value;
 *   every other caller (in other containers; callers in the same process share the winner's
 *   call) gets the stale value at once. The refresh always completes inside an invocation.
 *   This is the default.
 * - `background`: every caller gets the stale value at once; the lease winner refreshes without
 *   being awaited. Call `CacheClient.drain()` before returning to finish it in the invocation.
 */
export type RefreshMode = 'inline' | 'background';

/** Circuit breaker that skips the cache after repeated failures. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker. @default 3 */
  readonly failureThreshold?: number;
  /** Time the cache is skipped once open; then one probe is let through. @default 5000 */
  readonly cooldownMs?: number;
}

/**
 * Writes cached values as text and reads them back. The default (see serializer.ts) carries
 * JSON plus undefined, NaN, ±Infinity, -0, BigInt, Date, Map, Set, Buffer, typed arrays,
 * RegExp and null-prototype objects, and refuses anything else at the fill.
 */
export interface ValueSerializer {
  /** Non-empty text for `value` (never undefined or null: those are cached as "not found"); throw to refuse. */
  serialize(value: unknown): string;
  /** The value `serialize` was given. */
  deserialize(text: string): unknown;
}

export interface CacheClientOptions extends CachePolicy {
  readonly store: CacheStore;
  /** Namespace of every key. Letters, digits and `._-`; at most 32 characters. @default 'cca' */
  readonly keyPrefix?: string;
  /** Encoded values larger than this are not cached (and counted as `oversize`). @default 262144 */
  readonly maxValueBytes?: number;
  /** Lifetime of a fill lease; should exceed a slow load. @default 3000 */
  readonly leaseTtlMs?: number;
  /** How long a caller that lost the lease polls for the winner's value before loading itself. @default 500 */
  readonly leaseWaitMs?: number;
  readonly refresh?: RefreshMode;
  readonly breaker?: BreakerOptions;
  /**
   * How values are written and read back. A value the serializer refuses fails the call with
   * a CacheSerializationError (it would not come back the same from a hit).
   * @default defaultSerializer (JSON, plus tagged non-JSON values; see serializer.ts)
   */
  readonly serializer?: ValueSerializer;
  /** Clock, in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
  /** Random numbers in [0, 1) for jitter (tests). @default Math.random */
  readonly random?: () => number;
  /** How often unconfirmed invalidations are replayed while any is left. @default 250 */
  readonly repairIntervalMs?: number;
  /** Runs `run` after `ms` (simulations); the timer must not keep the process alive. @default an unref'd setTimeout */
  readonly schedule?: (run: () => void, ms: number) => void;
}

/** Per-call settings; anything left out comes from the CacheClient. */
export interface CacheGetOptions extends Partial<CachePolicy> {
  /**
   * Group the key belongs to (e.g. the pages of one list); `invalidateGroup(group)` makes every
   * key of the group a miss at once. Keys of one group share a Redis hash slot.
   */
  readonly group?: string;
}

/** How one lookup was served: see `CacheClient.getWithOutcome`. */
export type CacheOutcome = 'hit' | 'stale' | 'miss' | 'bypass' | 'error';

/** Loads the value from the origin; undefined or null means "not found" (cached negatively). */
export type Loader<T> = () => Promise<T | undefined | null> | T | undefined | null;

/** Counters since start (or the last `resetStats`), as a plain object for metrics. */
export interface CacheClientStats {
  /** Fresh values served from the cache (negative hits included). */
  hits: number;
  /** Cached "not found" served. */
  negativeHits: number;
  /** Lookups that found nothing usable. */
  misses: number;
  /**
   * Lookups that found a value in its stale-while-revalidate window: served stale while another
   * caller refreshed it, or (refresh mode `inline`) refreshed by this caller.
   */
  stale: number;
  /** Stale values served because the load failed (stale-if-error). */
  staleIfError: number;
  /** Calls that skipped the cache: the breaker was open, or the key's invalidation was not yet confirmed. */
  bypass: number;
  /** Failed or timed-out cache operations. */
  errors: number;
  /** Cache operations that timed out (also counted in `errors`). */
  timeouts: number;
  /** Calls served by a load already running in this process. */
  coalesced: number;
  /** Calls that waited for another caller's fill and got its value. */
  leaseWaits: number;
  /** Origin loads run. */
  loads: number;
  /** Origin loads that threw (timed-out loads included). */
  loadErrors: number;
  /** Origin loads that took longer than loadTimeoutMs (also counted in `loadErrors`). */
  loadTimeouts: number;
  /** Values written. */
  fills: number;
  /** Fills refused because the key was invalidated (or refilled) during the load. */
  fillsRejected: number;
  /** Values not cached because they were larger than maxValueBytes. */
  oversize: number;
  /** Keys and groups invalidated (confirmed by the cache). */
  invalidations: number;
  /** Invalidations the cache did not confirm, kept and replayed until it does. */
  invalidationsDeferred: number;
  /** Deferred invalidations replayed and confirmed. */
  repairs: number;
  /** Times the store reconnected after losing its connection; entries written before were no longer served. */
  reconnections: number;
  /** Times the breaker opened. */
  breakerOpened: number;
}
