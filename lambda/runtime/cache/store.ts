import { ConnectionOptions } from './types';
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

  constructor(private readonly connector: Connector<C>, options: ConnectionOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.maxConnectionAgeMs = options.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS;
  }

  /** Runs `command` on the connection, opening one if needed. */
  async run<T>(command: (connection: C) => Promise<T>): Promise<T> {
    const reused = this.reusable();
    const connection = reused ?? (await this.connect());
    try {
      return await this.timed(command(connection), connection);
    } catch (err) {
      if (reused === undefined || err instanceof CacheTimeoutError || this.connector.isOpen(connection)) throw err;
      // The socket died while idle (frozen Lambda, server or NAT closed it): retry once on a new one.
      this.drop(connection);
      const fresh = await this.connect();
      return this.timed(command(fresh), fresh);
    }
  }

  /** Closes the connection; the next command opens a new one. */
  close(): void {
    if (this.connection !== undefined) this.drop(this.connection);
    const opening = this.opening;
    this.opening = undefined;
    opening?.then((c) => this.connector.close(c), () => undefined);
  }

  private reusable(): C | undefined {
    const connection = this.connection;
    if (connection === undefined) return undefined;
    if (this.connector.isOpen(connection) && Date.now() - this.openedAt < this.maxConnectionAgeMs) return connection;
    this.drop(connection);
    return undefined;
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
          this.openedAt = Date.now();
          resolve(connection);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private timed<T>(pending: Promise<T>, connection: C): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // This timer is also what keeps the event loop alive while a command is in flight, since
      // sockets are unref'd so an idle connection never holds a process open.
      const timer = setTimeout(() => {
        this.drop(connection);
        reject(new CacheTimeoutError('command', this.commandTimeoutMs));
      }, this.commandTimeoutMs);
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private drop(connection: C): void {
    if (this.connection === connection) this.connection = undefined;
    this.connector.close(connection);
  }
}

/** Random token identifying one lease holder. */
export function leaseToken(): string {
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}
