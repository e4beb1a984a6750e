import { CallSettings, CallSettingsMemo, definedOnly, Lifetimes, lifetimes } from './call-settings';
import { CircuitBreaker, isNodeError } from './circuit-breaker';
import { decodeEntry, encodeEntry, Entry } from './entry';
import { DEFAULT_KEY_PREFIX, DEFAULT_MAX_VALUE_BYTES } from './env';
import { assertKeyPrefix, entryKeys, EntryKeys, groupGenerationKey } from './keys';
import { CacheSerializationError, defaultSerializer } from './serializer';
import { emptyStats } from './stats';
import { checkLoadTimeout, DEFAULT_LOAD_TIMEOUT_MS, withLoadTimeout } from './load-timeout';
import { UnconfirmedInvalidations } from './unconfirmed-invalidations';
import { CacheTimeoutError, checkStoreTtl } from './store';
import {
  CacheGetOptions,
  CacheOutcome,
  CachePolicy,
  CacheStore,
  CacheClientOptions,
  CacheClientStats,
  FillLease,
  Loader,
  RefreshMode,
  StoredItem,
  StoreRead,
  ValueSerializer,
} from './types';

/** A lookup running in this process; concurrent callers of the same key share its promise. */
interface Flight {
  readonly keys: EntryKeys;
  promise: Promise<unknown> | undefined;
  /** How the lookup was served; callers that joined it were served the same way. */
  outcome: CacheOutcome;
  /** The caller's key and load timeout, for wrapping the load only when it runs (never on a hit). */
  readonly userKey: string;
  readonly loadTimeoutMs: number;
}

/** An entry that may be served: right format, right group generation, value parsed. */
interface Usable {
  readonly entry: Entry;
  readonly value: unknown;
}

const DEFAULT_LEASE_TTL_MS = 3000;
const DEFAULT_REPAIR_INTERVAL_MS = 250;
const DEFAULT_LEASE_WAIT_MS = 500;
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 50;

/**
 * Cache-aside over a CacheStore: read the cache, on a miss load from the origin and fill.
 *
 * - One load per key at a time in a process (concurrent callers share it), and across
 *   processes a fill lease: one caller loads, the others poll briefly for its value, then load
 *   themselves rather than fail.
 * - Fills are conditional on the lease, and `invalidate` revokes it, so a reader that loaded
 *   before a write can never put its old value back after the writer's invalidation.
 * - Fail-open: a cache error or timeout is counted and the call falls back to the load; after
 *   repeated failures a circuit breaker skips the cache for a cool-down. Cache trouble never
 *   reaches the caller; only the load's own error can (and not while a stale value may be
 *   served instead).
 * - Invalidations are never skipped or dropped (see "Coherence contract" in README.md): they are
 *   sent even while the breaker is open; one the cache did not confirm is kept and replayed
 *   until it is, and meanwhile this process reads that key from the origin. A single-flight
 *   lookup is detached from its key when the key is invalidated, so no later caller joins it.
 *   After the store had to reconnect (the cache may have restarted from an old snapshot),
 *   entries written before the reconnection are not served.
 */
export class CacheClient {
  readonly store: CacheStore;
  private readonly prefix: string;
  private readonly defaults: Lifetimes;
  private readonly callSettings = new CallSettingsMemo((options) => this.resolveCallSettings(options));
  private readonly maxValueBytes: number;
  private readonly leaseTtlMs: number;
  private readonly leaseWaitMs: number;
  private readonly refreshMode: RefreshMode;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly breaker: CircuitBreaker;
  private readonly serializer: ValueSerializer;
  private readonly loadTimeoutMs: number;
  private readonly inFlight = new Map<string, Flight>();
  private readonly refreshes = new Set<Promise<void>>();
  private counters: CacheClientStats = emptyStats();
  private readonly unconfirmed: UnconfirmedInvalidations;
  /** Entries written before this time are not served: the store reconnected since (see `checkSessions`). */
  private trustFrom = 0;
  private seenSessions: number;

