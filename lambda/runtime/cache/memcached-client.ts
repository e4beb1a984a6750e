import * as net from 'node:net';
import * as tls from 'node:tls';
import { MemcachedError, MemcachedReplyReader, MemcachedValue, PendingReply, ReplyKind } from './memcached-reply';

export { MemcachedError, type MemcachedValue } from './memcached-reply';

/**
 * Minimal memcached text-protocol client: one socket, pipelined requests, the commands the
 * store needs (gets, add, cas, delete, incr). Written for this kit rather than using memjs
 * because ElastiCache Serverless for Memcached speaks only the text protocol, the lease-based
 * fill needs `gets`/`cas` (memjs implements neither), and it is a fraction of memjs's size and
 * load time (see bench/data-cache.bench.ts).
 */

export interface MemcachedEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface MemcachedConnectOptions extends MemcachedEndpoint {
  /** TLS (ElastiCache in-transit encryption); `true` or Node TLS options. */
  readonly tls?: boolean | tls.ConnectionOptions;
  /** Name the TLS certificate must be for, when `host` is an IP address. @default host */
  readonly servername?: string;
}

/** A node of an ElastiCache Memcached cluster, as Auto Discovery lists it. */
export interface MemcachedNode {
  readonly host: string;
  readonly ip?: string;
  readonly port: number;
}

export type StoreReply = 'STORED' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND';

const CRLF = '\r\n';
/** memcached treats exptime above 30 days as an absolute Unix time. */
const MAX_RELATIVE_EXPTIME = 30 * 24 * 60 * 60;
/** memcached keeps exptimes as signed 32-bit numbers: absolute times end in January 2038. */
const MAX_ABSOLUTE_EXPTIME = 2 ** 31 - 1;

export class MemcachedConnection {
  private readonly pending: PendingReply[] = [];
  private readonly reader: MemcachedReplyReader;
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    this.reader = new MemcachedReplyReader(this.pending, (err) => this.reset(err));
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', (err) => this.fail(new MemcachedError(`memcached connection error: ${err.message}`)));
    socket.on('close', () => this.fail(new MemcachedError('memcached connection closed')));
  }

  /** Opens a connection; the socket is unref'd so an idle connection never keeps a process alive. */
  static connect(options: MemcachedConnectOptions): Promise<MemcachedConnection> {
    return new Promise((resolve, reject) => {
      const tlsOptions = options.tls === true ? {} : options.tls;
      const socket = tlsOptions
        ? tls.connect({ host: options.host, port: options.port, servername: serverName(options), ...tlsOptions })
        : net.connect({ host: options.host, port: options.port });
      const onError = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        socket.off('error', onError);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, 30_000);
        socket.unref();
        resolve(new MemcachedConnection(socket));
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Values found, by key, with their `cas unique`. */
  gets(keys: readonly string[]): Promise<Map<string, MemcachedValue>> {
    try {
      if (keys.length === 0) throw new MemcachedError('gets needs at least one key', false);
      keys.forEach(checkKey);
    } catch (err) {
      return Promise.reject(err);
    }
    const unique = [...new Set(keys)];
    return this.send(`gets ${unique.join(' ')}${CRLF}`, 'retrieval', unique) as Promise<Map<string, MemcachedValue>>;
  }

  set(key: string, value: string, exptimeSeconds: number): Promise<StoreReply> {
    return this.store('set', key, value, exptimeSeconds, '');
  }

  add(key: string, value: string, exptimeSeconds: number): Promise<StoreReply> {
    return this.store('add', key, value, exptimeSeconds, '');
  }

  /** Stores only if the item is unchanged since the `gets` that returned `cas`. */
  cas(key: string, value: string, exptimeSeconds: number, cas: string): Promise<StoreReply> {
    if (!/^\d{1,20}$/.test(cas)) return Promise.reject(new MemcachedError(`invalid cas value "${cas}"`, false));
    return this.store('cas', key, value, exptimeSeconds, ` ${cas}`);
  }

  /** True if the key existed. */
  async delete(key: string): Promise<boolean> {
    checkKey(key);
    return (await this.send(`delete ${key}${CRLF}`, 'delete')) === 'DELETED';
  }

  /** The new value, or undefined if the key does not exist. */
  async incr(key: string, by: number): Promise<string | undefined> {
    checkKey(key);
    if (!Number.isSafeInteger(by) || by < 0) throw new MemcachedError(`invalid incr amount ${by}`, false);
    const reply = (await this.send(`incr ${key} ${by}${CRLF}`, 'incr')) as string;
    return reply === 'NOT_FOUND' ? undefined : reply;
  }

  /**
   * ElastiCache Auto Discovery: the cluster's nodes, asked of a configuration endpoint
   * (`config get cluster`). Rejects with a MemcachedError on servers that do not know it.
   */
  async configGetCluster(): Promise<{ version: number; nodes: MemcachedNode[] }> {
    const reply = (await this.send(`config get cluster${CRLF}`, 'config', ['cluster'])) as Map<string, MemcachedValue>;
    const config = reply.get('cluster');
    if (config === undefined) throw new MemcachedError('no cluster configuration in the reply');
    // "<version>\n<host>|<ip>|<port> <host>|<ip>|<port>...\n"
    const [version, list = ''] = config.value.split('\n');
    const nodes = list
      .trim()
      .split(' ')
      .filter(Boolean)
      .map((node) => {
        const [host, ip, port] = node.split('|');
        return { host, ip: ip || undefined, port: Number(port) };
      });
    if (nodes.length === 0 || nodes.some((n) => !n.host || !(n.port > 0))) throw new MemcachedError(`malformed cluster configuration "${config.value}"`);
    return { version: Number(version), nodes };
  }

  /** Server version (a cheap round trip). */
  async version(): Promise<string> {
    return (await this.send(`version${CRLF}`, 'version')) as string;
  }

  destroy(): void {
    this.socket.destroy();
    this.fail(new MemcachedError('memcached connection closed'));
  }

  private async store(command: string, key: string, value: string, exptimeSeconds: number, extra: string): Promise<StoreReply> {
    checkKey(key);
    const bytes = Buffer.byteLength(value);
    const header = `${command} ${key} 0 ${memcachedExptime(exptimeSeconds)} ${bytes}${extra}${CRLF}`;
    return (await this.send(header + value + CRLF, 'storage')) as StoreReply;
  }

  private send(request: string, kind: ReplyKind, keys?: readonly string[]): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(new MemcachedError('memcached connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ kind, keys, resolve, reject });
      this.socket.write(request);
    });
  }

  /** After a protocol error nothing more on this socket can be trusted: fail everything, close. */
  private reset(err: MemcachedError): void {
    const [first, ...rest] = this.pending.splice(0);
    first?.reject(err);
    const behind = new MemcachedError(`memcached connection reset after an earlier reply failed (${err.message})`);
    for (const request of rest) request.reject(behind);
    this.closed = true;
    this.socket.destroy();
  }

  private fail(err: Error): void {
    this.closed = true;
    const waiting = this.pending.splice(0);
    for (const request of waiting) request.reject(err);
  }
}

