/**
 * An in-memory cache "server" with the faults the coherence contract has to survive, and
 * per-process "connections" to it that implement CacheStore, so the REAL CacheClient runs over
 * it: a freeze (SIGSTOP: commands wait, the client times out; a command sent before the thaw
 * may still run at the thaw), an outage (connections refused), and a restart from a snapshot
 * (every connection drops; the data goes back to what the snapshot held).
 *
 * Time is whatever `clock` says (a simulation clock, or Date.now), and waiting goes through
 * `sleep`, so the simulation in coherence.sim.ts stays deterministic.
 */
import { leaseKey } from '../../lambda/runtime/cache/keys';
import { CacheTimeoutError } from '../../lambda/runtime/cache/store';
import { CacheStore, FillLease, StoreRead } from '../../lambda/runtime/cache/types';

interface Slot {
  readonly text: string;
  readonly expiresAt: number;
}

export interface FaultServerOptions {
  readonly now: () => number;
  /** Waits `ms` (simulated or real). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Round trip of one command. @default () => 0 */
  readonly latencyMs?: () => number;
  /** Whether a command that timed out while the server was frozen still runs at the thaw. @default () => true */
  readonly runsAfterThaw?: () => boolean;
}

type Command<T> = (data: Map<string, Slot>) => T;

/** The server side: data, snapshots, freeze and outage state. */
export class FaultServer {
  data = new Map<string, Slot>();
  private frozen: Promise<void> | undefined;
  private thaw: (() => void) | undefined;
  private down = false;
  /** Bumped whenever every connection is cut (restart): clients reconnect and count a new session. */
  restarts = 0;
  private tokenSequence = 0;

  constructor(readonly options: FaultServerOptions) {}

  get isFrozen(): boolean {
    return this.frozen !== undefined;
  }

  get isDown(): boolean {
    return this.down;
  }

  freeze(): void {
    if (this.frozen) return;
    this.frozen = new Promise<void>((resolve) => (this.thaw = resolve));
  }

  unfreeze(): void {
    const thaw = this.thaw;
    this.frozen = undefined;
    this.thaw = undefined;
    thaw?.();
  }

  /** The process dies: connections are refused until `restart`. */
  kill(): void {
    this.down = true;
    this.unfreeze();
    this.restarts++;
  }

  /** A copy of the data, as an RDB save would write it. */
  snapshot(): Map<string, Slot> {
    return new Map(this.data);
  }

  /** Back up, with `snapshot` loaded (or empty), as redis-server reloading its RDB file. */
  restart(snapshot?: Map<string, Slot>): void {
    this.data = new Map(snapshot ?? []);
    this.down = false;
    this.restarts++;
  }

  token(): string {
    this.tokenSequence++;
    return `t${this.tokenSequence}`;
  }

  /**
   * Runs one command as a client with a `timeoutMs` deadline sees it: after the round trip,
   * unless the server is frozen (then at the thaw) or down (refused). A command still waiting
   * at its deadline rejects with a timeout, and may or may not run later (`runsAfterThaw`), as a
   * command left in a socket buffer does.
   */
  async run<T>(command: Command<T>, timeoutMs: number, session: { restarts: number }): Promise<T> {
    const { sleep } = this.options;
    if (this.down) {
      await sleep(1);
      throw new Error('connect ECONNREFUSED (simulated)');
    }
    const latency = (this.options.latencyMs ?? (() => 0))();
    let abandoned = false;
    const attempt = (async () => {
      await sleep(latency / 2);
      while (this.frozen) await this.frozen;
      if (this.down || session.restarts !== this.restarts) throw new Error('connection lost (simulated)');
      if (abandoned && !(this.options.runsAfterThaw ?? (() => true))()) return undefined as T;
      const result = command(this.data);
      await sleep(latency / 2);
      return result;
    })();
    const outcome = await Promise.race([attempt.then((value) => ({ value })), sleep(timeoutMs).then(() => undefined)]);
    if (outcome === undefined) {
      abandoned = true;
      attempt.catch(() => undefined);
      throw new CacheTimeoutError('command', timeoutMs);
    }
    return outcome.value;
  }
}

