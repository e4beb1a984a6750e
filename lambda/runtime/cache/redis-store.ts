import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import Redis from 'iovalkey';
import { leaseKey } from './keys';
import { checkStoreTtl, ConnectionSlot, leaseToken } from './store';
import { CacheStore, ConnectionOptions, FillLease, StoreRead } from './types';

export interface RedisStoreOptions extends ConnectionOptions {
  readonly host: string;
  /** @default 6379 */
  readonly port?: number;
  /** TLS (required by ElastiCache Serverless); `true` or Node TLS options. @default false */
  readonly tls?: boolean | TlsConnectionOptions;
  /** ACL user name (the ElastiCache user id with IAM auth). */
  readonly username?: string;
  /**
   * Password, or a function asked at every (re)connection - how an IAM auth token, valid 15
   * minutes, is kept fresh on a connection that is re-established later.
   */
  readonly password?: string | (() => string | Promise<string>);
}

/** Writes the value only while the caller's lease is still there; invalidate deletes the lease. */
const FILL_SCRIPT = `if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0`;

const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;

/** Never lets a counter go back to a value it had: an evicted counter restarts from the clock. */
const BUMP_SCRIPT = `local next = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[1])
if next < floor then
  redis.call('SET', KEYS[1], ARGV[1])
  next = floor
end
return tostring(next)`;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const FILL = script(FILL_SCRIPT);
const RELEASE = script(RELEASE_SCRIPT);
const BUMP = script(BUMP_SCRIPT);

/**
 * Redis-protocol backend over iovalkey: ElastiCache Valkey/Redis OSS replication groups and
 * Valkey Serverless (TLS, IAM auth). The keys one operation touches share a hash tag, so the
 * scripts are valid on cluster-mode and serverless caches.
 *
 * iovalkey is used without its own queueing and reconnection (no offline queue, no retries,
 * lazy connect): ConnectionSlot decides when to (re)connect, which keeps a dead cache to one
 * fast failure per call and lets each reconnection authenticate with a fresh token.
 */
export class RedisStore implements CacheStore {
  readonly engine = 'redis' as const;
  private readonly slot: ConnectionSlot<Redis>;

  constructor(private readonly options: RedisStoreOptions) {
    this.slot = new ConnectionSlot<Redis>(
      {
        open: () => this.open(),
        close: (client) => client.disconnect(),
        // After a protocol error iovalkey can stay 'ready' over a stream it no longer writes to.
        isOpen: (client) => client.status === 'ready' && (client as unknown as { stream?: { writable?: boolean } }).stream?.writable !== false,
      },
      options,
    );
  }

  read(key: string, generationKey?: string): Promise<StoreRead> {
    if (generationKey === undefined) return this.slot.run((c) => c.get(key), toRead);
    return this.slot.run((c) => c.mget(key, generationKey), toGroupedRead);
  }

  async acquireLease(key: string, ttlMs: number): Promise<FillLease | undefined> {
    const px = pxMilliseconds(ttlMs, 'lease TTL');
    const token = leaseToken();
    const reply = await this.slot.run(
      (c) => c.set(leaseKey(key), token, 'PX', px, 'NX'),
      (r) => (r === 'OK' || r === null ? r : unexpectedReply('SET NX', r)),
    );
    return reply === 'OK' ? { token } : undefined;
  }

  async fill(key: string, text: string, ttlMs: number, lease: FillLease): Promise<boolean> {
    const px = String(pxMilliseconds(ttlMs, 'entry TTL'));
    const written = await this.slot.run(
      (c) => evalScript(c, FILL, [key, leaseKey(key)], [lease.token, text, px]),
      (r) => (r === 0 || r === 1 ? r : unexpectedReply('the fill script', r)),
    );
    return written === 1;
  }

  async releaseLease(key: string, lease: FillLease): Promise<void> {
    await this.slot.run((c) => evalScript(c, RELEASE, [leaseKey(key)], [lease.token]));
  }