/** SNI and certificate name: never an IP address (RFC 6066). */
function serverName(options: MemcachedConnectOptions): string | undefined {
  const name = options.servername ?? options.host;
  return net.isIP(name) ? undefined : name;
}

function checkKey(key: string): void {
  // Keys go on the command line: whitespace or control characters would let a key inject commands.
  if (key.length === 0 || Buffer.byteLength(key) > 250 || /[\u0000-\u0020\u007f]/.test(key)) {
    throw new MemcachedError(`invalid memcached key "${key}"`, false);
  }
}

/**
 * memcached's exptime for a lifetime in seconds: whole seconds, at least the requested time;
 * negative means "expire now". memcached reads values above 30 days as Unix times, so longer
 * lifetimes are sent as one; it keeps them in 32 bits, so lifetimes ending after January 2038
 * are refused here (memcached would answer STORED and never return the item).
 */
export function memcachedExptime(seconds: number, nowMs = Date.now()): number {
  if (Number.isNaN(seconds)) throw new RangeError('memcached TTL must be a number of seconds, got NaN');
  if (seconds < 0) return -1;
  const whole = Math.ceil(seconds);
  if (whole <= MAX_RELATIVE_EXPTIME) return whole;
  const absolute = Math.floor(nowMs / 1000) + whole;
  if (!(absolute <= MAX_ABSOLUTE_EXPTIME)) {
    throw new RangeError(
      `memcached TTL of ${seconds} s is too long: memcached cannot keep items past 2038-01-19 (at most ${maxMemcachedTtlSeconds(nowMs)} s from now)`,
    );
  }
  return absolute;
}

/** Longest lifetime memcached can keep, in whole seconds from `nowMs`. */
export function maxMemcachedTtlSeconds(nowMs = Date.now()): number {
  return MAX_ABSOLUTE_EXPTIME - Math.floor(nowMs / 1000);
}
