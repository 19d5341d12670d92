import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DataType,
  dateToTime,
  floatData,
  floatPoint,
  intData,
  intPoint,
  isDeleted,
  jsonData,
  jsonPoint,
  nowNs,
  pointFloat,
  pointInt,
  pointIntNumber,
  pointJSON,
  pointString,
  pointValue,
  SiotError,
  stringData,
  stringPoint,
  timeToDate,
} from '../../../app/siot/index.ts';
import type { Point } from '../../../app/siot/index.ts';

function raw(dataType: number, bytes: number[]): Point {
  return { type: 't', key: '0', time: 1n, dataType, data: new Uint8Array(bytes), tombstone: 0, origin: '' };
}

function badPoint(fn: () => unknown, msg: RegExp): void {
  try {
    fn();
    expect.unreachable('should have thrown');
  } catch (err) {
    expect(err).toBeInstanceOf(SiotError);
    expect((err as SiotError).code).toBe('bad-point');
    expect((err as Error).message).toMatch(msg);
  }
}

describe('float', () => {
  it('writes 8-byte float64 LE', () => {
    expect(floatData(1.5)).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0xf8, 0x3f]));
  });
  it('reads float64 and float32', () => {
    expect(pointFloat(raw(DataType.Float, [0, 0, 0, 0, 0, 0, 0xf8, 0x3f]))).toBe(1.5);
    expect(pointFloat(raw(DataType.Float, [0, 0, 0xc0, 0xbf]))).toBe(-1.5);
  });
  it('round-trips any double, NaN included', () => {
    fc.assert(fc.property(fc.double(), (n) => Object.is(pointFloat(floatPoint('v', n)), n)));
  });
  it('rejects other widths', () => {
    badPoint(() => pointFloat(raw(DataType.Float, [1, 2])), /2 bytes of float data; expected 8 or 4/);
    badPoint(() => pointFloat(raw(DataType.Float, [])), /0 bytes/);
  });
});

