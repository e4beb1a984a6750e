/**
 * The memcached text-protocol reply reader, kept apart from the socket so it can be fed any
 * byte stream (tests split replies at random points and corrupt them).
 *
 * Rules that keep it from hanging or desynchronising:
 * - every pass of the loop either consumes input or stops to wait for more;
 * - every line is checked against what the request at the head of the queue can receive
 *   (a `gets` can only receive `VALUE` lines for keys it asked for, then `END`; a `set` only
 *   one of the four storage words; ...), and every number in a line must be a plain decimal;
 * - a data block must be followed by exactly CRLF;
 * - lines and data blocks are bounded, so a server that never sends CRLF cannot grow memory.
 * Anything else is a protocol error: the reader stops, and the connection fails every request
 * pending on it and closes (nothing later on that socket can be trusted to be in step).
 */

/** What a request expects back. */
export type ReplyKind = 'retrieval' | 'storage' | 'delete' | 'incr' | 'version' | 'config';

export interface MemcachedValue {
  readonly value: string;
  readonly flags: number;
  /** `cas unique`, present on `gets` replies. */
  readonly cas?: string;
}

/** A request waiting for its reply; replies come back in request order. */
export interface PendingReply {
  readonly kind: ReplyKind;
  /** Keys asked for (retrieval and config): a `VALUE` for any other key is a protocol error. */
  readonly keys?: readonly string[];
  resolve(reply: unknown): void;
  reject(err: Error): void;
}

export class MemcachedError extends Error {
  /** False for errors a retry on a new connection would only repeat (the server did answer). */
  readonly retryable: boolean;
  constructor(message: string, retryable = true) {
    super(message);
    this.name = 'MemcachedError';
    this.retryable = retryable;
  }
}

/** Longest reply line accepted (a VALUE line is at most ~300 bytes). */
export const MAX_LINE_BYTES = 4096;
/** Largest data block accepted: ElastiCache's item size limit can be raised to 128 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 128 * 1024 * 1024;

const CR = 13;
const LF = 10;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const STORAGE_REPLIES = new Set(['STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND']);
const MAX_FLAGS = 0xffffffff;

/** A protocol violation: names what was received, cut short and made printable. */
export function protocolError(what: string, line?: string): MemcachedError {
  const shown = line === undefined ? '' : ` "${printable(line)}"`;
  return new MemcachedError(`memcached protocol error: ${what}${shown}`, false);
}

