import { createHash } from 'node:crypto';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { hashTag, leaseKey } from './keys';
import { MemcachedConnection, MemcachedEndpoint } from './memcached-client';
import { ConnectionSlot, leaseToken } from './store';
import { CacheStore, ConnectionOptions, FillLease, StoreRead } from './types';

export interface MemcachedStoreOptions extends ConnectionOptions {
  /** One or more servers; keys are spread over them by their hash tag. */
  readonly servers: readonly MemcachedEndpoint[];
  /** TLS (ElastiCache in-transit encryption); `true` or Node TLS options. @default false */
  readonly tls?: boolean | TlsConnectionOptions;
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
  private readonly slots: ConnectionSlot<MemcachedConnection>[];
  private readonly servers: readonly MemcachedEndpoint[];

  constructor(options: MemcachedStoreOptions) {
    if (options.servers.length === 0) throw new Error('MemcachedStore needs at least one server');
    this.servers = options.servers;
    this.slots = options.servers.map(
      (server) =>
        new ConnectionSlot<MemcachedConnection>(
          {
            open: () => MemcachedConnection.connect({ ...server, tls: options.tls }),
            close: (connection) => connection.destroy(),
            isOpen: (connection) => connection.isOpen,
          },
          options,
        ),
    );
  }

  async read(key: string, generationKey?: string): Promise<StoreRead> {
    const keys = generationKey === undefined ? [key] : [key, generationKey];
    const found = await this.slotFor(key).run((c) => c.gets(keys));
    const value = found.get(key);
    const generation = generationKey === undefined ? undefined : found.get(generationKey)?.value;
    if (value === undefined) return { generation };
    if (value.value.startsWith(FILL_MARKER)) return { generation, filling: true };
    return { item: { text: value.value, version: value.cas }, generation };
  }

  async acquireLease(key: string, ttlMs: number, seen: { version?: string } | undefined): Promise<FillLease | undefined> {
    const slot = this.slotFor(key);
    const seconds = leaseSeconds(ttlMs);
    if (seen?.version !== undefined) {
      const token = REFRESH_LEASE + leaseToken();
      const reply = await slot.run((c) => c.add(leaseKey(key), token, seconds));
      return reply === 'STORED' ? { token, version: seen.version } : undefined;
    }
    const token = MARKER_LEASE + leaseToken();
    const marker = FILL_MARKER + token;
    const added = await slot.run((c) => c.add(key, marker, seconds));
    if (added !== 'STORED') return undefined;
    const current = (await slot.run((c) => c.gets([key]))).get(key);
    // Invalidated (or expired and re-leased) between add and gets: someone else's turn.
    if (current?.value !== marker || current.cas === undefined) return undefined;
    return { token, version: current.cas };
  }

  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    if (lease.version === undefined) return false;
    const version = lease.version;
    const slot = this.slotFor(key);
    const reply = await slot.run((c) => c.cas(key, text, storeSeconds(ttlMs), version));
    if (lease.token.startsWith(REFRESH_LEASE)) await slot.run((c) => c.delete(leaseKey(key)));
    return reply === 'STORED';
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    const slot = this.slotFor(key);
    if (lease.token.startsWith(REFRESH_LEASE)) {
      await slot.run((c) => c.delete(leaseKey(key)));
    } else if (lease.version !== undefined) {
      const version = lease.version;
      // A conditional delete: expire the marker now, unless it has been replaced since.
      await slot.run((c) => c.cas(key, '', -1, version));
    }
  }

  async invalidate(key: string): Promise<void> {
    const slot = this.slotFor(key);
    await slot.run((c) => Promise.all([c.delete(key), c.delete(leaseKey(key))]));
  }

  async ensureGeneration(generationKey: string): Promise<string> {
    const slot = this.slotFor(generationKey);
    // Start from the clock, not 0, so a counter that was evicted never returns to an old value.
    await slot.run((c) => c.add(generationKey, String(Date.now()), 0));
    const current = (await slot.run((c) => c.gets([generationKey]))).get(generationKey);
    if (current === undefined) throw new Error(`generation counter ${generationKey} vanished`);
    return current.value;
  }

  async bumpGeneration(generationKey: string): Promise<string> {
    const slot = this.slotFor(generationKey);
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = await slot.run((c) => c.incr(generationKey, 1));
      if (next !== undefined) return next;
      const initial = String(Date.now());
      if ((await slot.run((c) => c.add(generationKey, initial, 0))) === 'STORED') return initial;
    }
    throw new Error(`could not bump generation counter ${generationKey}`);
  }

  async close(): Promise<void> {
    for (const slot of this.slots) slot.close();
  }

  /** Rendezvous hashing on the hash tag: a value, its lease and its group counter share a server. */
  private slotFor(key: string): ConnectionSlot<MemcachedConnection> {
    if (this.slots.length === 1) return this.slots[0];
    const tag = hashTag(key);
    let best = 0;
    let bestScore = -1;
    this.servers.forEach((server, index) => {
      const score = createHash('sha1').update(`${server.host}:${server.port}/${tag}`).digest().readUInt32BE(0);
      if (score > bestScore) {
        best = index;
        bestScore = score;
      }
    });
    return this.slots[best];
  }
}

/** Whole seconds, rounded up, plus one because memcached's clock ticks once a second. */
function storeSeconds(ttlMs: number): number {
  return Math.ceil(ttlMs / 1000) + 1;
}

function leaseSeconds(ttlMs: number): number {
  return Math.max(2, Math.ceil(ttlMs / 1000));
}
