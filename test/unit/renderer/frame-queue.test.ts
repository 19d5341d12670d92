import { describe, expect, it } from 'vitest';
import { FrameQueue } from '../../../renderer/src/lib/frame-queue.ts';

function setup() {
  const frames: Array<() => void> = [];
  const delivered: number[][] = [];
  const q = new FrameQueue<number>((items) => delivered.push(items), (cb) => frames.push(cb));
  const runFrame = () => {
    const f = frames.splice(0);
    for (const cb of f) cb();
  };
  return { q, frames, delivered, runFrame };
}

describe('FrameQueue', () => {
  it('batches many pushes into one delivery per scheduled frame', () => {
    const { q, frames, delivered, runFrame } = setup();
    for (let i = 0; i < 1000; i++) q.push(i);
    expect(frames).toHaveLength(1);
    expect(delivered).toEqual([]);
    runFrame();
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(q.stats).toEqual({ frames: 1, items: 1000, maxBatch: 1000 });
  });

  it('schedules again after a frame, and keeps push order across a multi-item push', () => {
    const { q, frames, delivered, runFrame } = setup();
    q.push(1, 2);
    q.push(3);
    runFrame();
    q.push(4);
    expect(frames).toHaveLength(1);
    q.push(5, 6, 7);
    runFrame();
    expect(delivered).toEqual([[1, 2, 3], [4, 5, 6, 7]]);
    expect(q.stats).toEqual({ frames: 2, items: 7, maxBatch: 4 });
  });

  it('an item pushed while delivering goes to the next frame', () => {
    const frames: Array<() => void> = [];
    const delivered: number[][] = [];
    const q: FrameQueue<number> = new FrameQueue<number>(
      (items) => {
        delivered.push(items);
        if (items[0] === 1) q.push(99);
      },
      (cb) => frames.push(cb),
    );
    q.push(1);
    frames.shift()?.();
    expect(delivered).toEqual([[1]]);
    expect(frames).toHaveLength(1);
    frames.shift()?.();
    expect(delivered).toEqual([[1], [99]]);
  });

  it('an explicit flush delivers now; the scheduled frame then has nothing to do', () => {
    const { q, delivered, runFrame } = setup();
    q.push(1);
    q.flush();
    expect(delivered).toEqual([[1]]);
    runFrame();
    expect(delivered).toEqual([[1]]);
    expect(q.stats.frames).toBe(1);
  });

  it('an empty frame delivers nothing and counts nothing', () => {
    const { q, delivered, runFrame } = setup();
    q.push();
    runFrame();
    expect(delivered).toEqual([]);
    expect(q.stats).toEqual({ frames: 0, items: 0, maxBatch: 0 });
  });

  it('defaults to requestAnimationFrame', () => {
    const calls: Array<() => void> = [];
    const g = globalThis as { requestAnimationFrame?: (cb: (t: number) => void) => number };
    const saved = g.requestAnimationFrame;
    g.requestAnimationFrame = (cb) => (calls.push(() => cb(0)), calls.length);
    try {
      const got: string[][] = [];
      const q = new FrameQueue<string>((i) => got.push(i));
      q.push('a');
      q.push('b');
      expect(calls).toHaveLength(1);
      calls[0]?.();
      expect(got).toEqual([['a', 'b']]);
    } finally {
      if (saved) g.requestAnimationFrame = saved;
      else delete g.requestAnimationFrame;
    }
  });
});
