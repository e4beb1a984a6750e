import fc from 'fast-check';
import { decodeEntry } from '../../lambda/runtime/cache/entry';

// decodeEntry is on every hit, so it is a target for hand-written parsing: whatever reads the two
// times of an entry's header must decode every header exactly as Number() does, foreign and
// corrupt ones included (whitespace, signs, exponents, hex, empty, very long digit runs).

/** The decoding as it was specified: Number() of each field, finite or not an entry. */
function reference(text: string): { writtenAt: number; freshUntil: number } | undefined {
  const [format, a, b] = text.split('|');
  if (format !== '1' || b === undefined || text.split('|').length < 5) return undefined;
  const writtenAt = Number(a);
  const freshUntil = Number(b);
  return Number.isFinite(writtenAt) && Number.isFinite(freshUntil) ? { writtenAt, freshUntil } : undefined;
}

const field = fc.oneof(
  fc.stringMatching(/^[0-9]{0,22}$/),
  fc.bigInt({ min: 0n, max: 10n ** 17n }).map(String),
  fc.constantFrom('', ' 12', '12 ', '-5', '+7', '1e3', '0x1f', '1.5', 'Infinity', 'NaN', '007', '9007199254740993', '999999999999999', '1000000000000000'),
  fc.string({ unit: fc.constantFrom('0', '1', '9', ' ', '-', '.', 'e', 'x', '/', ':') }),
);

test('entry times decode exactly as Number() reads them', () => {
  fc.assert(
    fc.property(field, field, fc.constantFrom('', '17'), fc.constantFrom('{"a":1}', ''), (a, b, generation, json) => {
      const text = `1|${a}|${b}|${generation}|${json}`;
      const decoded = decodeEntry(text);
      const expected = reference(text);
      if (expected === undefined) expect(decoded).toBeUndefined();
      else expect(decoded).toEqual({ ...expected, generation, json: json === '' ? undefined : json });
    }),
    { numRuns: 2000 },
  );
});
