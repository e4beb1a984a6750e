/**
 * Property tests of the memcached reply reader over byte streams split at random points:
 * clean streams give every request exactly its own reply; corrupted streams (garbage lines,
 * wrong data lengths, truncation) never hang it, never throw out of it, and never hand a
 * request anything but its own reply - requests fail instead, all of them from the first
 * protocol error on.
 */
import fc from 'fast-check';
import { MemcachedError, MemcachedReplyReader, MemcachedValue, PendingReply, ReplyKind } from '../../lambda/runtime/cache/memcached-reply';

/** One request, the bytes the server answers it with, and what the caller must get. */
interface Exchange {
  readonly kind: ReplyKind;
  readonly keys?: string[];
  readonly reply: string;
  readonly expected: { readonly value: unknown } | { readonly error: RegExp };
}

const printableValue = fc.string({ unit: fc.constantFrom('a', 'b', 'ü', '€', ' ', '\r', '\n', 'E', 'N', 'D', 'V'), maxLength: 20 });
/** Values for corrupted streams: no CR and no capitals, so no slice of one can pass for a reply line. */
const plainValue = fc.string({ unit: fc.constantFrom('a', 'b', 'ü', '€', ' ', '0'), maxLength: 20 });

function exchange(id: number, value: fc.Arbitrary<string>): fc.Arbitrary<Exchange> {
  const retrieval = fc
    .array(fc.tuple(fc.boolean(), value, fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }), fc.nat(0xffffffff)), {
      minLength: 1,
      maxLength: 3,
    })
    .map((items): Exchange => {
      const keys = items.map((_, i) => `r${id}k${i}`);
      const found = new Map<string, MemcachedValue>();
      let reply = '';
      items.forEach(([present, text, cas, flags], i) => {
        if (!present) return;
        const casText = cas === undefined ? undefined : String(cas);
        found.set(keys[i], { value: text, flags, cas: casText });
        reply += `VALUE ${keys[i]} ${flags} ${Buffer.byteLength(text)}${casText === undefined ? '' : ` ${casText}`}\r\n${text}\r\n`;
      });
      return { kind: 'retrieval', keys, reply: reply + 'END\r\n', expected: { value: found } };
    });
  const line = (kind: ReplyKind, words: string[]) => fc.constantFrom(...words).map((w): Exchange => ({ kind, reply: `${w}\r\n`, expected: { value: w } }));
  return fc.oneof(
    retrieval,
    line('storage', ['STORED', 'NOT_STORED', 'EXISTS', 'NOT_FOUND']),
    line('delete', ['DELETED', 'NOT_FOUND']),
    fc.oneof(fc.constant('NOT_FOUND'), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String)).map((w): Exchange => ({ kind: 'incr', reply: `${w}\r\n`, expected: { value: w } })),
    fc.constantFrom('1.6.18', '1.4.5-ec').map((v): Exchange => ({ kind: 'version', reply: `VERSION ${v}\r\n`, expected: { value: v } })),
    fc.constantFrom<ReplyKind>('storage', 'incr').map((kind): Exchange => ({ kind, reply: 'SERVER_ERROR out of memory\r\n', expected: { error: /SERVER_ERROR out of memory/ } })),
  );
}

function exchanges(value: fc.Arbitrary<string>): fc.Arbitrary<Exchange[]> {
  return fc.integer({ min: 1, max: 6 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => exchange(i, value))));
}

/** Split points: `bytes` cut into chunks at the given fractions. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return chunks;
}

type Settled = { value: unknown } | { error: Error } | undefined;

/** Runs the exchanges' requests through a reader fed `chunks`, then closes; what each request got. */
function run(requests: Exchange[], chunks: Buffer[], close = true): { settled: Settled[]; protocolErrors: number } {
  const settled: Settled[] = requests.map(() => undefined);
  const pending: PendingReply[] = [];
  let protocolErrors = 0;
  // What MemcachedConnection does: a protocol error fails every pending request.
  const failAll = (err: Error) => {
    for (const request of pending.splice(0)) request.reject(err);
  };
  const reader = new MemcachedReplyReader(pending, (err) => {
    protocolErrors++;
    failAll(err);
  }, 1024);
  requests.forEach((r, i) => {
    pending.push({
      kind: r.kind,
      keys: r.keys,
      resolve: (value) => {
        expect(settled[i]).toBeUndefined();
        settled[i] = { value };
      },
      reject: (error) => {
        expect(settled[i]).toBeUndefined();
        settled[i] = { error };
      },
    });
  });
  for (const chunk of chunks) reader.push(chunk);
  if (close) failAll(new MemcachedError('memcached connection closed'));
  return { settled, protocolErrors };
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

test('clean streams, split anywhere: every request gets exactly its own reply', () => {
  fc.assert(
    fc.property(exchanges(printableValue), cuts, (requests, points) => {
      const stream = Buffer.from(requests.map((r) => r.reply).join(''));
      const { settled, protocolErrors } = run(requests, chunked(stream, points));
      expect(protocolErrors).toBe(0);
      requests.forEach((r, i) => {
        if ('value' in r.expected) expect(settled[i]).toEqual({ value: r.expected.value });
        else expect((settled[i] as { error: Error }).error.message).toMatch(r.expected.error);
      });
    }),
    { numRuns: 1000 },
  );
});

test('clean streams, split anywhere: each request is settled as soon as the last byte of its reply arrives', () => {
  fc.assert(
    fc.property(exchanges(printableValue), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 40 }), (requests, points) => {
      const ends: number[] = [];
      let total = 0;
      for (const r of requests) ends.push((total += Buffer.byteLength(r.reply)));
      const stream = Buffer.from(requests.map((r) => r.reply).join(''));
      const delivered: number[] = [];
      let sent = 0;
      const chunks = chunked(stream, points);
      const settledAt = (count: number) => run(requests, chunks.slice(0, count), false).settled;
      for (let i = 0; i < chunks.length; i++) {
        sent += chunks[i].length;
        delivered.push(sent);
      }
      delivered.forEach((bytes, i) => {
        const settled = settledAt(i + 1);
        ends.forEach((end, r) => expect(settled[r] !== undefined).toBe(end <= bytes));
      });
    }),
    { numRuns: 800 },
  );
});

