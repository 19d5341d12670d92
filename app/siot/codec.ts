// Binary `Points` codec, byte-compatible with SIOT >= 0.23 (DESIGN.md §2).
// Layout, little-endian: u32 count, then per point
//   u16 len + type, u16 len + key, i64 time, u8 dataType,
//   u16 len + data, i32 tombstone, u16 len + origin.
// Input comes from the network, so the decoder must turn every malformed
// buffer into a PointsDecodeError, never a RangeError or a huge allocation.

import { PointsDecodeError, SiotError } from './errors.ts';
import type { Point } from './types.ts';
import { readUtf8, utf8Length, writeUtf8 } from './utf8.ts';

/** Most points one message may carry (SIOT's limit). */
export const MAX_POINTS = 10_000;

const MAX_FIELD_BYTES = 0xffff;
/** Bytes of a point besides its variable-length fields. */
const FIXED_POINT_BYTES = 2 + 2 + 8 + 1 + 2 + 4 + 2;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
// Below this many bytes a plain loop copies faster than set(subarray()),
// which allocates a view first; most data fields are 8-byte numbers.
const SMALL_COPY = 32;

/** SIOT stores an empty key as "0"; normalizing everywhere keeps one point
 * from having two identities. */
export function normalizeKey(k: string): string {
  return k === '' ? '0' : k;
}

function describe(p: Point, i: number): string {
  const t = typeof p.type === 'string' && p.type.length > 40 ? `${p.type.slice(0, 40)}…` : p.type;
  return `point ${i} (type "${t}")`;
}

function stringField(p: Point, i: number, what: string, s: string): number {
  if (typeof s !== 'string') {
    throw new SiotError('bad-point', `cannot encode ${describe(p, i)}: ${what} is ${typeof s}, expected a string`);
  }
  const n = utf8Length(s);
  if (n < 0) {
    throw new SiotError(
      'bad-point',
      `cannot encode ${describe(p, i)}: ${what} contains a lone UTF-16 surrogate, which has no UTF-8 form; fix the string`,
    );
  }
  if (n > MAX_FIELD_BYTES) {
    throw new SiotError(
      'bad-point',
      `cannot encode ${describe(p, i)}: ${what} is ${n} bytes of UTF-8, the limit is ${MAX_FIELD_BYTES}; shorten it`,
    );
  }
  return n;
}

/** Validates every point and returns the per-point string lengths (type, key,
 * origin) and the total size, so encoding can allocate exactly once. */
function measure(points: readonly Point[]): { lens: Uint32Array; total: number } {
  const n = points.length;
  if (n > MAX_POINTS) {
    throw new SiotError(
      'bad-point',
      `cannot encode ${n} points in one message: the limit is ${MAX_POINTS}; split them over several messages`,
    );
  }
  const lens = new Uint32Array(n * 3);
  let total = 4 + n * FIXED_POINT_BYTES;
  let i = 0;
  for (const p of points) {
    const t = stringField(p, i, 'type', p.type);
    const k = stringField(p, i, 'key', normalizeKey(p.key));
    const o = stringField(p, i, 'origin', p.origin);
    if (typeof p.time !== 'bigint' || p.time < INT64_MIN || p.time > INT64_MAX) {
      throw new SiotError(
        'bad-point',
        `cannot encode ${describe(p, i)}: time ${String(p.time)} is not an int64 bigint of nanoseconds since the epoch`,
      );
    }
    if (!Number.isInteger(p.dataType) || p.dataType < 0 || p.dataType > 255) {
      throw new SiotError(
        'bad-point',
        `cannot encode ${describe(p, i)}: dataType ${String(p.dataType)} is not an integer in 0..255`,
      );
    }
    if (!(p.data instanceof Uint8Array)) {
      throw new SiotError('bad-point', `cannot encode ${describe(p, i)}: data must be a Uint8Array`);
    }
    if (p.data.byteLength > MAX_FIELD_BYTES) {
      throw new SiotError(
        'bad-point',
        `cannot encode ${describe(p, i)}: data is ${p.data.byteLength} bytes, the limit is ${MAX_FIELD_BYTES}; store large values elsewhere`,
      );
    }
    if (!Number.isInteger(p.tombstone) || p.tombstone < INT32_MIN || p.tombstone > INT32_MAX) {
      throw new SiotError(
        'bad-point',
        `cannot encode ${describe(p, i)}: tombstone ${String(p.tombstone)} is not an int32`,
      );
    }
    lens[3 * i] = t;
    lens[3 * i + 1] = k;
    lens[3 * i + 2] = o;
    total += t + k + o + p.data.byteLength;
    i++;
  }
  return { lens, total };
}

/** Size in bytes of `encodePoints(points)`; throws like `encodePoints`. */
export function encodedSize(points: readonly Point[]): number {
  return measure(points).total;
}

/** Encodes points as SIOT binary `Points`. Throws SiotError('bad-point') when a
 * point cannot be represented (field > 65535 bytes, time outside int64, ...). */
