// Typed views of `Point.data` (DESIGN.md §2): float64 written, float32 also
// read; int64 written, 1/2/4/8-byte widths read sign-extended (other SIOT
// writers use the smallest width that fits).

import { normalizeKey } from './codec.ts';
import { SiotError } from './errors.ts';
import { DataType } from './types.ts';
import type { Point } from './types.ts';
import { encodeUtf8 } from './utf8.ts';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const NS_PER_MS = 1_000_000n;

const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface PointOptions {
  /** Defaults to "0". */
  key?: string;
  /** Nanoseconds since the epoch; defaults to `nowNs()`. */
  time?: bigint;
  /** Defaults to 0 (not deleted). */
  tombstone?: number;
  /** Defaults to "" (written by the owning node). */
  origin?: string;
}

let lastNow = 0n;

/** Current time in ns since the epoch. Successive calls in this process are
 * strictly increasing (bumped by 1 ns when the millisecond clock has not
 * moved or went back), so two writes of one point never tie on time and the
 * later one always wins the merge. */
export function nowNs(): bigint {
  const t = BigInt(Date.now()) * NS_PER_MS;
  lastNow = t > lastNow ? t : lastNow + 1n;
  return lastNow;
}

/** ns since the epoch → Date (floored to the millisecond, also for negative times). */
export function timeToDate(ns: bigint): Date {
  let ms = ns / NS_PER_MS;
  if (ns < 0n && ms * NS_PER_MS !== ns) ms -= 1n;
  return new Date(Number(ms));
}

/** Date → ns since the epoch. */
export function dateToTime(d: Date): bigint {
  const ms = d.getTime();
  if (Number.isNaN(ms)) {
    throw new SiotError('bad-point', 'cannot convert an invalid Date to a point time; pass a valid Date');
  }
  const ns = BigInt(ms) * NS_PER_MS;
  if (ns < INT64_MIN || ns > INT64_MAX) {
    throw new SiotError(
      'bad-point',
      `cannot convert ${d.toISOString()} to a point time: it is outside the int64 nanosecond range (years 1677..2262)`,
    );
  }
  return ns;
}

/** Odd tombstone means deleted (SIOT convention). */
export function isDeleted(p: Point): boolean {
  return (p.tombstone & 1) === 1;
}

// ---- encoders -------------------------------------------------------------

