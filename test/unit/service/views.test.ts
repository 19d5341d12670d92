import { describe, expect, it } from 'vitest';
import { ClientError, type PointInput } from '../../../app/client/index.ts';
import { displayValue, nodeView, pointFromInput, toUiPoint, treeSnapshot, type StateView } from '../../../app/service/views.ts';
import {
  DataType,
  checkPointTokens,
  floatPoint,
  intPoint,
  jsonPoint,
  pointFloat,
  pointInt,
  pointJSON,
  pointString,
  stringPoint,
  type OriginPoint,
  type Point,
} from '../../../app/siot/index.ts';

const T = 1_700_000_000_123_456_789n;

function ok(input: PointInput, edge = false): Point {
  return pointFromInput(input, T, 'lap', edge);
}

function refused(input: unknown, re: RegExp, edge = false): void {
  let err: unknown;
  try {
    pointFromInput(input as PointInput, T, 'lap', edge);
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${JSON.stringify(input)} to be refused`).toBeInstanceOf(ClientError);
  expect((err as Error).message).toMatch(re);
}

describe('pointFromInput', () => {
  it('float: from a number or numeric text, with time, origin and key "0"', () => {
    const p = ok({ type: 'pollPeriod', value: 2.5 });
    expect(p).toMatchObject({ type: 'pollPeriod', key: '0', time: T, origin: 'lap', tombstone: 0, dataType: DataType.Float });
    expect(pointFloat(p)).toBe(2.5);
    expect(pointFloat(ok({ type: 'x', value: ' 1e3 ', kind: 'float' }))).toBe(1000);
    expect(pointFloat(ok({ type: 'x', value: -0.25 }))).toBe(-0.25);
  });

  it('float: text that is not a number, empty text and non-finite numbers are refused', () => {
    refused({ type: 'x', value: 'abc', kind: 'float' }, /"abc" is not a number/);
    refused({ type: 'x', value: '', kind: 'float' }, /is not a number/);
    refused({ type: 'x', value: '   ', kind: 'float' }, /is not a number/);
    refused({ type: 'x', value: Number.NaN }, /is not a number/);
    refused({ type: 'x', value: Number.POSITIVE_INFINITY }, /is not a number/);
    refused({ type: 'x', value: 'Infinity', kind: 'float' }, /is not a number/);
  });

  it('int: whole numbers across the full int64 range, exactly', () => {
    expect(pointInt(ok({ type: 'x', value: '42', kind: 'int' }))).toBe(42n);
    expect(pointInt(ok({ type: 'x', value: -7, kind: 'int' }))).toBe(-7n);
    expect(pointInt(ok({ type: 'x', value: ' 9223372036854775807 ', kind: 'int' }))).toBe((1n << 63n) - 1n);
    expect(pointInt(ok({ type: 'x', value: '-9223372036854775808', kind: 'int' }))).toBe(-(1n << 63n));
    expect(pointInt(ok({ type: 'x', value: '9007199254740993', kind: 'int' }))).toBe(9007199254740993n);
  });

  it('int: 2^63 and beyond, fractions and text are refused', () => {
    refused({ type: 'x', value: '9223372036854775808', kind: 'int' }, /does not fit in 64 bits/);
    refused({ type: 'x', value: '-9223372036854775809', kind: 'int' }, /does not fit in 64 bits/);
    refused({ type: 'x', value: '1.5', kind: 'int' }, /"1.5" is not a whole number/);
    refused({ type: 'x', value: 1.5, kind: 'int' }, /not a whole number/);
    refused({ type: 'x', value: 1e21, kind: 'int' }, /not a whole number/);
    refused({ type: 'x', value: 'ten', kind: 'int' }, /not a whole number/);
    refused({ type: 'x', value: '', kind: 'int' }, /not a whole number/);
  });

  it('string: text by default; a number as text is refused', () => {
    const p = ok({ type: 'description', value: 'Pump A ✓' });
    expect(p.dataType).toBe(DataType.String);
    expect(pointString(p)).toBe('Pump A ✓');
    expect(pointString(ok({ type: 'description', value: '' }))).toBe('');
    refused({ type: 'x', value: 5, kind: 'string' }, /text value expected/);
  });

  it('json: text parsed; invalid JSON refused with the reason', () => {
    const p = ok({ type: 'cfg', value: '{"a":[1,2]}', kind: 'json' });
    expect(p.dataType).toBe(DataType.JSON);
    expect(pointJSON(p)).toEqual({ a: [1, 2] });
    expect(pointJSON(ok({ type: 'cfg', value: '"hi"', kind: 'json' }))).toBe('hi');
    expect(pointJSON(ok({ type: 'cfg', value: 3, kind: 'json' }))).toBe(3);
    refused({ type: 'cfg', value: '{a:1}', kind: 'json' }, /not valid JSON/);
    refused({ type: 'cfg', value: 'hi', kind: 'json' }, /not valid JSON/);
  });

  it('an unknown kind, a missing or empty type, a non-text key, a non-object are refused', () => {
    refused({ type: 'x', value: 1, kind: 'unknown' }, /unknown value kind/);
    refused({ type: 'x', value: 1, kind: 'bool' }, /unknown value kind bool/);
    refused({ type: '', value: 1 }, /needs a type/);
    refused({ value: 1 }, /needs a type/);
    refused({ type: 5, value: 1 }, /needs a type/);
    refused({ type: 'x', key: 5, value: 1 }, /key must be text/);
    refused({ type: 'x', key: null, value: 1 }, /key must be text/);
    refused(null, /must be an object/);
    refused('x', /must be an object/);
  });

  it('key: empty and missing become "0", others are kept', () => {
    expect(ok({ type: 'x', value: 1, key: '' }).key).toBe('0');
    expect(ok({ type: 'x', value: 1, key: 'ch2' }).key).toBe('ch2');
  });

  it('tokens with spaces, dots or wildcards are refused, as the siot layer refuses them', () => {
    for (const bad of ['a b', 'a.b', '*', '>', 'a*', 'tab\there', 'nl\n', 'nbsp\u00a0']) {
      // What the siot layer (and so the store) refuses...
      expect(() => checkPointTokens(stringPoint(bad, 'v'))).toThrow(/point type/);
      expect(() => checkPointTokens(stringPoint('t', 'v', { key: bad }))).toThrow(/point key/);
      // ...is refused here as a ClientError naming the point.
      refused({ type: bad, value: 1 }, /point type/);
      refused({ type: 't', key: bad, value: 1 }, /^point t\.[\s\S]*point key/);
    }
    // Other punctuation passes both.
    expect(() => checkPointTokens(stringPoint('a-b_c:d', 'v', { key: 'x/y' }))).not.toThrow();
    expect(ok({ type: 'a-b_c:d', key: 'x/y', value: 1 }).type).toBe('a-b_c:d');
  });

  it('tombstone: 0 or 1 only', () => {
    expect(ok({ type: 'x', value: 1, tombstone: 1 }).tombstone).toBe(1);
    expect(ok({ type: 'x', value: 1, tombstone: 0 }).tombstone).toBe(0);
    refused({ type: 'x', value: 1, tombstone: -1 }, /tombstone must be 0 or 1/);
    refused({ type: 'x', value: 1, tombstone: 0.5 }, /tombstone must be 0 or 1/);
    // Beyond int32 the codec could not even encode it.
    refused({ type: 'x', value: 1, tombstone: 2 ** 31 }, /tombstone must be 0 or 1/);
    refused({ type: 'x', value: 1, tombstone: 2 }, /tombstone must be 0 or 1/);
  });

  it('the nodeType edge point is refused; other edge points (tombstone) are allowed; nodeType as a node point is fine', () => {
    refused({ type: 'nodeType', value: 'signal' }, /managed by the app/, true);
    expect(ok({ type: 'tombstone', value: 1 }, true).type).toBe('tombstone');
    expect(ok({ type: 'nodeType', value: 'x' }, false).type).toBe('nodeType');
  });
});

describe('displayValue', () => {
  const corrupt = (dataType: number, data: number[]): Point => ({ type: 'value', key: '0', time: T, dataType, data: Uint8Array.from(data), tombstone: 0, origin: '' });

  it('a float with the wrong data length gives the ⚠ text, not an exception', () => {
    const v = displayValue(corrupt(DataType.Float, [1, 2, 3]));
    expect(typeof v).toBe('string');
    expect(v).toMatch(/^⚠ unreadable float \(010203\): .*3 bytes/);
  });

  it('other corrupt data: bad int width, invalid UTF-8, JSON that does not parse', () => {
    expect(displayValue(corrupt(DataType.Int, [1, 2, 3]))).toMatch(/^⚠ unreadable int/);
    expect(displayValue(corrupt(DataType.String, [0xff, 0xfe]))).toMatch(/^⚠ unreadable string \(fffe\)/);
    expect(displayValue(corrupt(DataType.JSON, [0x7b]))).toMatch(/^⚠ unreadable json/);
    // Long data is cut in the message.
    expect(String(displayValue(corrupt(DataType.Float, Array.from({ length: 40 }, () => 0xab))))).toContain(`(${'ab'.repeat(16)})`);
  });

  it('values by type: numbers, text, hex for unknown types', () => {
    expect(displayValue(floatPoint('v', 1.25))).toBe(1.25);
    expect(displayValue(intPoint('v', -3))).toBe(-3);
    expect(displayValue(stringPoint('v', 'on'))).toBe('on');
    expect(displayValue(corrupt(9, [0, 15, 255]))).toBe('000fff');
  });

  it('an int beyond ±2^53 keeps its exact digits (as text) instead of rounding', () => {
    expect(displayValue(intPoint('v', 9007199254740993n))).toBe('9007199254740993');
    expect(displayValue(intPoint('v', -(1n << 63n)))).toBe('-9223372036854775808');
    expect(displayValue(intPoint('v', 9007199254740991n))).toBe(9007199254740991);
  });

  it('JSON values are shown as their text, so an edit of the shown text parses again', () => {
    expect(displayValue(jsonPoint('cfg', { a: 1 }))).toBe('{"a":1}');
    const s = displayValue(jsonPoint('cfg', 'hi'));
    expect(s).toBe('"hi"');
    // Round trip: what is shown, written back as json, is the same value.
    expect(pointJSON(pointFromInput({ type: 'cfg', value: s, kind: 'json' }, T, 'lap'))).toBe('hi');
    expect(displayValue(jsonPoint('cfg', 3))).toBe('3');
  });
});

describe('toUiPoint', () => {
  it('carries time as exact ns text and as ms, kind, origin and instance', () => {
    const u = toUiPoint({ point: floatPoint('value', 2, { time: T, origin: 'ui', key: 'a' }), instance: 'dev' });
    expect(u).toEqual({ type: 'value', key: 'a', time: '1700000000123456789', timeMs: 1_700_000_000_123, kind: 'float', value: 2, tombstone: 0, origin: 'ui', instance: 'dev' });
    expect(toUiPoint({ point: { ...stringPoint('x', 'y'), dataType: 7 }, instance: 'i' }).kind).toBe('unknown');
  });
});

class FakeState implements StateView {
  readonly nodes = new Map<string, OriginPoint[]>();
  readonly edges = new Map<string, { points: OriginPoint[]; type: string; deleted: boolean }>();

  add(id: string, parent: string | undefined, type: string, description: string, deleted = false): this {
    this.nodes.set(id, [{ point: stringPoint('description', description, { time: T }), instance: 'dev' }]);
    if (parent !== undefined) this.edges.set(`${id}|${parent}`, { type, deleted, points: [{ point: stringPoint('nodeType', type, { time: T }), instance: 'dev' }] });
    return this;
  }
  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }
  parentsOf(id: string, includeDeleted = false): string[] {
    return [...this.edges.entries()].filter(([k, e]) => k.startsWith(`${id}|`) && (includeDeleted || !e.deleted)).map(([k]) => k.slice(id.length + 1));
  }
  nodePoints(id: string): OriginPoint[] {
    return this.nodes.get(id) ?? [];
  }
  edgePoints(id: string, parent: string): OriginPoint[] {
    return this.edges.get(`${id}|${parent}`)?.points ?? [];
  }
  nodeType(id: string, parent?: string): string {
    return parent === undefined ? '' : (this.edges.get(`${id}|${parent}`)?.type ?? '');
  }
  isEdgeDeleted(id: string, parent: string): boolean {
    // Like the store: an edge we do not hold counts as deleted.
    return this.edges.get(`${id}|${parent}`)?.deleted ?? true;
  }
  boundaryOf(id: string, instanceRoot: string): string {
    return id === 'lap' ? instanceRoot : 'dev';
  }
}

describe('treeSnapshot', () => {
  it('one entry per node and parent, deleted edges included and marked, edgeless nodes at the top', () => {
    const st = new FakeState()
      .add('lap', 'root', 'device', 'Laptop')
      .add('dev', 'root', 'device', 'Device')
      .add('in1', 'dev', 'signal', 'Input 1')
      .add('old', 'dev', 'signal', 'Old', true)
      .add('loose', undefined, '', 'No edge yet');
    st.add('in1', 'lap', 'signal', 'Input 1'); // a second parent
    const s = treeSnapshot(st, 'lap');
    expect(s.rootId).toBe('lap');
    const key = s.nodes.map((n) => `${n.parent}/${n.id}`).sort();
    expect(key).toEqual(['dev/in1', 'dev/old', 'lap/in1', 'root/dev', 'root/lap', 'root/loose']);
    const byKey = new Map(s.nodes.map((n) => [`${n.parent}/${n.id}`, n]));
    expect(byKey.get('dev/old')?.deleted).toBe(true);
    expect(byKey.get('dev/in1')).toMatchObject({ type: 'signal', deleted: false, boundary: 'dev' });
    expect(byKey.get('dev/in1')?.points.map((p) => [p.type, p.value])).toEqual([['description', 'Input 1']]);
    expect(byKey.get('dev/in1')?.edgePoints.map((p) => [p.type, p.value])).toEqual([['nodeType', 'signal']]);
    // Under the root nothing is "deleted", even where the store has no edge.
    expect(byKey.get('root/loose')).toMatchObject({ deleted: false, type: '', edgePoints: [] });
    expect(byKey.get('root/lap')?.boundary).toBe('lap');
    // Plain JSON: survives a JSON round trip unchanged (no bigint, no bytes).
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('nodeView of one node under one parent', () => {
    const st = new FakeState().add('dev', 'root', 'device', 'Device').add('in1', 'dev', 'signal', 'Input 1');
    expect(nodeView(st, 'in1', 'dev', 'lap')).toMatchObject({ id: 'in1', parent: 'dev', type: 'signal', boundary: 'dev', deleted: false });
    expect(nodeView(st, 'in1', 'elsewhere', 'lap').deleted).toBe(true);
  });
});