/** Ways a hostile server corrupts a clean stream. */
const corruption = fc.oneof(
  fc.record({ type: fc.constant('garbage' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), junk: fc.string({ unit: fc.constantFrom('~', 'x', ' ', '1', '\r', '\n'), maxLength: 10 }) }),
  fc.record({ type: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ type: fc.constant('length' as const), which: fc.nat(), shorterBy: fc.integer({ min: 1, max: 5 }), longer: fc.boolean() }),
  fc.record({ type: fc.constant('bytes' as const), junk: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  // A value sent in reply to the wrong request (another request's key).
  fc.record({ type: fc.constant('foreignKey' as const), which: fc.nat() }),
);

type Corruption = typeof corruption extends fc.Arbitrary<infer C> ? C : never;

function corrupt(stream: string, c: Corruption): Buffer {
  const bytes = Buffer.from(stream);
  switch (c.type) {
    case 'garbage': {
      const at = Math.floor(c.at * bytes.length);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(`~${c.junk}\r\n`), bytes.subarray(at)]);
    }
    case 'truncate':
      return bytes.subarray(0, Math.floor(c.at * bytes.length));
    case 'length': {
      const lines = [...stream.matchAll(/VALUE (\S+) (\d+) (\d+)/g)];
      if (lines.length === 0) return Buffer.concat([bytes, Buffer.from('VALUE x 0 2\r\n')]);
      const line = lines[c.which % lines.length];
      const size = Number(line[3]);
      // Shorter, or past the end of the stream: lengths that land on a later CRLF are undetectable in this protocol.
      const wrong = c.longer ? size + stream.length + 10 : size - c.shorterBy;
      if (wrong < 0) return Buffer.concat([bytes, Buffer.from('junk\r\n')]);
      const patched = stream.slice(0, line.index) + `VALUE ${line[1]} ${line[2]} ${wrong}` + stream.slice((line.index ?? 0) + line[0].length);
      return Buffer.from(patched);
    }
    case 'bytes':
      return Buffer.concat([bytes, Buffer.from(c.junk)]);
    case 'foreignKey': {
      const lines = [...stream.matchAll(/VALUE r(\d+)k/g)];
      if (lines.length === 0) return Buffer.concat([Buffer.from('VALUE r99k0 0 1\r\nx\r\n'), bytes]);
      const line = lines[c.which % lines.length];
      const at = (line.index ?? 0) + 'VALUE r'.length;
      return Buffer.from(stream.slice(0, at) + String(Number(line[1]) + 1) + stream.slice(at + line[1].length));
    }
  }
}

test('corrupted streams: never a wrong reply, and nothing is delivered after a protocol error', () => {
  fc.assert(
    fc.property(exchanges(plainValue), corruption, cuts, (requests, c, points) => {
      const stream = corrupt(requests.map((r) => r.reply).join(''), c);
      const { settled } = run(requests, chunked(stream, points));
      let failed = false;
      requests.forEach((r, i) => {
        const got = settled[i];
        expect(got).toBeDefined(); // nothing left hanging
        if (got !== undefined && 'error' in got) {
          expect(got.error).toBeInstanceOf(MemcachedError);
          if (!('error' in r.expected) || !r.expected.error.test(got.error.message)) failed = true;
          return;
        }
        expect(failed).toBe(false);
        expect(got).toEqual({ value: (r.expected as { value: unknown }).value });
      });
    }),
    { numRuns: 1000 },
  );
});

test('a huge declared length or an endless line is refused without buffering it', () => {
  const lines = ['VALUE r0k0 0 999999999\r\n', 'Z'.repeat(5000)];
  for (const line of lines) {
    const { settled, protocolErrors } = run([{ kind: 'retrieval', keys: ['r0k0'], reply: '', expected: { value: 0 } }], [Buffer.from(line)]);
    expect(protocolErrors).toBe(1);
    expect((settled[0] as { error: Error }).error.message).toMatch(/^memcached protocol error: (data block larger|reply line longer)/);
  }
});

test('a data block split across chunks after an earlier reply in the same chunk completes as soon as it has arrived', () => {
  const requests: Exchange[] = [
    { kind: 'storage', reply: 'STORED\r\n', expected: { value: 'STORED' } },
    { kind: 'retrieval', keys: ['r1k0'], reply: 'VALUE r1k0 0 5\r\nabcde\r\nEND\r\n', expected: { value: new Map([['r1k0', { value: 'abcde', flags: 0, cas: undefined }]]) } },
  ];
  const { settled, protocolErrors } = run(requests, [Buffer.from('STORED\r\nVALUE r1k0 0 5\r\nab'), Buffer.from('cde\r\nEND\r\n')]);
  expect(protocolErrors).toBe(0);
  expect(settled).toEqual(requests.map((r) => r.expected));
});