export function floatData(n: number): Uint8Array {
  if (typeof n !== 'number') {
    throw new SiotError('bad-point', `float data must be a number, got ${typeof n}`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, n, true);
  return out;
}

/** 8-byte int64 LE. A number must be a safe integer, so no value is silently rounded. */
export function intData(n: number | bigint): Uint8Array {
  let v: bigint;
  if (typeof n === 'bigint') {
    v = n;
  } else if (Number.isSafeInteger(n)) {
    v = BigInt(n);
  } else {
    throw new SiotError(
      'bad-point',
      `int data ${String(n)} is not a safe integer; pass a bigint for values beyond ±2^53 or use floatData`,
    );
  }
  if (v < INT64_MIN || v > INT64_MAX) {
    throw new SiotError('bad-point', `int data ${v} is outside the int64 range`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, true);
  return out;
}

/** UTF-8; a lone surrogate becomes U+FFFD, as with any TextEncoder. */
export function stringData(s: string): Uint8Array {
  return encodeUtf8(s);
}

export function jsonData(v: unknown): Uint8Array {
  const text = JSON.stringify(v);
  if (text === undefined) {
    throw new SiotError('bad-point', `cannot encode ${typeof v} as JSON point data; pass a JSON-serializable value`);
  }
  return encodeUtf8(text);
}

// ---- readers --------------------------------------------------------------

function expectType(p: Point, want: number, name: string): void {
  if (p.dataType !== want) {
    throw new SiotError(
      'bad-point',
      `point "${p.type}" key "${p.key}" has dataType ${p.dataType}, not ${want} (${name}); read it with the matching reader or pointValue`,
    );
  }
}

function viewOf(p: Point): DataView {
  return new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
}

function badWidth(p: Point, name: string, widths: string): SiotError {
  return new SiotError(
    'bad-point',
    `point "${p.type}" key "${p.key}" has ${p.data.byteLength} bytes of ${name} data; expected ${widths} bytes — the writer sent corrupt data`,
  );
}

export function pointFloat(p: Point): number {
  expectType(p, DataType.Float, 'float');
  switch (p.data.byteLength) {
    case 8:
      return viewOf(p).getFloat64(0, true);
    case 4:
      return viewOf(p).getFloat32(0, true);
    default:
      throw badWidth(p, 'float', '8 or 4');
  }
}

/** Sign-extended int of width 1, 2, 4 or 8 bytes. */
export function pointInt(p: Point): bigint {
  expectType(p, DataType.Int, 'int');
  switch (p.data.byteLength) {
    case 8:
      return viewOf(p).getBigInt64(0, true);
    case 4:
      return BigInt(viewOf(p).getInt32(0, true));
    case 2:
      return BigInt(viewOf(p).getInt16(0, true));
    case 1:
      return BigInt(viewOf(p).getInt8(0));
    default:
      throw badWidth(p, 'int', '1, 2, 4 or 8');
  }
}

/** `pointInt` as a number; throws rather than round beyond ±2^53. */
export function pointIntNumber(p: Point): number {
  const v = pointInt(p);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    throw new SiotError(
      'bad-point',
      `point "${p.type}" key "${p.key}" holds ${v}, which is not a safe integer; read it with pointInt`,
    );
  }
  return n;
}

function text(p: Point, name: string): string {
  try {
    return strictDecoder.decode(p.data);
  } catch (err) {
    throw new SiotError(
      'bad-point',
      `point "${p.type}" key "${p.key}" has ${name} data that is not valid UTF-8; the writer sent corrupt data`,
      { cause: err },
    );
  }
}

export function pointString(p: Point): string {
  expectType(p, DataType.String, 'string');
  return text(p, 'string');
}

export function pointJSON(p: Point): unknown {
  expectType(p, DataType.JSON, 'JSON');
  const t = text(p, 'JSON');
  try {
    return JSON.parse(t) as unknown;
  } catch (err) {
    throw new SiotError(
      'bad-point',
      `point "${p.type}" key "${p.key}" has JSON data that does not parse; the writer sent corrupt data`,
      { cause: err },
    );
  }
}

/** The value by dataType: Float → number, Int → bigint, String → string,
 * JSON → parsed value, anything else → the raw `data` bytes (so points of
 * newer types still pass through). */
export function pointValue(p: Point): unknown {
  switch (p.dataType) {
    case DataType.Float:
      return pointFloat(p);
    case DataType.Int:
      return pointInt(p);
    case DataType.String:
      return pointString(p);
    case DataType.JSON:
      return pointJSON(p);
    default:
      return p.data;
  }
}

// ---- constructors ---------------------------------------------------------

function make(type: string, dataType: number, data: Uint8Array, opts: PointOptions | undefined): Point {
  return {
    type,
    key: normalizeKey(opts?.key ?? ''),
    time: opts?.time ?? nowNs(),
    dataType,
    data,
    tombstone: opts?.tombstone ?? 0,
    origin: opts?.origin ?? '',
  };
}

export function floatPoint(type: string, value: number, opts?: PointOptions): Point {
  return make(type, DataType.Float, floatData(value), opts);
}

export function intPoint(type: string, value: number | bigint, opts?: PointOptions): Point {
  return make(type, DataType.Int, intData(value), opts);
}

export function stringPoint(type: string, value: string, opts?: PointOptions): Point {
  return make(type, DataType.String, stringData(value), opts);
}

export function jsonPoint(type: string, value: unknown, opts?: PointOptions): Point {
  return make(type, DataType.JSON, jsonData(value), opts);
}
