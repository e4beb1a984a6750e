import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { leaseKey } from './keys';
import { MemcachedConnection, MemcachedEndpoint } from './memcached-client';
import { MemcachedNodes, NodeAddress } from './memcached-nodes';
import { checkStoreTtl, ConnectionSlot, leaseToken } from './store';
import { CacheStore, ConnectionOptions, FillLease, StoreRead } from './types';

export interface MemcachedStoreOptions extends ConnectionOptions {
  /** One or more servers; keys are spread over them by their hash tag. */
  readonly servers: readonly MemcachedEndpoint[];
  /** TLS (ElastiCache in-transit encryption); `true` or Node TLS options. @default false */
  readonly tls?: boolean | TlsConnectionOptions;
  /**
   * The single server is an ElastiCache configuration endpoint: ask it for the cluster's nodes
   * (Auto Discovery, `config get cluster`) and spread keys over them, so every container (and
   * the purge function) agrees on each key's node. A server that answers the command with
   * `ERROR` is used as the only node; an unreachable one keeps the last node list (see
   * memcached-nodes.ts). @default false
   */
  readonly autoDiscovery?: boolean;
  /** How often the node list is asked again (nodes are added or replaced). @default 60000 */
  readonly discoveryIntervalMs?: number;
  /** With several nodes, each has a breaker: a dead node skips only its own keys. @default 3 failures, 5 s */
  readonly nodeBreaker?: { readonly failureThreshold?: number; readonly cooldownMs?: number };
}

/**
 * Marks a missing key as being filled. The marker sits in the value's own slot, so the `cas`
 * that later writes the value fails if the key was deleted (invalidated) or refilled meanwhile.
 */
const FILL_MARKER = 'L|';
/** Lease kinds, recorded in the token: a marker in the value slot, or a refresh lock beside a stale value. */
const MARKER_LEASE = 'm';
const REFRESH_LEASE = 'r';

/**
 * memcached backend (ElastiCache for Memcached, node-based or serverless).
 * - Fill leases: on a miss, `add` a marker into the key, then `gets` its cas; the value is
 *   written with `cas`, which fails after any delete or rewrite of the key. On a stale value,
 *   `add` a separate refresh lock (so one caller refreshes) and `cas` against the stale
 *   value's version.
 * - TTLs are whole seconds here (rounded up, plus one for memcached's clock tick); freshness
 *   itself is decided from the entry's own metadata.
 */
export class MemcachedStore implements CacheStore {
  readonly engine = 'memcached' as const;
  private readonly nodes: MemcachedNodes;

  constructor(private readonly options: MemcachedStoreOptions) {
    this.nodes = new MemcachedNodes({
      servers: options.servers,
      autoDiscovery: options.autoDiscovery === true,
      discoveryIntervalMs: options.discoveryIntervalMs ?? 60_000,
      nodeBreaker: options.nodeBreaker,
      slot: (endpoint) => this.slot(endpoint),
    });
  }

  read(key: string, generationKey?: string): Promise<StoreRead> {
    const keys = generationKey === undefined ? [key] : [key, generationKey];
    return this.run(
      key,
      (c) => c.gets(keys),
      (found) => {
        const value = found.get(key);
        const generation = generationKey === undefined ? undefined : found.get(generationKey)?.value;
        if (value === undefined) return { generation };
        if (value.value.startsWith(FILL_MARKER)) return { generation, filling: true };
        return { item: { text: value.value, version: value.cas }, generation };
      },
    );
  }

