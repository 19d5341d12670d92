import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PointChangeView } from '../../../app/client/index.ts';
import { PointBatcher } from '../../../app/service/point-batcher.ts';

function change(nodeId: string, type: string, value: number, o: { key?: string; parentId?: string } = {}): PointChangeView {
  return {
    nodeId,
    ...(o.parentId !== undefined ? { parentId: o.parentId } : {}),
    point: { type, key: o.key ?? '0', time: String(value), timeMs: 0, kind: 'float', value, tombstone: 0, origin: '', instance: 'dev' },
  };
}

const brief = (cs: PointChangeView[]) => cs.map((c) => `${c.nodeId}${c.parentId !== undefined ? `^${c.parentId}` : ''}.${c.point.type}.${c.point.key}=${c.point.value}`);

describe('PointBatcher', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('one batch per interval, keeping the last change per node/parent/type/key, in order of last change', () => {
    const out: PointChangeView[][] = [];
    const b = new PointBatcher((c) => out.push(c), 50);
    b.add(change('a', 'value', 1));
    b.add(change('b', 'value', 1));
    b.add(change('a', 'value', 2)); // replaces a=1 and moves behind b
    b.add(change('a', 'value', 3, { key: '1' })); // other key: kept
    b.add(change('a', 'tombstone', 1, { parentId: 'p' })); // edge point: its own entry
    b.add(change('a', 'tombstone', 0, { parentId: 'q' })); // other parent: its own entry
    b.add(change('a', 'value', 9, { parentId: 'p' })); // edge "value" is not the node's "value"
    vi.advanceTimersByTime(49);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(out).toHaveLength(1);
    expect(brief(out[0] ?? [])).toEqual(['b.value.0=1', 'a.value.0=2', 'a.value.1=3', 'a^p.tombstone.0=1', 'a^q.tombstone.0=0', 'a^p.value.0=9']);
  });

  it('1,000 changes of 10 points in an interval become 10', () => {
    const out: PointChangeView[][] = [];
    const b = new PointBatcher((c) => out.push(c));
    for (let i = 0; i < 1000; i++) b.add(change(`n${i % 10}`, 'value', i));
    vi.advanceTimersByTime(50);
    expect(out).toHaveLength(1);
    expect(brief(out[0] ?? [])).toEqual(Array.from({ length: 10 }, (_, j) => `n${j}.value.0=${990 + j}`));
  });

  it('flush delivers now and cancels the timer; an empty flush delivers nothing', () => {
    const out: PointChangeView[][] = [];
    const b = new PointBatcher((c) => out.push(c), 50);
    b.flush();
    expect(out).toEqual([]);
    b.add(change('a', 'value', 1));
    b.flush();
    expect(out).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(out).toHaveLength(1);
    // The next change starts a new interval.
    b.add(change('a', 'value', 2));
    vi.advanceTimersByTime(50);
    expect(out.map(brief)).toEqual([['a.value.0=1'], ['a.value.0=2']]);
  });

  it('stop drops what is pending and delivers nothing later', () => {
    const out: PointChangeView[][] = [];
    const b = new PointBatcher((c) => out.push(c), 50);
    b.add(change('a', 'value', 1));
    b.stop();
    vi.advanceTimersByTime(1000);
    b.flush();
    expect(out).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