/**
 * One process's connection to the FaultServer, as a CacheStore with the same lease semantics as
 * MemoryStore / RedisStore. `sessions` counts connections opened after one was lost, the signal
 * ConnectionSlot gives the CacheClient in production.
 */
export class FaultStoreClient implements CacheStore {
  readonly engine = 'memory' as const;
  sessions = 0;
  private readonly session: { restarts: number };
  /** Set when a command failed (timeout, refused): the next command opens a new connection, and counts a session. */
  private troubled = false;

  constructor(
    private readonly server: FaultServer,
    private readonly timeoutMs = 100,
  ) {
    this.session = { restarts: server.restarts };
  }

  read(key: string, generationKey?: string): Promise<StoreRead> {
    return this.exec((data) => {
      const text = this.lookup(data, key);
      return { item: text === undefined ? undefined : { text }, generation: generationKey === undefined ? undefined : this.lookup(data, generationKey) };
    });
  }

  acquireLease(key: string, ttlMs: number): Promise<FillLease | undefined> {
    const token = this.server.token();
    return this.exec((data) => {
      if (this.lookup(data, leaseKey(key)) !== undefined) return undefined;
      this.put(data, leaseKey(key), token, ttlMs);
      return { token };
    });
  }

  fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    return this.exec((data) => {
      if (this.lookup(data, leaseKey(key)) !== lease.token) return false;
      data.delete(leaseKey(key));
      this.put(data, key, text, ttlMs);
      return true;
    });
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    await this.exec((data) => {
      if (this.lookup(data, leaseKey(key)) === lease.token) data.delete(leaseKey(key));
    });
  }

  async invalidate(key: string): Promise<void> {
    await this.exec((data) => {
      data.delete(key);
      data.delete(leaseKey(key));
    });
  }

  ensureGeneration(generationKey: string): Promise<string> {
    const initial = String(this.server.options.now());
    return this.exec((data) => {
      const current = this.lookup(data, generationKey);
      if (current !== undefined) return current;
      this.put(data, generationKey, initial, Infinity);
      return initial;
    });
  }

  bumpGeneration(generationKey: string): Promise<string> {
    const floor = this.server.options.now();
    return this.exec((data) => {
      const next = String(Math.max(Number(this.lookup(data, generationKey) ?? 0) + 1, floor));
      this.put(data, generationKey, next, Infinity);
      return next;
    });
  }

  async close(): Promise<void> {
    // nothing held
  }

  private async exec<T>(command: Command<T>): Promise<T> {
    // A connection lost to a restart, or dropped after a timeout, is replaced before this command.
    // A connection lost to a restart, or dropped after a failure, is replaced before this
    // command; as ConnectionSlot does, only a replacement after a failure starts a new session.
    if (this.session.restarts !== this.server.restarts || this.troubled) {
      if (this.server.isDown) {
        this.troubled = true;
        await this.server.options.sleep(1);
        throw new Error('connect ECONNREFUSED (simulated)');
      }
      this.session.restarts = this.server.restarts;
      if (this.troubled) this.sessions++;
      this.troubled = false;
    }
    try {
      return await this.server.run(command, this.timeoutMs, this.session);
    } catch (err) {
      this.troubled = true;
      throw err;
    }
  }

  private lookup(data: Map<string, Slot>, key: string): string | undefined {
    const slot = data.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.server.options.now()) {
      data.delete(key);
      return undefined;
    }
    return slot.text;
  }

  private put(data: Map<string, Slot>, key: string, text: string, ttlMs: number): void {
    data.set(key, { text, expiresAt: this.server.options.now() + ttlMs });
  }
}