  constructor(options: CacheClientOptions) {
    this.store = options.store;
    this.prefix = assertKeyPrefix(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.defaults = checkLifetimes(this.store, lifetimes(options));
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.leaseWaitMs = options.leaseWaitMs ?? DEFAULT_LEASE_WAIT_MS;
    this.refreshMode = options.refresh ?? 'inline';
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.serializer = options.serializer ?? defaultSerializer;
    this.loadTimeoutMs = checkLoadTimeout(options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS);
    this.breaker = new CircuitBreaker(options.breaker?.failureThreshold ?? 3, options.breaker?.cooldownMs ?? 5000, this.now);
    this.unconfirmed = new UnconfirmedInvalidations(this.store, options.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS, options.schedule ?? unrefTimer, {
      repaired: () => this.counters.repairs++,
      succeeded: () => this.succeeded(),
      failed: (err) => this.failed(err),
      afterPass: () => this.checkSessions(),
    });
    this.seenSessions = this.store.sessions ?? 0;
  }

  /**
   * The value of `key`: from the cache when fresh, else from `load` (then cached). A load that
   * returns undefined or null is cached as "not found" and returned as undefined.
   */
  get<T>(key: string, load: Loader<T>, options?: CacheGetOptions): Promise<T | undefined> {
    try {
      return this.join(key, load, options).promise as Promise<T | undefined>;
    } catch (err) {
      return Promise.reject(err); // bad options: a rejection, like every other failure
    }
  }

  /**
   * `get`, also telling how the value was served: `hit`, `stale`, `miss` (loaded), `bypass`
   * (cache skipped: the circuit breaker is open, or an invalidation of the key is not yet
   * confirmed by the cache) or `error` (the cache failed; loaded).
   * Handlers report it in the `X-Data-Cache` header and in their metrics.
   */
  async getWithOutcome<T>(key: string, load: Loader<T>, options?: CacheGetOptions): Promise<{ value: T | undefined; outcome: CacheOutcome }> {
    const flight = this.join(key, load, options);
    const value = (await flight.promise) as T | undefined;
    return { value, outcome: flight.outcome };
  }

  /** The lookup of `key` in flight in this process, or a new one. */
  private join<T>(key: string, load: Loader<T>, options?: CacheGetOptions): Flight {
    const keys = entryKeys(this.prefix, key, options?.group);
    const running = this.inFlight.get(keys.key);
    // A lookup is only shared while its key has not been invalidated since it started:
    // `invalidate` detaches it from `inFlight`, so a later caller starts its own.
    if (running !== undefined) {
      this.counters.coalesced++;
      return running;
    }
    let policy = this.defaults;
    let loadTimeoutMs = this.loadTimeoutMs;
    if (options !== undefined) {
      const settings = this.callSettings.get(options);
      // Checked on every call, not remembered: the limit moves with the clock (memcached's 2038 bound).
      checkStoreTtl(this.store.engine, settings.longestMs, LONGEST_WHAT);
      policy = settings.policy;
      loadTimeoutMs = settings.loadTimeoutMs;
    }
    // Registered only once the options are known valid (a throw must not leave a dead flight for
    // later callers to join), and removed by the lookup itself when it settles (a `.finally()`
    // here would cost one more promise on every hit).
    const flight: Flight = { keys, promise: undefined, outcome: 'miss', userKey: key, loadTimeoutMs };
    this.inFlight.set(keys.key, flight);
    flight.promise = this.lookup(keys, load, policy, flight);
    return flight;
  }

  /**
   * A call's options over the client's defaults, validated in the order of the settings (the
   * first invalid one is named). Remembered per distinct option values by `callSettings`.
   */
  private resolveCallSettings(options: CacheGetOptions): CallSettings {
    const policy = lifetimes({ ...this.policyDefaults(), ...definedOnly(options) });
    const longestMs = longest(policy);
    checkStoreTtl(this.store.engine, longestMs, LONGEST_WHAT);
    const loadTimeoutMs = options.loadTimeoutMs === undefined ? this.loadTimeoutMs : checkLoadTimeout(options.loadTimeoutMs);
    return { policy, loadTimeoutMs, longestMs };
  }

  /** The load, rejecting after the call's load timeout; wrapped only on the paths that run it. */
  private bounded<T>(load: Loader<T>, flight: Flight): Loader<T> {
    return withLoadTimeout(load, flight.userKey, flight.loadTimeoutMs, this.countLoadTimeout);
  }

  /**
   * Deletes `key` (of `group`, if it was read with one) and revokes any fill in progress; a
   * lookup of the key already running in this process is not shared with later callers.
   * Resolves to true once the cache confirmed it. False means the cache could not be reached:
   * the invalidation is kept and replayed until the cache takes it (`repair`), and this
   * process reads the key from the origin until then. Never rejects.
   */
  async invalidate(key: string, options?: { readonly group?: string }): Promise<boolean> {
    const storeKey = entryKeys(this.prefix, key, options?.group).key;
    return this.invalidation(storeKey, false, () => this.store.invalidate(storeKey));
  }

  /** Makes every key of `group` a miss at once (their entries carry the old generation); same guarantees as `invalidate`. */
  async invalidateGroup(group: string): Promise<boolean> {
    const generationKey = groupGenerationKey(this.prefix, group);
    return this.invalidation(generationKey, true, () => this.store.bumpGeneration(generationKey));
  }

  /** Invalidations not yet confirmed by the cache (kept for replay). */
  get pendingInvalidations(): number {
    return this.unconfirmed.size;
  }

  /**
   * Replays the unconfirmed invalidations now; resolves to true when none is left. Runs by
   * itself every `repairIntervalMs` while any is pending; a handler may await it before
   * returning (Lambda freezes timers between invocations).
   */
  repair(): Promise<boolean> {
    return this.unconfirmed.repair();
  }

  private readonly countLoadTimeout = (): void => {
    this.counters.loadTimeouts++;
  };

  /** A copy of the counters. */
  stats(): CacheClientStats {
    return { ...this.counters };
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  /** Waits for background refreshes (refresh mode `background`) - call before a Lambda handler returns. */
  async drain(): Promise<void> {
    while (this.refreshes.size > 0) await Promise.all([...this.refreshes]);
  }

  async close(): Promise<void> {
    await this.drain();
    this.unconfirmed.close();
    await this.store.close();
  }

  private async lookup<T>(keys: EntryKeys, load: Loader<T>, policy: Lifetimes, flight: Flight): Promise<T | undefined> {
    // Every return below awaits its promise, so the `finally` runs only once the call has settled.
    try {
      if (!this.breaker.allow() || this.unconfirmed.has(keys.key, keys.generationKey)) {
        // An unconfirmed invalidation of this key means the cache may still hold the value it
        // should have deleted: read the origin, and write nothing, until the replay lands.
        this.counters.bypass++;
        flight.outcome = 'bypass';
        return await this.loadOnly(this.bounded(load, flight), undefined);
      }
      let read: StoreRead;
      let generation = '';
      try {
        read = await this.store.read(keys.key, keys.generationKey);
        this.checkSessions();
        if (keys.generationKey !== undefined) {
          // A missing counter (new group, or evicted) is created first so fills carry a real generation.
          generation = read.generation ?? (await this.store.ensureGeneration(keys.generationKey));
        }
        this.succeeded();
      } catch (err) {
        this.failed(err);
        flight.outcome = 'error';
        return await this.loadOnly(this.bounded(load, flight), undefined);
      }

      const usable = read.item && this.usable(read.item.text, generation);
      const now = this.now();
      if (usable !== undefined) {
        if (now < usable.entry.freshUntil) {
          this.counters.hits++;
          flight.outcome = 'hit';
          if (usable.entry.json === undefined) this.counters.negativeHits++;
          return usable.value as T | undefined;
        }
        if (now < usable.entry.freshUntil + policy.staleWhileRevalidateMs) {
          flight.outcome = 'stale';
          return await this.serveStale(keys, read.item as StoredItem, usable, this.bounded(load, flight), policy, generation);
        }
      }
      this.counters.misses++;
      const fallback = usable !== undefined && now < usable.entry.freshUntil + policy.staleIfErrorMs ? usable : undefined;
      let lease: FillLease | undefined;
      if (read.filling !== true) {
        try {
          lease = await this.store.acquireLease(keys.key, this.leaseTtlMs, read.item);
          this.succeeded();
        } catch (err) {
          this.failed(err);
          flight.outcome = 'error';
          return await this.loadOnly(this.bounded(load, flight), fallback);
        }
      }
      if (lease !== undefined) return await this.loadAndFill(keys, lease, this.bounded(load, flight), policy, generation, fallback);
      return await this.waitForFill(flight, read.item, this.bounded(load, flight), policy, generation, fallback);
    } finally {
      if (this.inFlight.get(keys.key) === flight) this.inFlight.delete(keys.key);
    }
  }

  /** Another caller holds the lease: poll for its value, then load (and fill only if the lease is free by then). */
  private async waitForFill<T>(
    flight: Flight,
    seen: StoredItem | undefined,
    load: Loader<T>,
    policy: Lifetimes,
    generation: string,
    fallback: Usable | undefined,
  ): Promise<T | undefined> {
    const keys = flight.keys;
    const deadline = Date.now() + this.leaseWaitMs;
    let pause = FIRST_POLL_MS;
    for (let remaining = this.leaseWaitMs; remaining > 0; remaining = deadline - Date.now()) {
      await sleep(Math.min(pause, remaining));
      pause = Math.min(pause * 2, MAX_POLL_MS);
      let read: StoreRead;
      try {
        read = await this.store.read(keys.key, keys.generationKey);
        this.checkSessions();
        this.succeeded();
      } catch (err) {
        this.failed(err);
        flight.outcome = 'error';
        return this.loadOnly(load, fallback);
      }
      const usable = read.item && this.usable(read.item.text, keys.generationKey === undefined ? '' : read.generation);
      if (usable !== undefined && this.now() < usable.entry.freshUntil) {
        this.counters.leaseWaits++;
        return usable.value as T | undefined;
      }
      seen = read.item;
    }
    let lease: FillLease | undefined;
    try {
      lease = await this.store.acquireLease(keys.key, this.leaseTtlMs, seen);
      this.succeeded();
    } catch (err) {
      this.failed(err);
      flight.outcome = 'error';
    }
    if (lease !== undefined) return this.loadAndFill(keys, lease, load, policy, generation, fallback);
    return this.loadOnly(load, fallback);
  }

  private async serveStale<T>(
    keys: EntryKeys,
    seen: StoredItem,
    stale: Usable,
    load: Loader<T>,
    policy: Lifetimes,
    generation: string,
  ): Promise<T | undefined> {
    this.counters.stale++;
    if (this.refreshMode === 'background') {
      const refresh = this.refresh(keys, seen, load, policy, generation).then(
        () => undefined,
        () => undefined,
      );
      this.refreshes.add(refresh);
      void refresh.finally(() => this.refreshes.delete(refresh));
      return stale.value as T | undefined;
    }
    const refreshed = await this.refresh(keys, seen, load, policy, generation);
    return refreshed === undefined ? (stale.value as T | undefined) : refreshed.value;
  }

  /** Refreshes a stale entry if this caller wins its lease; undefined if it did not or the load failed. */
  private async refresh<T>(
    keys: EntryKeys,
    seen: StoredItem,
    load: Loader<T>,
    policy: Lifetimes,
    generation: string,
  ): Promise<{ value: T | undefined } | undefined> {
    let lease: FillLease | undefined;
    try {
      lease = await this.store.acquireLease(keys.key, this.leaseTtlMs, seen);
      this.succeeded();
    } catch (err) {
      this.failed(err);
      return undefined;
    }
    if (lease === undefined) return undefined;
    try {
      return { value: await this.loadAndFill(keys, lease, load, policy, generation, undefined) };
    } catch {
      return undefined;
    }
  }

  private async loadAndFill<T>(
    keys: EntryKeys,
    lease: FillLease,
    load: Loader<T>,
    policy: Lifetimes,
    generation: string,
    fallback: Usable | undefined,
  ): Promise<T | undefined> {
    let value: T | undefined;
    try {
      value = (await this.runLoad(load)) ?? undefined;
    } catch (err) {
      await this.release(keys.key, lease);
      if (fallback === undefined) throw err;
      this.counters.staleIfError++;
      return fallback.value as T | undefined;
    }
    const now = this.now();
    const lifetime = value === undefined ? policy.negativeMs : policy.freshMs;
    const freshMs = Math.max(1, Math.round(lifetime * (1 - policy.jitter * this.random())));
    let text: string | undefined;
    try {
      text = this.encode(now, now + freshMs, generation, value);
    } catch (err) {
      await this.release(keys.key, lease);
      throw cannotStore(keys.key, err); // the value would not come back the same: say why
    }
    if (text === undefined) {
      await this.release(keys.key, lease);
      return value;
    }
    const storeTtlMs = freshMs + Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs);
    try {
      const written = await this.store.fill(keys.key, text, storeTtlMs, lease);
      this.succeeded();
      if (written) this.counters.fills++;
      else this.counters.fillsRejected++;
    } catch (err) {
      this.failed(err);
    }
    return value;
  }

  /** The load alone, without writing (cache skipped, failing, or the lease held elsewhere). */
  private async loadOnly<T>(load: Loader<T>, fallback: Usable | undefined): Promise<T | undefined> {
    try {
      return (await this.runLoad(load)) ?? undefined;
    } catch (err) {
      if (fallback === undefined) throw err;
      this.counters.staleIfError++;
      return fallback.value as T | undefined;
    }
  }

  private async runLoad<T>(load: Loader<T>): Promise<T | undefined | null> {
    this.counters.loads++;
    try {
      return await load();
    } catch (err) {
      this.counters.loadErrors++;
      throw err;
    }
  }

  /** The entry text, or undefined when the value is too large; throws when the serializer refuses it. */
  private encode(now: number, freshUntil: number, generation: string, value: unknown): string | undefined {
    const json = value === undefined ? undefined : this.serializer.serialize(value);
    if (json === '') throw new CacheSerializationError('the serializer returned an empty string');
    const text = encodeEntry(now, freshUntil, generation, json);
    // Cheap bounds first: a UTF-16 unit is 1 to 3 UTF-8 bytes.
    const tooLarge =
      text.length > this.maxValueBytes || (text.length * 3 > this.maxValueBytes && Buffer.byteLength(text) > this.maxValueBytes);
    if (tooLarge) {
      this.counters.oversize++;
      return undefined;
    }
    return text;
  }

  private usable(text: string, generation: string | undefined): Usable | undefined {
    const entry = decodeEntry(text);
    if (entry === undefined || entry.generation !== generation || entry.writtenAt < this.trustFrom) return undefined;
    if (entry.json === undefined) return { entry, value: undefined };
    try {
      return { entry, value: this.serializer.deserialize(entry.json) };
    } catch {
      return undefined;
    }
  }

  private async release(key: string, lease: FillLease): Promise<void> {
    try {
      await this.store.releaseLease(key, lease);
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Sends one invalidation, whatever the breaker says: skipping it would leave the old value in
   * the cache for every other process. Not confirmed: kept for replay.
   */
  private async invalidation(storeKey: string, group: boolean, run: () => Promise<unknown>): Promise<boolean> {
    this.detach(storeKey, group);
    // Recorded before sending: a read of the key while the outcome is unknown goes to the origin.
    const sequence = this.unconfirmed.begin(storeKey, group);
    let confirmed = false;
    try {
      await run();
      this.succeeded();
      this.counters.invalidations++;
      this.unconfirmed.confirmed(storeKey, sequence);
      confirmed = true;
    } catch (err) {
      this.failed(err);
      this.counters.invalidationsDeferred++;
      this.unconfirmed.unconfirmed();
    }
    // Lookups that started while it was on its way are not shared either.
    this.detach(storeKey, group);
    return confirmed;
  }

  /** Stops sharing the in-process lookups of a key (or of a group's keys) with later callers. */
  private detach(storeKey: string, group: boolean): void {
    if (!group) {
      this.inFlight.delete(storeKey);
      return;
    }
    for (const [key, flight] of this.inFlight) if (flight.keys.generationKey === storeKey) this.inFlight.delete(key);
  }

  /**
   * The store had to open a new connection after losing one: the cache may have restarted and
   * reloaded an old snapshot (Redis reloads its RDB file), bringing back entries that
   * invalidations had deleted. Nothing written before now is served by this process again.
   */
  private checkSessions(): void {
    const sessions = this.store.sessions;
    if (sessions === undefined || sessions === this.seenSessions) return;
    this.seenSessions = sessions;
    this.trustFrom = this.now();
    this.counters.reconnections++;
  }

  private succeeded(): void {
    this.breaker.success();
  }

  private failed(err: unknown): void {
    this.counters.errors++;
    if (err instanceof CacheTimeoutError) this.counters.timeouts++;
    // One node of several failing is that node's breaker's business: the other nodes' keys stay cached.
    if (!isNodeError(err) && this.breaker.failure()) this.counters.breakerOpened++;
  }

  private policyDefaults(): CachePolicy {
    const d = this.defaults;
    return {
      ttlSeconds: d.freshMs / 1000,
      negativeTtlSeconds: d.negativeMs / 1000,
      staleWhileRevalidateSeconds: d.staleWhileRevalidateMs / 1000,
      staleIfErrorSeconds: d.staleIfErrorMs / 1000,
      jitter: d.jitter,
    };
  }
}

function cannotStore(key: string, err: unknown): CacheSerializationError {
  return new CacheSerializationError(`Data cache cannot store the value of ${key}: ${err instanceof Error ? err.message : String(err)}`);
}

const LONGEST_WHAT = 'ttlSeconds plus the longest stale window';

/** How long the store must keep an entry of this policy. */
function longest(policy: Lifetimes): number {
  return policy.freshMs + Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs);
}

/** The policy, if the store can keep its longest entry; else a RangeError at the call (not a cache failure). */
function checkLifetimes(store: CacheStore, policy: Lifetimes): Lifetimes {
  checkStoreTtl(store.engine, longest(policy), LONGEST_WHAT);
  return policy;
}

function unrefTimer(run: () => void, ms: number): void {
  setTimeout(run, ms).unref();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
