import { describe, expect, it } from 'vitest';
import { INITIAL_REQUEST_BYTES, LinkRate, MAX_REQUEST_BYTES, MIN_REQUEST_BYTES, PullWindow, REQUEST_SECONDS, inFlightBytes } from '../../../app/sync/window.ts';

describe('pull window sized to the link', () => {
  it('asks for a first guess, then for about two seconds of the measured rate, within bounds', () => {
    const rate = new LinkRate();
    expect(rate.requestBytes()).toBe(INITIAL_REQUEST_BYTES);
    rate.sample(5_000, 2_000); // 2.5 kB/s: 20 kbit/s uncompressed
    expect(rate.requestBytes()).toBe(Math.max(MIN_REQUEST_BYTES, 2_500 * REQUEST_SECONDS));
    // Loopback: grows at most 4-fold per sample, so one burst cannot make
    // the window run away, yet reaches the cap within a few samples.
    rate.sample(100_000_000, 1_000);
    expect(rate.requestBytes()).toBe(Math.max(MIN_REQUEST_BYTES, 2_500 * 2.5 * REQUEST_SECONDS));
    for (let k = 0; k < 10; k++) rate.sample(100_000_000, 1_000);
    expect(rate.requestBytes()).toBe(MAX_REQUEST_BYTES);
    expect(new LinkRate().drainMs(10_000)).toBeGreaterThan(5_000); // unknown rate: assume a slow link
  });

  it('measures the rate from deliveries during a backlog only', () => {
    const w = new PullWindow(new LinkRate());
    w.request(1_000, 30_000, 5_000, 0);
    let t = 0;
    // 250 B every 100 ms = 2.5 kB/s, for 3 s.
    for (let k = 1; k <= 30; k++) w.delivered(250, true, (t = k * 100));
    expect(w.rate.bytesPerSec).toBeCloseTo(2_500, -1);
    // Live messages after catching up say nothing about the link.
    for (let k = 1; k <= 30; k++) w.delivered(250, false, t + k * 10_000);
    expect(w.rate.bytesPerSec).toBeCloseTo(2_500, -1);
  });

  it('is not fooled by deliveries that arrive in bursts (a compressing leaf)', () => {
    const w = new PullWindow(new LinkRate());
    w.request(1_000, 30_000, 5_000, 0);
    // 16 kB at once every 2 s: 8 kB/s, though each burst takes no time.
    for (let burst = 1; burst <= 10; burst++) for (let k = 0; k < 80; k++) w.delivered(200, true, burst * 2_000);
    expect(w.rate.bytesPerSec).toBeGreaterThan(4_000);
    expect(w.rate.bytesPerSec).toBeLessThan(16_000);
  });

  it('ends a request normally on 409 Batch Completed, 409 Exceeds MaxBytes and 408, and fails on anything else', () => {
    const w = new PullWindow(new LinkRate());
    const body = w.request(1_000, 30_000, 5_000);
    expect(body).toMatchObject({ batch: 1_000, max_bytes: INITIAL_REQUEST_BYTES, expires: 30_000_000_000, idle_heartbeat: 5_000_000_000 });
    w.request(1_000, 30_000, 5_000);
    expect(w.requested).toBe(2_000);
    for (let k = 0; k < 40; k++) w.delivered(200, true);
    expect(w.status(409, 'Message Size Exceeds MaxBytes', 960)).toBe('ended');
    expect(w.requested).toBe(1_000);
    expect(w.open).toBe(1);
    expect(w.status(100, 'Idle Heartbeat', undefined)).toBe('heartbeat');
    for (let k = 0; k < 1_000; k++) w.delivered(200, true);
    expect(w.status(409, 'Batch Completed', 0)).toBe('ended');
    expect([w.requested, w.open]).toEqual([0, 0]);
    w.request(1_000, 30_000, 5_000);
    expect(w.status(408, 'Request Timeout', 1_000)).toBe('ended');
    expect(w.requested).toBe(0);
    expect(w.status(409, 'Consumer Deleted', undefined)).toBe('failed');
    // Without the unfilled count: a completed batch left nothing, an expiry everything.
    w.request(1_000, 30_000, 5_000);
    w.request(1_000, 30_000, 5_000);
    for (let k = 0; k < 1_000; k++) w.delivered(200, true);
    w.status(409, 'Batch Completed', undefined);
    expect(w.requested).toBe(1_000);
    w.status(408, 'Request Timeout', undefined);
    expect(w.requested).toBe(0);
  });

  it('grows a request that a single large message does not fit', () => {
    const w = new PullWindow(new LinkRate());
    w.request(1_000, 30_000, 5_000);
    w.status(409, 'Message Size Exceeds MaxBytes', 1_000);
    expect(w.request(1_000, 30_000, 5_000).max_bytes).toBe(2 * INITIAL_REQUEST_BYTES);
  });

  it('bounds the bytes on their way by the open requests and the source backlog', () => {
    const w = new PullWindow(new LinkRate());
    w.request(1_000, 30_000, 5_000);
    w.request(1_000, 30_000, 5_000);
    expect(inFlightBytes(w, 10_000, 200)).toBe(2 * INITIAL_REQUEST_BYTES);
    expect(inFlightBytes(w, 3, 200)).toBe(600);
    expect(inFlightBytes(w, 0, 200)).toBe(0);
  });
});
