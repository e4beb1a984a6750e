import * as net from 'node:net';
import * as tls from 'node:tls';

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

export interface MemcachedValue {
  readonly value: string;
  readonly flags: number;
  /** `cas unique`, present on `gets` replies. */
  readonly cas?: string;
}

export type StoreReply = 'STORED' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND';

/** A request waiting for its reply; replies come back in request order. */
interface Pending {
  readonly multiLine: boolean;
  readonly values: Map<string, MemcachedValue>;
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

const CRLF = '\r\n';
/** memcached treats exptime above 30 days as an absolute Unix time. */
const MAX_RELATIVE_EXPTIME = 30 * 24 * 60 * 60;

export class MemcachedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemcachedError';
  }
}

export class MemcachedConnection {
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.fail(new MemcachedError('memcached connection error')));
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
    keys.forEach(checkKey);
    return this.send(`gets ${keys.join(' ')}${CRLF}`, true) as Promise<Map<string, MemcachedValue>>;
  }

  set(key: string, value: string, exptimeSeconds: number): Promise<StoreReply> {
    return this.store('set', key, value, exptimeSeconds, '');
  }

  add(key: string, value: string, exptimeSeconds: number): Promise<StoreReply> {
    return this.store('add', key, value, exptimeSeconds, '');
  }

  /** Stores only if the item is unchanged since the `gets` that returned `cas`. */
  cas(key: string, value: string, exptimeSeconds: number, cas: string): Promise<StoreReply> {
    if (!/^\d+$/.test(cas)) throw new MemcachedError(`invalid cas value "${cas}"`);
    return this.store('cas', key, value, exptimeSeconds, ` ${cas}`);
  }

  /** True if the key existed. */
  async delete(key: string): Promise<boolean> {
    checkKey(key);
    return (await this.send(`delete ${key}${CRLF}`, false)) === 'DELETED';
  }

  /** The new value, or undefined if the key does not exist. */
  async incr(key: string, by: number): Promise<string | undefined> {
    checkKey(key);
    const reply = (await this.send(`incr ${key} ${by}${CRLF}`, false)) as string;
    return reply === 'NOT_FOUND' ? undefined : reply;
  }

  /**
   * ElastiCache Auto Discovery: the cluster's nodes, asked of a configuration endpoint
   * (`config get cluster`). Rejects with a MemcachedError on servers that do not know it.
   */
  async configGetCluster(): Promise<{ version: number; nodes: MemcachedNode[] }> {
    const reply = (await this.send(`config get cluster${CRLF}`, true)) as Map<string, MemcachedValue>;
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
    return ((await this.send(`version${CRLF}`, false)) as string).replace(/^VERSION /, '');
  }

  destroy(): void {
    this.socket.destroy();
    this.fail(new MemcachedError('memcached connection closed'));
  }

  private async store(command: string, key: string, value: string, exptimeSeconds: number, extra: string): Promise<StoreReply> {
    checkKey(key);
    const bytes = Buffer.byteLength(value);
    const header = `${command} ${key} 0 ${exptime(exptimeSeconds)} ${bytes}${extra}${CRLF}`;
    return (await this.send(header + value + CRLF, false)) as StoreReply;
  }

  private send(request: string, multiLine: boolean): Promise<unknown> {
    if (!this.isOpen) return Promise.reject(new MemcachedError('memcached connection closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ multiLine, values: new Map(), resolve, reject });
      this.socket.write(request);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let offset = 0;
    while (this.pending.length > 0) {
      const lineEnd = this.buffer.indexOf(CRLF, offset);
      if (lineEnd < 0) break;
      const line = this.buffer.toString('utf8', offset, lineEnd);
      const request = this.pending[0];
      if (request.multiLine && (line.startsWith('VALUE ') || line.startsWith('CONFIG '))) {
        // VALUE <key> <flags> <bytes> [<cas unique>], or CONFIG <key> <flags> <bytes> (auto discovery)
        const [, key, flags, size, cas] = line.split(' ');
        const dataStart = lineEnd + 2;
        const dataEnd = dataStart + Number(size);
        if (this.buffer.length < dataEnd + 2) break; // the data block has not fully arrived
        request.values.set(key, { value: this.buffer.toString('utf8', dataStart, dataEnd), flags: Number(flags), cas });
        offset = dataEnd + 2;
        continue;
      }
      offset = lineEnd + 2;
      this.pending.shift();
      if (line === 'ERROR' || line.startsWith('CLIENT_ERROR') || line.startsWith('SERVER_ERROR')) {
        request.reject(new MemcachedError(`memcached replied ${line}`));
      } else if (request.multiLine) {
        if (line === 'END') request.resolve(request.values);
        else request.reject(new MemcachedError(`unexpected memcached reply ${line}`));
      } else {
        request.resolve(line);
      }
    }
    this.buffer = offset === this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(offset);
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
    throw new MemcachedError(`invalid memcached key "${key}"`);
  }
}

/** Whole seconds, at least the requested time; negative means "expire now"; long ones absolute. */
function exptime(seconds: number): number {
  if (seconds < 0) return -1;
  const whole = Math.ceil(seconds);
  return whole > MAX_RELATIVE_EXPTIME ? Math.floor(Date.now() / 1000) + whole : whole;
}
