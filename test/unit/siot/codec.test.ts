import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodePoints,
  encodedSize,
  encodePoints,
  MAX_POINTS,
  normalizeKey,
  PointsDecodeError,
  SiotError,
} from '../../../app/siot/index.ts';
import type { Point } from '../../../app/siot/index.ts';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function pt(over: Partial<Point> = {}): Point {
  return {
    type: 'value',
    key: '0',
    time: 1n,
    dataType: 1,
    data: new Uint8Array(0),
    tombstone: 0,
    origin: '',
    ...over,
  };
}

// Two points written out byte by byte from the layout in DESIGN.md §2.
const A: Point = {
  type: 'value',
  key: '', // encodes as "0"
  time: -1n,
  dataType: 1,
  data: new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]), // 1.5 as float64 LE
  tombstone: -1,
  origin: '',
};
const B: Point = {
  type: 'description',
  key: 'k1',
  time: 0x0102030405060708n,
  dataType: 3,
  data: new Uint8Array([0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]), // "héllo"
  tombstone: 2,
  origin: 'ü',
};
// prettier-ignore
const AB_BYTES = new Uint8Array([
  0x02, 0x00, 0x00, 0x00, // count
  // A
  0x05, 0x00, 0x76, 0x61, 0x6c, 0x75, 0x65, // "value"
  0x01, 0x00, 0x30, // key "0"
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // time -1
  0x01, // dataType float
  0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x3f, // data
  0xff, 0xff, 0xff, 0xff, // tombstone -1
  0x00, 0x00, // origin ""
  // B
  0x0b, 0x00, 0x64, 0x65, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x69, 0x6f, 0x6e, // "description"
  0x02, 0x00, 0x6b, 0x31, // "k1"
  0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // time
  0x03, // dataType string
  0x06, 0x00, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f, // "héllo"
  0x02, 0x00, 0x00, 0x00, // tombstone 2
  0x02, 0x00, 0xc3, 0xbc, // origin "ü"
]);

function decodeError(fn: () => unknown): PointsDecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PointsDecodeError);
    return err as PointsDecodeError;
  }
  throw new Error('expected a PointsDecodeError, nothing was thrown');
}

describe('encodePoints / decodePoints: byte vectors', () => {
  it('encodes two points to the hand-computed bytes', () => {
    expect(encodePoints([A, B])).toEqual(AB_BYTES);
    expect(encodedSize([A, B])).toBe(AB_BYTES.length);
  });

  it('decodes the hand-computed bytes, empty key as "0"', () => {
    expect(decodePoints(AB_BYTES)).toEqual([{ ...A, key: '0' }, B]);
  });

  it('encodes zero points as a bare count', () => {
    expect(encodePoints([])).toEqual(new Uint8Array([0, 0, 0, 0]));
    expect(decodePoints(new Uint8Array([0, 0, 0, 0]))).toEqual([]);
  });

  it('decodes from a view with a non-zero byteOffset and copies data', () => {
    const big = new Uint8Array(AB_BYTES.length + 7);
    big.set(AB_BYTES, 3);
    const view = big.subarray(3, 3 + AB_BYTES.length);
    const pts = decodePoints(view);
    expect(pts[1]?.type).toBe('description');
    expect(pts[0]?.data.buffer).not.toBe(big.buffer);
    big.fill(0);
    expect(pts[1]?.data).toEqual(B.data);
  });

  it('keeps a leading byte-order mark in strings', () => {
    const p = pt({ type: '\ufeffx', origin: '\ufeff' });
    expect(decodePoints(encodePoints([p]))).toEqual([p]);
  });

  it('normalizeKey maps only the empty key', () => {
    expect(normalizeKey('')).toBe('0');
    expect(normalizeKey('0')).toBe('0');
    expect(normalizeKey('a')).toBe('a');
  });
});

const pointArb: fc.Arbitrary<Point> = fc.record({
  type: fc.string({ unit: 'binary', maxLength: 20 }),
  key: fc.string({ unit: 'binary', maxLength: 10 }),
  time: fc.oneof(fc.bigInt(INT64_MIN, INT64_MAX), fc.constantFrom(INT64_MIN, INT64_MAX, 0n, -1n)),
  dataType: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 40 }),
  tombstone: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  origin: fc.string({ unit: 'binary', maxLength: 20 }),
});