  async acquireLease(key: string, ttlMs: number, seen: { version?: string } | undefined): Promise<FillLease | undefined> {
    const seconds = leaseSeconds(ttlMs);
    if (seen?.version !== undefined) {
      const token = REFRESH_LEASE + leaseToken();
      const reply = await this.run(key, (c) => c.add(leaseKey(key), token, seconds));
      return reply === 'STORED' ? { token, version: seen.version } : undefined;
    }
    const token = MARKER_LEASE + leaseToken();
    const marker = FILL_MARKER + token;
    const added = await this.run(key, (c) => c.add(key, marker, seconds));
    if (added !== 'STORED') return undefined;
    const current = (await this.run(key, (c) => c.gets([key]))).get(key);
    // Invalidated (or expired and re-leased) between add and gets: someone else's turn.
    if (current?.value !== marker || current.cas === undefined) return undefined;
    return { token, version: current.cas };
  }

  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    if (lease.version === undefined) return false;
    const version = lease.version;
    const reply = await this.run(key, (c) => c.cas(key, text, storeSeconds(ttlMs), version));
    if (lease.token.startsWith(REFRESH_LEASE)) await this.releaseRefreshLock(key, lease.token);
    return reply === 'STORED';
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    if (lease.token.startsWith(REFRESH_LEASE)) {
      await this.releaseRefreshLock(key, lease.token);
    } else if (lease.version !== undefined) {
      const version = lease.version;
      // A conditional delete: expire the marker now, unless it has been replaced since.
      await this.run(key, (c) => c.cas(key, '', -1, version));
    }
  }

  async invalidate(key: string): Promise<void> {
    await this.run(key, (c) => Promise.all([c.delete(key), c.delete(leaseKey(key))]));
  }

  async ensureGeneration(generationKey: string): Promise<string> {
    // Start from the clock, not 0, so a counter that was evicted never returns to an old value.
    await this.run(generationKey, (c) => c.add(generationKey, String(Date.now()), 0));
    const current = (await this.run(generationKey, (c) => c.gets([generationKey]))).get(generationKey);
    if (current === undefined) throw new Error(`generation counter ${generationKey} vanished`);
    return current.value;
  }

  async bumpGeneration(generationKey: string): Promise<string> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = await this.run(generationKey, (c) => c.incr(generationKey, 1));
      if (next !== undefined) return next;
      const initial = String(Date.now());
      if ((await this.run(generationKey, (c) => c.add(generationKey, initial, 0))) === 'STORED') return initial;
    }
    throw new Error(`could not bump generation counter ${generationKey}`);
  }

  async close(): Promise<void> {
    await this.nodes.close();
  }

  /** The nodes now in use, as `host:port` (Auto Discovery's result, or the servers given). */
  get nodeIds(): string[] {
    return this.nodes.ids;
  }

  /**
   * Deletes the refresh lock only while it is still `token`'s: a lock that expired during a slow
   * refresh may have been taken by another caller since. memcached has no conditional delete,
   * so: `gets` it, then a `cas` that expires it at once.
   */
  private async releaseRefreshLock(key: string, token: string): Promise<void> {
    const lock = leaseKey(key);
    const current = (await this.run(key, (c) => c.gets([lock]))).get(lock);
    if (current === undefined || current.value !== token || current.cas === undefined) return;
    const version = current.cas;
    await this.run(key, (c) => c.cas(lock, '', -1, version));
  }

  /** Runs `command` on the node that owns `key`, finding the nodes first if needed. */
  private run<T, R = T>(key: string, command: (connection: MemcachedConnection) => Promise<T>, map?: (reply: T) => R): Promise<R> {
    return this.nodes.run(key, command, map);
  }

  private slot(endpoint: NodeAddress): ConnectionSlot<MemcachedConnection> {
    return new ConnectionSlot<MemcachedConnection>(
      {
        open: () => MemcachedConnection.connect({ ...endpoint, tls: this.options.tls }),
        close: (connection) => connection.destroy(),
        isOpen: (connection) => connection.isOpen,
      },
      this.options,
    );
  }
}

/**
 * Whole seconds, rounded up, plus one because memcached's clock ticks once a second. Out of
 * range (negative, NaN, past 2038) is a RangeError here, before anything is sent: memcached
 * would misread it (see memcachedExptime).
 */
function storeSeconds(ttlMs: number): number {
  checkStoreTtl('memcached', ttlMs, 'entry TTL');
  return Math.ceil(ttlMs / 1000) + 1;
}

function leaseSeconds(ttlMs: number): number {
  checkStoreTtl('memcached', ttlMs, 'lease TTL');
  return Math.max(2, Math.ceil(ttlMs / 1000));
}
