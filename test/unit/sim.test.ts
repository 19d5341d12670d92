import { describe, expect, it } from 'vitest';
import { sample, signalFor } from '../../app/sim/index.ts';

describe('simulated signals', () => {
  it('stay within offset ± amplitude and follow their shape', () => {
    const sine = { kind: 'sine' as const, periodS: 40, amplitude: 10, offset: 20 };
    expect(sample(sine, 0, 0)).toBeCloseTo(20);
    expect(sample(sine, 10, 0)).toBeCloseTo(30);
    expect(sample(sine, 30, 0)).toBeCloseTo(10);
    const square = { kind: 'square' as const, periodS: 10, amplitude: 2, offset: 0 };
    expect([sample(square, 1, 0), sample(square, 6, 0)]).toEqual([2, -2]);
    const ramp = { kind: 'ramp' as const, periodS: 10, amplitude: 5, offset: 0 };
    expect(sample(ramp, 0, 0)).toBe(-5);
    expect(sample(ramp, 5, 0)).toBe(0);
    let v = 20;
    const walk = { kind: 'walk' as const, periodS: 1, amplitude: 10, offset: 20 };
    for (let i = 0; i < 10_000; i++) {
      v = sample(walk, i, v);
      expect(v).toBeGreaterThanOrEqual(10);
      expect(v).toBeLessThanOrEqual(30);
    }
  });

  it('gives every input a deterministic, varied signal', () => {
    expect(signalFor(0)).toEqual(signalFor(0));
    expect(new Set([0, 1, 2, 3].map((i) => signalFor(i).kind)).size).toBe(4);
  });
});