describe('int', () => {
  it('writes 8-byte int64 LE', () => {
    expect(intData(-2)).toEqual(new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(intData(0x0102n)).toEqual(new Uint8Array([2, 1, 0, 0, 0, 0, 0, 0]));
  });
  it('reads widths 1, 2, 4 and 8 sign-extended', () => {
    expect(pointInt(raw(DataType.Int, [0xff]))).toBe(-1n);
    expect(pointInt(raw(DataType.Int, [0x7f]))).toBe(127n);
    expect(pointInt(raw(DataType.Int, [0x00, 0x80]))).toBe(-32768n);
    expect(pointInt(raw(DataType.Int, [0xfe, 0xff]))).toBe(-2n);
    expect(pointInt(raw(DataType.Int, [0xff, 0xff, 0xff, 0xff]))).toBe(-1n);
    expect(pointInt(raw(DataType.Int, [0x01, 0x00, 0x00, 0x80]))).toBe(-2147483647n);
    expect(pointInt(raw(DataType.Int, [0, 0, 0, 0, 0, 0, 0, 0x80]))).toBe(-(1n << 63n));
    expect(pointIntNumber(raw(DataType.Int, [0xff]))).toBe(-1);
  });
  it('rejects widths 3 and 0', () => {
    badPoint(() => pointInt(raw(DataType.Int, [1, 2, 3])), /3 bytes of int data; expected 1, 2, 4 or 8/);
    badPoint(() => pointInt(raw(DataType.Int, [])), /0 bytes of int data/);
  });
  it('round-trips int64 bigints and safe numbers', () => {
    fc.assert(fc.property(fc.bigInt(-(1n << 63n), (1n << 63n) - 1n), (v) => pointInt(intPoint('v', v)) === v));
    fc.assert(fc.property(fc.maxSafeInteger(), (v) => pointIntNumber(intPoint('v', v)) === v));
  });
  it('rejects unsafe numbers and out-of-range bigints on write', () => {
    badPoint(() => intData(2 ** 53), /not a safe integer/);
    badPoint(() => intData(1.5), /not a safe integer/);
    badPoint(() => intData(1n << 63n), /outside the int64 range/);
  });
  it('pointIntNumber refuses values beyond 2^53', () => {
    badPoint(() => pointIntNumber(intPoint('v', 1n << 60n)), /not a safe integer; read it with pointInt/);
  });
});

describe('string and JSON', () => {
  it('round-trips strings as UTF-8', () => {
    expect(stringData('hé')).toEqual(new Uint8Array([0x68, 0xc3, 0xa9]));
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => pointString(stringPoint('v', s)) === s));
  });
  it('round-trips JSON values', () => {
    expect(new TextDecoder().decode(jsonData({ a: [1, 'x'] }))).toBe('{"a":[1,"x"]}');
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(pointJSON(jsonPoint('v', v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
  it('rejects invalid UTF-8, unparseable JSON and unserializable values', () => {
    badPoint(() => pointString(raw(DataType.String, [0xff])), /not valid UTF-8/);
    badPoint(() => pointJSON(raw(DataType.JSON, [0x7b])), /does not parse/);
    badPoint(() => jsonData(undefined), /cannot encode undefined as JSON/);
  });
});

describe('dataType checks and pointValue', () => {
  it('readers reject the wrong dataType', () => {
    badPoint(() => pointFloat(intPoint('v', 1)), /dataType 2, not 1 \(float\)/);
    badPoint(() => pointInt(floatPoint('v', 1)), /dataType 1, not 2 \(int\)/);
    badPoint(() => pointString(floatPoint('v', 1)), /not 3 \(string\)/);
    badPoint(() => pointJSON(stringPoint('v', '1')), /not 4 \(JSON\)/);
  });
  it('pointValue dispatches on dataType', () => {
    expect(pointValue(floatPoint('v', 2.5))).toBe(2.5);
    expect(pointValue(intPoint('v', 7))).toBe(7n);
    expect(pointValue(stringPoint('v', 's'))).toBe('s');
    expect(pointValue(jsonPoint('v', { a: 1 }))).toEqual({ a: 1 });
    const unknown = raw(9, [1, 2]);
    expect(pointValue(unknown)).toBe(unknown.data);
  });
});

describe('constructors, tombstones and time', () => {
  it('fills defaults and normalizes the key', () => {
    const before = nowNs();
    const p = floatPoint('value', 1);
    expect(p).toMatchObject({ type: 'value', key: '0', dataType: DataType.Float, tombstone: 0, origin: '' });
    expect(p.time).toBeGreaterThan(before);
    const q = stringPoint('name', 'x', { key: '', time: 5n, tombstone: 1, origin: 'me' });
    expect(q).toMatchObject({ key: '0', time: 5n, tombstone: 1, origin: 'me' });
  });
  it('isDeleted is true for odd tombstones, negative ones included', () => {
    expect(isDeleted(raw(0, []))).toBe(false);
    expect(isDeleted({ ...raw(0, []), tombstone: 1 })).toBe(true);
    expect(isDeleted({ ...raw(0, []), tombstone: 2 })).toBe(false);
    expect(isDeleted({ ...raw(0, []), tombstone: -1 })).toBe(true);
    expect(isDeleted({ ...raw(0, []), tombstone: -2 })).toBe(false);
  });
  it('nowNs is strictly increasing', () => {
    let last = nowNs();
    let ties = 0;
    for (let i = 0; i < 100_000; i++) {
      const t = nowNs();
      if (t <= last) ties++;
      last = t;
    }
    expect(ties).toBe(0);
    expect(last - BigInt(Date.now()) * 1_000_000n).toBeLessThan(1_000_000_000n);
  });
  it('converts between Date and ns, flooring negative times', () => {
    const d = new Date('2024-05-01T12:34:56.789Z');
    expect(dateToTime(d)).toBe(BigInt(d.getTime()) * 1_000_000n);
    expect(timeToDate(dateToTime(d) + 999_999n).getTime()).toBe(d.getTime());
    expect(timeToDate(-1n).getTime()).toBe(-1);
    expect(timeToDate(-1_000_000n).getTime()).toBe(-1);
    expect(timeToDate(-1_000_001n).getTime()).toBe(-2);
    badPoint(() => dateToTime(new Date(NaN)), /invalid Date/);
    badPoint(() => dateToTime(new Date(8.64e15)), /outside the int64 nanosecond range/);
  });
});
