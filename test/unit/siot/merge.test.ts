import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compareOriginPoints,
  compareUtf8,
  edgePointId,
  mergeAll,
  mergePoints,
  pickWinner,
  pointId,
  wins,
} from '../../../app/siot/index.ts';
import type { OriginPoint } from '../../../app/siot/index.ts';

function op(time: bigint, instance: string, value = 0): OriginPoint {
  return {
    point: { type: 'v', key: '0', time, dataType: 1, data: new Uint8Array([value]), tombstone: 0, origin: '' },
    instance,
  };
}

const INT64_MIN = -(1n << 63n);
const timeArb = fc.oneof(fc.bigInt(0n, 3n), fc.bigInt(INT64_MIN, (1n << 63n) - 1n));
const instanceArb = fc.oneof(fc.constantFrom('a', 'b', 'B', 'ab', '\uffff', '😀'), fc.string({ unit: 'binary', maxLength: 4 }));
const originArb = fc.record({ time: timeArb, instance: instanceArb }).map(({ time, instance }) => op(time, instance));
// Distinct (time, instance): with a duplicate the first one seen would
// legitimately stay, so the winner would depend on order by design.
const distinctList = fc.uniqueArray(originArb, {
  minLength: 1,
  maxLength: 12,
  selector: (o) => `${o.point.time}|${o.instance}`,
});

const enc = new TextEncoder();
function byteOrder(a: string, b: string): number {
  return Math.sign(Buffer.compare(enc.encode(a), enc.encode(b)));
}

describe('compareUtf8', () => {
  it('orders like Go: bytewise UTF-8, not UTF-16 units', () => {
    expect(compareUtf8('b', 'a')).toBeGreaterThan(0);
    expect(compareUtf8('ab', 'a')).toBeGreaterThan(0);
    expect(compareUtf8('Z', 'a')).toBeLessThan(0);
    expect(compareUtf8('a', 'a')).toBe(0);
    // U+FFFF is EF BF BF, U+1F600 is F0 9F 98 80: the emoji is greater in
    // UTF-8 although its first UTF-16 unit (0xD83D) is smaller.
    expect(compareUtf8('\uffff', '😀')).toBeLessThan(0);
    expect(compareUtf8('\ue000', '\ud7ff')).toBeGreaterThan(0);
  });
  it('agrees with Buffer.compare of the UTF-8 bytes', () => {
    const s = fc.string({ unit: 'binary', maxLength: 6 });
    fc.assert(
      fc.property(s, s, (a, b) => Math.sign(compareUtf8(a, b)) === byteOrder(a, b)),
      { numRuns: 5000 },
    );
    const near = fc.string({ unit: fc.constantFrom('a', '\ud7ff', '\ue000', '\uffff', '😀', '\u{10ffff}'), maxLength: 4 });
    fc.assert(fc.property(near, near, (a, b) => Math.sign(compareUtf8(a, b)) === byteOrder(a, b)));
  });
});

describe('merge rule', () => {
  it('newer time wins regardless of instance', () => {
    expect(wins(op(2n, 'a'), op(1n, 'z'))).toBe(true);
    expect(wins(op(1n, 'z'), op(2n, 'a'))).toBe(false);
    expect(compareOriginPoints(op(-1n, 'a'), op(-2n, 'b'))).toBe(1);
  });
  it('on equal time the bytewise greater instance wins', () => {
    expect(wins(op(5n, 'b'), op(5n, 'a'))).toBe(true);
    expect(wins(op(5n, 'a'), op(5n, 'b'))).toBe(false);
    expect(wins(op(5n, '😀'), op(5n, '\uffff'))).toBe(true);
    expect(wins(op(5n, 'a'), op(5n, 'Z'))).toBe(true);
  });
  it('identical (time, instance) is a no-op', () => {
    const cur = op(5n, 'a', 1);
    const inc = op(5n, 'a', 2);
    expect(compareOriginPoints(inc, cur)).toBe(0);
    expect(wins(inc, cur)).toBe(false);
    const m = new Map([['id', cur]]);
    expect(mergePoints(m, inc, 'id')).toBe(false);
    expect(m.get('id')).toBe(cur);
  });
  it('anything wins over nothing', () => {
    expect(wins(op(INT64_MIN, ''), undefined)).toBe(true);
    const m = new Map<string, OriginPoint>();
    expect(mergePoints(m, op(1n, 'a'), 'x')).toBe(true);
    expect(m.get('x')?.instance).toBe('a');
  });
  it('compareOriginPoints is antisymmetric', () => {
    fc.assert(
      fc.property(originArb, originArb, (a, b) => {
        expect(compareOriginPoints(a, b) + compareOriginPoints(b, a)).toBe(0);
      }),
    );
  });
});

describe('merge is order-independent', () => {
  it('any permutation yields the same winner (commutativity)', () => {
    fc.assert(
      fc.property(
        distinctList.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))),
        ([list, shuffled]) => {
          const m = new Map<string, OriginPoint>();
          for (const o of shuffled) mergePoints(m, o, 'id');
          expect(m.get('id')).toBe(pickWinner(list));
          expect(pickWinner(shuffled)).toBe(pickWinner(list));
        },
      ),
      { numRuns: 500 },
    );
  });
  it('merging partial merges yields the same winner (associativity)', () => {
    fc.assert(
      fc.property(distinctList, fc.nat(), (list, cut) => {
        const i = cut % (list.length + 1);
        const left = pickWinner(list.slice(0, i));
        const right = pickWinner(list.slice(i));
        const both = pickWinner([left, right].filter((x): x is OriginPoint => x !== undefined));
        expect(both).toBe(pickWinner(list));
      }),
      { numRuns: 500 },
    );
  });
  it('the winner beats every other candidate', () => {
    fc.assert(
      fc.property(distinctList, (list) => {
        const w = pickWinner(list)!;
        for (const o of list) if (o !== w) expect(compareOriginPoints(w, o)).toBeGreaterThan(0);
      }),
    );
  });
});

describe('ids and batch merge', () => {
  it('pointId treats "" and "0" as one key and does not collide across fields', () => {
    expect(pointId('n', 't', '')).toBe(pointId('n', 't', '0'));
    expect(pointId('n', 'ab', 'c')).not.toBe(pointId('n', 'a', 'bc'));
    expect(edgePointId('n', 'p', 't', '')).toBe(edgePointId('n', 'p', 't', '0'));
    expect(edgePointId('n', 'p', 't', 'k')).not.toBe(pointId('n', 'p', 't'));
  });
  it('mergeAll reports the ids whose winner changed', () => {
    const m = new Map<string, OriginPoint>([['x', op(5n, 'a')]]);
    const incoming = [
      { id: 'x', o: op(4n, 'z') },
      { id: 'y', o: op(1n, 'a') },
      { id: 'x', o: op(6n, 'a') },
    ];
    const byOp = new Map(incoming.map(({ id, o }) => [o, id]));
    const changed = mergeAll(
      m,
      incoming.map((i) => i.o),
      (o) => byOp.get(o)!,
    );
    expect([...changed].sort()).toEqual(['x', 'y']);
    expect(m.get('x')?.point.time).toBe(6n);
  });
});