  async invalidate(key: string): Promise<void> {
    await this.slot.run((c) => c.del(key, leaseKey(key)));
  }

  async ensureGeneration(generationKey: string): Promise<string> {
    // Start from the clock, not 0, so a counter that was evicted never returns to an old value.
    await this.slot.run((c) => c.set(generationKey, String(Date.now()), 'NX'));
    const current = await this.slot.run((c) => c.get(generationKey));
    if (current === null) throw new Error(`generation counter ${generationKey} vanished`);
    return current;
  }

  async bumpGeneration(generationKey: string): Promise<string> {
    return String(await this.slot.run((c) => evalScript(c, BUMP, [generationKey], [String(Date.now())])));
  }

  async close(): Promise<void> {
    await this.slot.close();
  }

  /** Connections opened after one was lost: a restarted Redis may have reloaded an old RDB snapshot. */
  get sessions(): number {
    return this.slot.sessions;
  }

  private async open(): Promise<Redis> {
    const { host, port = 6379, tls, username, password, connectTimeoutMs } = this.options;
    // The secret first: a provider that throws must not leave a connected client behind.
    const secret = typeof password === 'function' ? await password() : password;
    const client = new Redis({
      host,
      port,
      tls: tls === true ? { servername: isIP(host) ? undefined : host } : tls || undefined,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      autoResendUnfulfilledCommands: false,
      connectTimeout: connectTimeoutMs,
      keepAlive: 30_000,
      noDelay: true,
      // Closing abandons whatever is pending: destroy the socket now, not after a 2 s grace timer
      // that would keep the event loop (and a test runner, or a local process) alive.
      disconnectTimeout: 0,
    });
    // Failures reach callers through command promises; without a listener iovalkey logs each one.
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (secret !== undefined) {
        // AUTH here rather than through iovalkey's options: iovalkey (without its ready check)
        // reports the connection ready before the AUTH reply, so a refused token would only show
        // up on later commands. A connection is handed out only once authenticated.
        await (username === undefined ? client.auth(secret) : client.auth(username, secret));
      }
    } catch (err) {
      client.disconnect();
      throw err;
    }
    // An idle connection must not keep a process (a test, a local run) alive.
    (client as unknown as { stream?: { unref?: () => void } }).stream?.unref?.();
    return client;
  }
}

const MISSING: StoreRead = Object.freeze({});

/** A whole number of milliseconds redis accepts for `PX` (at least 1), or a RangeError. */
function pxMilliseconds(ttlMs: number, what: string): number {
  checkStoreTtl('redis', ttlMs, what);
  return Math.max(1, Math.ceil(ttlMs));
}

function toRead(text: string | null): StoreRead {
  if (text === null) return MISSING;
  if (typeof text !== 'string') throw unexpectedReply('GET', text);
  return { item: { text } };
}

/** An MGET of an entry and its group counter (a module-level function: no closure per hit). */
function toGroupedRead(reply: unknown): StoreRead {
  if (!Array.isArray(reply) || reply.length !== 2 || !isTextOrNull(reply[0]) || !isTextOrNull(reply[1])) throw unexpectedReply('MGET', reply);
  const [text, generation] = reply;
  return { item: text === null ? undefined : { text }, generation: generation ?? undefined };
}

function isTextOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/**
 * A reply of the wrong type (a hostile or broken server, or a reply meant for another
 * command): thrown from the slot's reply mapping, which drops the connection.
 */
function unexpectedReply(command: string, reply: unknown): never {
  throw Object.assign(new Error(`redis protocol error: unexpected reply to ${command}: ${String(reply).slice(0, 60)}`), { retryable: false });
}

async function evalScript(client: Redis, code: Script, keys: string[], args: string[]): Promise<unknown> {
  try {
    return await client.evalsha(code.sha, keys.length, ...keys, ...args);
  } catch (err) {
    // Scripts are cached by the server but lost on restart or failover: send the source once.
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
    return client.eval(code.source, keys.length, ...keys, ...args);
  }
}