describe('round trip', () => {
  it('decode(encode(points)) equals points with keys normalized', () => {
    fc.assert(
      fc.property(fc.array(pointArb, { maxLength: 8 }), (points) => {
        const buf = encodePoints(points);
        expect(buf.length).toBe(encodedSize(points));
        expect(decodePoints(buf)).toEqual(points.map((p) => ({ ...p, key: normalizeKey(p.key) })));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips exactly MAX_POINTS points and fields of 65535 bytes', () => {
    const many = Array.from({ length: MAX_POINTS }, (_, i) => pt({ time: BigInt(i) }));
    expect(decodePoints(encodePoints(many))).toHaveLength(MAX_POINTS);
    const wide = pt({ type: 'x'.repeat(0xffff), data: new Uint8Array(0xffff).fill(7), origin: 'é'.repeat(0x7fff) });
    expect(decodePoints(encodePoints([wide]))).toEqual([wide]);
  });
});

describe('decoder rejects malformed input', () => {
  it('rejects every truncation of a valid multi-point buffer', () => {
    const buf = encodePoints([A, B, pt({ type: 'ß', key: 'k', origin: 'o', data: new Uint8Array([1, 2, 3]) })]);
    for (let n = 0; n < buf.length; n++) {
      const err = decodeError(() => decodePoints(buf.subarray(0, n)));
      expect(err.code).toBe('decode');
      expect(err.offset).toBeGreaterThanOrEqual(0);
      expect(err.offset).toBeLessThanOrEqual(n);
    }
  });

  it('rejects a count of MAX_POINTS + 1', () => {
    const buf = new Uint8Array(4 + 21 * (MAX_POINTS + 1));
    new DataView(buf.buffer).setUint32(0, MAX_POINTS + 1, true);
    const err = decodeError(() => decodePoints(buf));
    expect(err.message).toMatch(/10001 exceeds the limit of 10000/);
    expect(err.offset).toBe(0);
  });

  it('rejects trailing bytes after the last point', () => {
    const buf = new Uint8Array(AB_BYTES.length + 1);
    buf.set(AB_BYTES);
    const err = decodeError(() => decodePoints(buf));
    expect(err.offset).toBe(AB_BYTES.length);
    expect(err.message).toMatch(/1 unexpected bytes/);
  });

  it('rejects invalid UTF-8 in type, key and origin', () => {
    // The type "value" starts at byte 6, the key "0" at byte 13, origin length at byte 38.
    for (const [at, value] of [
      [6, 0xff],
      [13, 0xc3],
    ] as const) {
      const buf = AB_BYTES.slice();
      buf[at] = value;
      expect(decodeError(() => decodePoints(buf)).offset).toBe(at);
    }
    const withOrigin = encodePoints([pt({ origin: 'ab' })]);
    withOrigin[withOrigin.length - 1] = 0x80;
    expect(decodeError(() => decodePoints(withOrigin)).message).toMatch(/origin .* not valid UTF-8/);
  });

  it('never throws anything but PointsDecodeError on 10,000 random buffers', () => {
    const check = (buf: Uint8Array): void => {
      try {
        decodePoints(buf);
      } catch (err) {
        if (!(err instanceof PointsDecodeError)) throw err;
      }
    };
    // Uniform bytes almost always fail at the count; a small count and
    // mutated valid buffers reach the per-field checks.
    const smallCount = fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 120 }))
      .map(([n, rest]) => {
        const b = new Uint8Array(4 + rest.length);
        new DataView(b.buffer).setUint32(0, n, true);
        b.set(rest, 4);
        return b;
      });
    const mutated = fc
      .array(fc.tuple(fc.nat(AB_BYTES.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })
      .map((edits) => {
        const b = AB_BYTES.slice();
        for (const [i, v] of edits) b[i] = v;
        return b;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), smallCount, mutated), (buf) => check(buf)),
      { numRuns: 10_000 },
    );
  });
});

describe('encoder rejects points it cannot represent', () => {
  const cases: [string, Point[] | (() => Point[]), RegExp][] = [
    ['type over 65535 bytes', [pt({ type: 'é'.repeat(0x8000) })], /type is 65536 bytes/],
    ['key over 65535 bytes', [pt({ key: 'k'.repeat(0x10000) })], /key is 65536 bytes/],
    ['origin over 65535 bytes', [pt({ origin: 'o'.repeat(0x10000) })], /origin is 65536 bytes/],
    ['data over 65535 bytes', [pt({ data: new Uint8Array(0x10000) })], /data is 65536 bytes/],
    ['too many points', () => Array.from({ length: MAX_POINTS + 1 }, () => pt()), /10001 points .* limit is 10000/],
    ['time above int64', [pt({ time: INT64_MAX + 1n })], /time .* not an int64/],
    ['time below int64', [pt({ time: INT64_MIN - 1n })], /time .* not an int64/],
    ['time as a number', [pt({ time: 5 as unknown as bigint })], /time 5 is not an int64 bigint/],
    ['tombstone above int32', [pt({ tombstone: 0x8000_0000 })], /tombstone .* not an int32/],
    ['tombstone below int32', [pt({ tombstone: -0x8000_0001 })], /tombstone .* not an int32/],
    ['fractional tombstone', [pt({ tombstone: 1.5 })], /tombstone .* not an int32/],
    ['dataType 256', [pt({ dataType: 256 })], /dataType 256/],
    ['dataType -1', [pt({ dataType: -1 })], /dataType -1/],
    ['lone surrogate', [pt({ key: 'a\ud800' })], /lone UTF-16 surrogate/],
  ];
  for (const [name, input, msg] of cases) {
    it(`rejects ${name}`, () => {
      const points = typeof input === 'function' ? input() : input;
      for (const fn of [() => encodePoints(points), () => encodedSize(points)]) {
        try {
          fn();
          expect.unreachable('should have thrown');
        } catch (err) {
          expect(err).toBeInstanceOf(SiotError);
          expect((err as SiotError).code).toBe('bad-point');
          expect((err as Error).message).toMatch(msg);
        }
      }
    });
  }
});