export function encodePoints(points: readonly Point[]): Uint8Array {
  const { lens, total } = measure(points);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, points.length, true);
  let off = 4;
  let j = 0;
  for (const p of points) {
    const t = lens[j++] as number;
    view.setUint16(off, t, true);
    writeUtf8(out, off + 2, p.type, t);
    off += 2 + t;

    const k = lens[j++] as number;
    view.setUint16(off, k, true);
    writeUtf8(out, off + 2, normalizeKey(p.key), k);
    off += 2 + k;

    view.setBigInt64(off, p.time, true);
    out[off + 8] = p.dataType;
    off += 9;

    const d = p.data.byteLength;
    view.setUint16(off, d, true);
    out.set(p.data, off + 2);
    off += 2 + d;

    view.setInt32(off, p.tombstone, true);
    off += 4;

    const o = lens[j++] as number;
    view.setUint16(off, o, true);
    writeUtf8(out, off + 2, p.origin, o);
    off += 2 + o;
  }
  return out;
}

function truncated(off: number, need: number, len: number, i: number, what: string): PointsDecodeError {
  return new PointsDecodeError(
    `cannot decode points: truncated reading ${what} of point ${i} at byte ${off} ` +
      `(needs ${need} bytes, ${len - off} left); the message is incomplete or not binary points`,
    off,
  );
}

function readString(buf: Uint8Array, off: number, n: number, i: number, what: string): string {
  try {
    return readUtf8(buf, off, off + n);
  } catch (err) {
    throw new PointsDecodeError(
      `cannot decode points: ${what} of point ${i} at byte ${off} is not valid UTF-8; the sender wrote corrupt data`,
      off,
      { cause: err },
    );
  }
}

/** Decodes SIOT binary `Points`. Throws PointsDecodeError (never anything
 * else) on a count above MAX_POINTS, truncation, trailing bytes or invalid
 * UTF-8. An empty key comes back as "0". */
export function decodePoints(buf: Uint8Array): Point[] {
  const len = buf.byteLength;
  if (len < 4) {
    throw new PointsDecodeError(
      `cannot decode points: the message is ${len} bytes, too short for the 4-byte point count`,
      0,
    );
  }
  const view = new DataView(buf.buffer, buf.byteOffset, len);
  const count = view.getUint32(0, true);
  if (count > MAX_POINTS) {
    throw new PointsDecodeError(
      `cannot decode points: count ${count} exceeds the limit of ${MAX_POINTS}; the message is corrupt or not binary points`,
      0,
    );
  }
  const points: Point[] = [];
  let off = 4;
  for (let i = 0; i < count; i++) {
    if (off + 2 > len) throw truncated(off, 2, len, i, 'the type length');
    const tn = view.getUint16(off, true);
    off += 2;
    if (off + tn > len) throw truncated(off, tn, len, i, 'the type');
    const type = readString(buf, off, tn, i, 'the type');
    off += tn;

    if (off + 2 > len) throw truncated(off, 2, len, i, 'the key length');
    const kn = view.getUint16(off, true);
    off += 2;
    if (off + kn > len) throw truncated(off, kn, len, i, 'the key');
    const key = normalizeKey(readString(buf, off, kn, i, 'the key'));
    off += kn;

    if (off + 9 > len) throw truncated(off, 9, len, i, 'the time and dataType');
    const time = view.getBigInt64(off, true);
    const dataType = view.getUint8(off + 8);
    off += 9;

    if (off + 2 > len) throw truncated(off, 2, len, i, 'the data length');
    const dn = view.getUint16(off, true);
    off += 2;
    if (off + dn > len) throw truncated(off, dn, len, i, 'the data');
    // Copy rather than view: decoded points live on in caches, and a view
    // would pin the whole input (often a large batch buffer owned by the NATS
    // client, which may also reuse it). Data fields are small, so the copy is cheap.
    const data = new Uint8Array(dn);
    if (dn <= SMALL_COPY) {
      for (let j = 0; j < dn; j++) data[j] = buf[off + j] as number;
    } else {
      data.set(buf.subarray(off, off + dn));
    }
    off += dn;

    if (off + 4 > len) throw truncated(off, 4, len, i, 'the tombstone');
    const tombstone = view.getInt32(off, true);
    off += 4;

    if (off + 2 > len) throw truncated(off, 2, len, i, 'the origin length');
    const on = view.getUint16(off, true);
    off += 2;
    if (off + on > len) throw truncated(off, on, len, i, 'the origin');
    const origin = readString(buf, off, on, i, 'the origin');
    off += on;

    points.push({ type, key, time, dataType, data, tombstone, origin });
  }
  if (off !== len) {
    throw new PointsDecodeError(
      `cannot decode points: ${len - off} unexpected bytes after the last of ${count} points at byte ${off}; ` +
        'the message is corrupt or not binary points',
      off,
    );
  }
  return points;
}