function printable(text: string): string {
  const cut = text.length > 80 ? text.slice(0, 80) + '...' : text;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The values of a retrieval in progress. */
interface Retrieval {
  readonly values: Map<string, MemcachedValue>;
}

export class MemcachedReplyReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Buffered bytes needed before parsing is worth retrying (a data block that has not fully arrived). */
  private needed = 0;
  private retrieval: Retrieval | undefined;
  private failed = false;

  constructor(
    private readonly pending: PendingReply[],
    private readonly onProtocolError: (err: MemcachedError) => void,
    private readonly maxValueBytes = DEFAULT_MAX_VALUE_BYTES,
  ) {}

  /** Bytes received and not yet consumed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return;
    const buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    let offset: number;
    try {
      offset = this.consume(buffer);
    } catch (err) {
      this.fail(err as MemcachedError);
      return;
    }
    const rest = buffer.length - offset;
    this.chunks = rest === 0 ? [] : [buffer.subarray(offset)];
    this.buffered = rest;
  }

  /** Parses whole replies from `buffer`; returns how many bytes were consumed. Throws on a violation. */
  private consume(buffer: Buffer): number {
    let offset = 0;
    this.needed = 0;
    while (offset < buffer.length) {
      const request = this.pending[0];
      if (request === undefined) throw protocolError('reply with no request waiting', buffer.toString('latin1', offset, offset + 80));
      const lineEnd = findLineEnd(buffer, offset);
      if (lineEnd < 0) {
        if (buffer.length - offset > MAX_LINE_BYTES) throw protocolError(`reply line longer than ${MAX_LINE_BYTES} bytes`);
        return offset;
      }
      const line = buffer.toString('utf8', offset, lineEnd); // keys may be any UTF-8 without spaces or controls
      const next = this.line(request, line, buffer, lineEnd + 2);
      if (next < 0) {
        // A data block still on its way. `needed` counts from this line, where the kept bytes will start.
        this.needed -= offset;
        return offset;
      }
      // Invariant that rules out a busy loop: every step consumes at least its line's CRLF.
      offset = next;
    }
    return offset;
  }

  /** Handles one line (and the data block that follows a VALUE line); -1 to wait for more bytes. */
  private line(request: PendingReply, line: string, buffer: Buffer, afterLine: number): number {
    if (line === 'ERROR' || line.startsWith('CLIENT_ERROR')) {
      // The server did not understand the request: whatever it does with the rest of it (e.g.
      // a data block read as a command) is unknowable, so nothing after this can be trusted.
      throw new MemcachedError(`memcached replied ${printable(line)}`, false);
    }
    if (line.startsWith('SERVER_ERROR')) {
      // Reported in step (the server swallows the request's data): only this request fails.
      this.settle(request, new MemcachedError(`memcached replied ${printable(line)}`, false));
      return afterLine;
    }
    switch (request.kind) {
      case 'retrieval':
      case 'config':
        return this.retrievalLine(request, line, buffer, afterLine);
      case 'storage':
        if (!STORAGE_REPLIES.has(line)) throw protocolError('unexpected reply to a storage command', line);
        this.settle(request, undefined, line);
        return afterLine;
      case 'delete':
        if (line !== 'DELETED' && line !== 'NOT_FOUND') throw protocolError('unexpected reply to delete', line);
        this.settle(request, undefined, line);
        return afterLine;
      case 'incr':
        if (line !== 'NOT_FOUND' && !(DECIMAL.test(line) && line.length <= 20)) throw protocolError('unexpected reply to incr', line);
        this.settle(request, undefined, line);
        return afterLine;
      case 'version':
        if (!/^VERSION [\x21-\x7e]{1,64}$/.test(line)) throw protocolError('unexpected reply to version', line);
        this.settle(request, undefined, line.slice(8));
        return afterLine;
    }
  }

  private retrievalLine(request: PendingReply, line: string, buffer: Buffer, afterLine: number): number {
    if (line === 'END') {
      const values = this.retrieval?.values ?? new Map<string, MemcachedValue>();
      this.settle(request, undefined, values);
      return afterLine;
    }
    // VALUE <key> <flags> <bytes> [<cas unique>]; CONFIG <key> <flags> <bytes> (Auto Discovery)
    const word = request.kind === 'config' ? 'CONFIG' : 'VALUE';
    const parts = line.split(' ');
    if (parts[0] !== word) throw protocolError(`unexpected line in a ${word} reply`, line);
    const [, key, flags, size, cas] = parts;
    const casAllowed = request.kind === 'retrieval';
    const wellFormed =
      (parts.length === 4 || (parts.length === 5 && casAllowed)) &&
      DECIMAL.test(flags ?? '') &&
      Number(flags) <= MAX_FLAGS &&
      DECIMAL.test(size ?? '') &&
      (cas === undefined || (DECIMAL.test(cas) && cas.length <= 20));
    if (!wellFormed) throw protocolError(`malformed ${word} line`, line);
    if (!request.keys?.includes(key)) throw protocolError(`${word} for a key that was not asked for`, line);
    const bytes = Number(size);
    if (bytes > this.maxValueBytes) throw protocolError(`data block larger than ${this.maxValueBytes} bytes`, line);
    const retrieval = (this.retrieval ??= { values: new Map() });
    if (retrieval.values.has(key)) throw protocolError(`${word} for the same key twice`, line);
    const dataEnd = afterLine + bytes;
    if (buffer.length < dataEnd + 2) {
      this.needed = dataEnd + 2;
      return -1;
    }
    if (buffer[dataEnd] !== CR || buffer[dataEnd + 1] !== LF) throw protocolError(`data block of ${key} is not ${bytes} bytes long`);
    retrieval.values.set(key, { value: buffer.toString('utf8', afterLine, dataEnd), flags: Number(flags), cas });
    return dataEnd + 2;
  }

  private settle(request: PendingReply, error: Error | undefined, value?: unknown): void {
    this.pending.shift();
    this.retrieval = undefined;
    if (error === undefined) request.resolve(value);
    else request.reject(error);
  }

  private fail(err: MemcachedError): void {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    this.onProtocolError(err);
  }
}

/** Index of the CR of the next CRLF at or after `from`, or -1. A bare CR or LF is not a line end. */
function findLineEnd(buffer: Buffer, from: number): number {
  let at = from;
  for (;;) {
    const cr = buffer.indexOf(CR, at);
    if (cr < 0 || cr + 1 >= buffer.length) return -1;
    if (buffer[cr + 1] === LF) return cr;
    at = cr + 1;
  }
}
