/** Signal shapes a simulated input can follow; pure, so tests can sample them. */
export type SignalKind = 'sine' | 'ramp' | 'square' | 'walk';

export interface SignalSpec {
  kind: SignalKind;
  /** Seconds per cycle (sine, ramp, square). */
  periodS: number;
  amplitude: number;
  offset: number;
}

/** Value of a signal at time `tS` (seconds); `prev` feeds the random walk. */
export function sample(spec: SignalSpec, tS: number, prev: number, rand: () => number = Math.random): number {
  const phase = ((tS % spec.periodS) + spec.periodS) % spec.periodS / spec.periodS;
  switch (spec.kind) {
    case 'sine':
      return spec.offset + spec.amplitude * Math.sin(2 * Math.PI * phase);
    case 'ramp':
      return spec.offset + spec.amplitude * (2 * phase - 1);
    case 'square':
      return spec.offset + (phase < 0.5 ? spec.amplitude : -spec.amplitude);
    case 'walk': {
      const step = (rand() - 0.5) * spec.amplitude * 0.1;
      const next = prev + step;
      // Stay within offset ± amplitude.
      return Math.max(spec.offset - spec.amplitude, Math.min(spec.offset + spec.amplitude, next));
    }
  }
}

const KINDS: SignalKind[] = ['sine', 'ramp', 'square', 'walk'];

/** A varied but deterministic signal for the i-th simulated input. */
export function signalFor(i: number): SignalSpec {
  return { kind: KINDS[i % KINDS.length] as SignalKind, periodS: 30 + (i % 7) * 10, amplitude: 10 + (i % 5) * 5, offset: 20 + i };
}
