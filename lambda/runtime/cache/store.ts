import { CacheStore, ConnectionOptions } from './types';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './env';

/** ElastiCache drops IAM-authenticated connections at 12 hours; replace them well before. */
const DEFAULT_MAX_CONNECTION_AGE_MS = 11 * 60 * 60 * 1000;

/** A cache operation that got no answer in time. The connection it used is dropped. */
export class CacheTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`Data cache ${what} timed out after ${ms} ms`);
    this.name = 'CacheTimeoutError';
  }
}

/** memcached keeps expiration times as signed 32-bit Unix times (past 30 days they are absolute). */
const MEMCACHED_LAST_EXPTIME = 2 ** 31 - 1;

/**
 * Longest lifetime, in ms from `nowMs`, an engine can give an entry:
 * - memcached: until 2038-01-19 (its 32-bit expiration time), less the 2 s the store adds;
 * - redis: `PX` must stay an exact integer (redis refuses anything past its 64-bit clock);
 * - memory: the same bound, for parity.
 */
export function maxStoreTtlMs(engine: CacheStore['engine'], nowMs = Date.now()): number {
  if (engine === 'memcached') return (MEMCACHED_LAST_EXPTIME - Math.ceil(nowMs / 1000) - 2) * 1000;
  return Number.MAX_SAFE_INTEGER - nowMs;
}

/** A RangeError naming `what` unless `ttlMs` is a lifetime `engine` can keep. */
export function checkStoreTtl(engine: CacheStore['engine'], ttlMs: number, what: string, nowMs = Date.now()): void {
  const max = maxStoreTtlMs(engine, nowMs);
  if (!(ttlMs >= 0 && ttlMs <= max)) {
    throw new RangeError(`Data cache ${what} (${ttlMs / 1000} s) is out of range for ${engine}: 0 to ${Math.floor(max / 1000)} s`);
  }
}

/** Errors the server answered with: retrying them on a new connection would only repeat them. */
function isRetryable(err: unknown): boolean {
  return !(err instanceof RangeError) && (err as { retryable?: unknown } | undefined)?.retryable !== false;
}

/** A command in flight and the time by which it must have answered. */
interface Watch<C> {
  readonly deadline: number;
  readonly connection: C;
  readonly reject: (err: Error) => void;
  /** Set by the watchdog: the caller has had its timeout, and a timeout is never retried. */
  timedOut?: boolean;
  /** Answered, failed or timed out: no longer watched. */
  done?: boolean;
}

