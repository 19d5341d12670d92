import { afterEach, describe, expect, it, vi } from 'vitest';
import { Shaper } from '../../../app/link/shaper.ts';
import { ManualClock } from './helpers.ts';

function sink(clock: ManualClock) {
  const out: { t: number; data: Buffer }[] = [];
  return { out, write: (c: Buffer) => out.push({ t: clock.now(), data: Buffer.from(c) }), bytes: () => out.reduce((n, o) => n + o.data.length, 0) };
}
const seq = (n: number, from = 0) => Buffer.from(Array.from({ length: n }, (_, i) => (from + i) & 0xff));

describe('shaper', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes bytes straight through with no cap and no latency', () => {
    const clock = new ManualClock();
    const s = sink(clock);
    const sh = new Shaper(s.write, { clock });
    sh.write(seq(10));
    expect(s.bytes()).toBe(10);
    expect(sh.queuedBytes).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('caps throughput at the rate after an initial burst, in order', () => {
    const clock = new ManualClock();
    const s = sink(clock);
    // 8000 bit/s = 1000 bytes/s = 1 byte/ms; the default burst is 50 ms worth.
    const sh = new Shaper(s.write, { rateBps: 8000, clock });
    const data = seq(3050);
    for (let off = 0; off < data.length; off += 500) sh.write(data.subarray(off, off + 500));
    expect(s.bytes()).toBe(50);
    expect(sh.queuedBytes).toBe(3000);
    for (let t = 100; t <= 3000; t += 100) {
      clock.advance(100);
      // Never ahead of burst + rate × time, never behind it by more than a 10 ms piece.
      expect(s.bytes()).toBeLessThanOrEqual(50 + t);
      expect(s.bytes()).toBeGreaterThanOrEqual(50 + t - 10);
    }
    clock.advance(100);
    expect(s.bytes()).toBe(3050);
    expect(Buffer.concat(s.out.map((o) => o.data))).toEqual(data);
    expect(sh.queuedBytes).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('refills only up to the burst while idle', () => {
    const clock = new ManualClock();
    const s = sink(clock);
    const sh = new Shaper(s.write, { rateBps: 8000, burstBytes: 100, clock });
    clock.advance(10_000);
    sh.write(seq(1000));
    expect(s.bytes()).toBe(100);
    clock.advance(450);
    expect(s.bytes()).toBeLessThanOrEqual(550);
    expect(s.bytes()).toBeGreaterThanOrEqual(540);
  });

  it('adds latency to every byte without reordering', () => {
    const clock = new ManualClock();
    const s = sink(clock);
    const sh = new Shaper(s.write, { latencyMs: 100, clock });
    sh.write(seq(5, 0));
    clock.advance(30);
    sh.write(seq(5, 5));
    clock.advance(69);
    expect(s.out).toEqual([]);
    expect(sh.queuedBytes).toBe(10);
    clock.advance(1);
    expect(s.out.map((o) => [o.t, o.data.length])).toEqual([[100, 5]]);
    clock.advance(30);
    expect(s.out.map((o) => [o.t, o.data.length])).toEqual([
      [100, 5],
      [130, 5],
    ]);
    expect(Buffer.concat(s.out.map((o) => o.data))).toEqual(seq(10));
  });

  it('adds latency after the rate cap, like a slow link with a long path', () => {
    const clock = new ManualClock();
    const s = sink(clock);
    const sh = new Shaper(s.write, { rateBps: 8000, burstBytes: 10, latencyMs: 200, clock });
    sh.write(seq(110));
    clock.advance(199);
    expect(s.bytes()).toBe(0);
    clock.advance(1);
    expect(s.bytes()).toBe(10);
    clock.advance(100);
    expect(s.bytes()).toBe(110);
    expect(Buffer.concat(s.out.map((o) => o.data))).toEqual(seq(110));
  });

  it('resolves idle() when the queue empties, and stop() drops the queue and its timers', async () => {
    const clock = new ManualClock();
    const s = sink(clock);
    const sh = new Shaper(s.write, { rateBps: 8000, clock });
    await sh.idle();
    sh.write(seq(200));
    let idle = false;
    void sh.idle().then(() => (idle = true));
    clock.advance(200);
    await Promise.resolve();
    expect(idle).toBe(true);
    sh.write(seq(500));
    clock.advance(100);
    const before = s.bytes();
    sh.stop();
    expect(sh.queuedBytes).toBe(0);
    expect(clock.pending).toBe(0);
    sh.write(seq(10));
    clock.advance(1000);
    expect(s.bytes()).toBe(before);
    expect(sh.stopped).toBe(true);
  });

  it('runs on the system clock under fake timers', () => {
    vi.useFakeTimers({ now: 0 });
    const out: Buffer[] = [];
    const sh = new Shaper((c) => out.push(c), { rateBps: 80_000, latencyMs: 50 });
    sh.write(seq(2000));
    vi.advanceTimersByTime(49);
    expect(out).toEqual([]);
    vi.advanceTimersByTime(201);
    // 10 bytes/ms: the 500-byte burst plus 2000 bytes' worth needs ~150 ms after the 50 ms delay.
    expect(Buffer.concat(out)).toEqual(seq(2000));
    sh.stop();
  });

  it('rejects a negative or non-numeric rate and latency', () => {
    expect(() => new Shaper(() => {}, { rateBps: -1 })).toThrow(/rate must be a non-negative number of bits\/s/);
    expect(() => new Shaper(() => {}, { latencyMs: Number.NaN })).toThrow(/latency must be a non-negative number of ms/);
  });
});