/** Calls `command`, turning a synchronous throw into a rejection. */
function invoke<C, T>(command: (connection: C) => Promise<T>, connection: C): Promise<T> {
  try {
    return command(connection);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** How a backend opens and closes its connections; ConnectionSlot does the rest. */
export interface Connector<C> {
  /** Resolves once the connection can take commands (TLS and auth included). */
  open(): Promise<C>;
  /** Closes at once, failing whatever is pending. */
  close(connection: C): void;
  isOpen(connection: C): boolean;
}

/**
 * One lazily opened, reused connection with the fail-fast rules every backend needs:
 * - connect and command timeouts, enforced here (a timed-out connection is dropped, because a
 *   socket that stopped answering - e.g. after a Lambda freeze - rarely recovers);
 * - a connection found dead when used (closed while the process was frozen or idle) is
 *   replaced and the command retried once on the new one;
 * - connections older than `maxConnectionAgeMs` are replaced before use (ElastiCache IAM limit).
 * Nothing is opened until the first command.
 */
export class ConnectionSlot<C> {
  private readonly connectTimeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly maxConnectionAgeMs: number;
  private connection: C | undefined;
  private openedAt = 0;
  private opening: Promise<C> | undefined;
  /**
   * Commands in flight, oldest first, and those of them not yet done. A watch that is done is
   * only marked, and dropped from the array when none is left or when the watchdog runs: a Set
   * cost every command about 0.2 us more (hashing each new object, then compacting).
   */
  private watching: Watch<C>[] = [];
  private live = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogHeld = false;
  /** A connect failed or a command timed out since the last connection was opened: the server may have restarted. */
  private troubled = false;
  /**
   * Connections opened after the server could not be reached or stopped answering (see
   * CacheStore.sessions). A socket closed while idle and replaced at once does not count.
   */
  sessions = 0;
  private readonly dropped = new WeakSet<object>();

  constructor(private readonly connector: Connector<C>, options: ConnectionOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.maxConnectionAgeMs = options.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS;
  }

  /**
   * Runs `command` on the connection, opening one if needed. `map` shapes the reply in the same
   * step (one promise hop less on the hit path than mapping afterwards).
   */
  run<T, R = T>(command: (connection: C) => Promise<T>, map?: (reply: T) => R): Promise<R> {
    // One clock reading serves the connection's age and the command's deadline.
    const now = performance.now();
    const connection = this.connection;
    if (connection !== undefined) {
      if (this.connector.isOpen(connection) && now - this.openedAt < this.maxConnectionAgeMs) return this.timed(invoke(command, connection), connection, map, command, now);
      this.drop(connection);
    }
    return this.connect().then((fresh) => this.timed(invoke(command, fresh), fresh, map));
  }

  /**
   * Closes the connection; the next command opens a new one. Resolves once a connection still
   * being opened has been closed too, so nothing is left connected to the server.
   */
  close(): Promise<void> {
    if (this.connection !== undefined) this.drop(this.connection);
    const opening = this.opening;
    this.opening = undefined;
    if (opening === undefined) return Promise.resolve();
    return opening.then(
      (c) => this.drop(c),
      () => undefined,
    );
  }

  private connect(): Promise<C> {
    // Concurrent callers share one connection attempt.
    this.opening ??= this.openWithTimeout().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private openWithTimeout(): Promise<C> {
    const attempt = this.connector.open();
    return new Promise<C>((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        this.troubled = true;
        reject(new CacheTimeoutError('connect', this.connectTimeoutMs));
      }, this.connectTimeoutMs);
      attempt.then(
        (connection) => {
          clearTimeout(timer);
          if (timedOut) {
            this.connector.close(connection);
            return;
          }
          this.connection = connection;
          this.openedAt = performance.now();
          if (this.troubled) this.sessions++;
          this.troubled = false;
          resolve(connection);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.troubled = true;
          reject(err);
        },
      );
    });
  }

  /**
   * Races a command against its deadline. One watchdog timer per slot checks every command in
   * flight, instead of a timer per command: arming and clearing a timer per command added a
   * measurable ~5 us to every cache hit (bench/data-cache.bench.ts).
   */
  private timed<T, R>(
    pending: Promise<T>,
    connection: C,
    map: ((reply: T) => R) | undefined,
    retry?: (connection: C) => Promise<T>,
    now = performance.now(),
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const watch: Watch<C> = { deadline: now + this.commandTimeoutMs, connection, reject };
      this.watching.push(watch);
      this.live++;
      this.armWatchdog();
      pending.then(
        (value) => {
          this.unwatch(watch);
          if (map === undefined) {
            resolve(value as unknown as R);
            return;
          }
          try {
            resolve(map(value));
          } catch (err) {
            // A reply that makes no sense for its command: later replies on this connection
            // cannot be trusted to belong to their commands.
            this.drop(connection);
            reject(err);
          }
        },
        (err: unknown) => {
          this.unwatch(watch);
          if (retry === undefined || watch.timedOut || this.connector.isOpen(connection) || !isRetryable(err)) {
            reject(err);
            return;
          }
          // The reused socket had died while idle (frozen Lambda, server or NAT closed it):
          // retry once on a new connection.
          this.drop(connection);
          resolve(this.connect().then((fresh) => this.timed(invoke(retry, fresh), fresh, map)));
        },
      );
    });
  }

  private armWatchdog(): void {
    if (this.watchdog === undefined) {
      this.watchdog = setTimeout(this.checkDeadlines, this.commandTimeoutMs);
      this.watchdogHeld = true;
    } else if (!this.watchdogHeld) {
      // The watchdog is what keeps the event loop alive while a command is in flight (sockets
      // are unref'd so an idle connection never holds a process open).
      this.watchdog.ref();
      this.watchdogHeld = true;
    }
  }

  /** Stops watching `watch`, once; with nothing left in flight, the watchdog lets the process exit. */
  private unwatch(watch: Watch<C>): void {
    if (watch.done) return;
    watch.done = true;
    if (--this.live > 0) return;
    this.watching = [];
    if (this.watchdogHeld) {
      (this.watchdog as NodeJS.Timeout).unref();
      this.watchdogHeld = false;
    }
  }

  private readonly checkDeadlines = (): void => {
    // The timer has fired: it holds nothing until armed again.
    this.watchdog = undefined;
    this.watchdogHeld = false;
    const now = performance.now();
    let next = Infinity;
    this.watching = this.watching.filter((watch) => !watch.done);
    for (const watch of this.watching) {
      if (watch.deadline <= now) {
        watch.timedOut = true;
        this.troubled = true;
        this.unwatch(watch);
        // A socket that stopped answering (e.g. after a Lambda freeze) rarely recovers: drop it.
        this.drop(watch.connection);
        watch.reject(new CacheTimeoutError('command', this.commandTimeoutMs));
      } else {
        next = Math.min(next, watch.deadline);
      }
    }
    if (next !== Infinity) {
      this.watchdog = setTimeout(this.checkDeadlines, Math.max(1, Math.ceil(next - now)));
      this.watchdogHeld = true;
    }
  };

  /** Closes `connection` once, however many of its commands timed out or failed together. */
  private drop(connection: C): void {
    if (this.connection === connection) this.connection = undefined;
    if (this.dropped.has(connection as object)) return;
    this.dropped.add(connection as object);
    this.connector.close(connection);
  }
}

/** Random token identifying one lease holder. */
export function leaseToken(): string {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}
