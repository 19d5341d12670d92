import type { Instance } from '../instance/index.ts';
import { floatPoint, pointValue, stringPoint, type Point } from '../siot/index.ts';
import type { PointChange } from '../store/index.ts';
import { sample, signalFor, type SignalSpec } from './signals.ts';

export interface DeviceSimOptions {
  /** Simulated inputs (nodes of type `modbusIO`). */
  nodes?: number;
  /** Initial sample period of every input (ms); each node's `pollPeriod`
   * point overrides it, so configuration from a laptop changes the rate. */
  pollPeriodMs?: number;
}

interface Input {
  id: string;
  signal: SignalSpec;
  periodMs: number;
  last: number;
  timer?: NodeJS.Timeout;
}

export const SIM_NODE_TYPE = 'modbusIO';
/** Point type a device writes when it acted on configuration (see onPoint). */
export const APPLIED_POINT = 'applied';

/** Key of the `applied` report for a configuration point: its type, or
 * `type:key` for a keyed point (":" because "." separates subject tokens). */
export function appliedKey(type: string, key: string): string {
  return key === '0' || key === '' ? type : `${type}:${key}`;
}
const MIN_PERIOD_MS = 10;

/**
 * A simulated SIOT device: a real instance of our store whose tree has
 * `nodes` inputs sampling signals. It applies the configuration it
 * receives: a changed `pollPeriod` (ms) on an input changes its sample
 * rate, a `disabled` point of 1 stops it. Restarted on the same data dir,
 * it finds its inputs again.
 */
export class DeviceSim {
  private readonly inputs = new Map<string, Input>();
  private off?: () => void;
  private writes = 0;
  private errors = 0;

  constructor(
    readonly instance: Instance,
    private readonly opts: DeviceSimOptions = {},
  ) {}

  get stats(): { inputs: number; writes: number; errors: number } {
    return { inputs: this.inputs.size, writes: this.writes, errors: this.errors };
  }

  async start(): Promise<void> {
    const { store } = this.instance;
    const root = this.instance.id;
    const want = this.opts.nodes ?? 30;
    const existing = store.state.childrenOf(root).filter((c) => store.state.nodeType(c) === SIM_NODE_TYPE);
    for (let i = existing.length; i < want; i++) {
      existing.push(
        await store.createNode(root, SIM_NODE_TYPE, [
          stringPoint('description', `input ${i + 1}`),
          floatPoint('pollPeriod', this.opts.pollPeriodMs ?? 1_000),
        ]),
      );
    }
    existing.slice(0, want).forEach((id, i) => {
      const input: Input = { id, signal: signalFor(i), periodMs: this.opts.pollPeriodMs ?? 1_000, last: signalFor(i).offset };
      this.inputs.set(id, input);
      this.applyConfig(input);
    });
    this.off = store.onPoint((c) => this.onPoint(c));
  }

  stop(): void {
    this.off?.();
    for (const input of this.inputs.values()) clearInterval(input.timer);
  }

  private onPoint(c: PointChange): void {
    const input = this.inputs.get(c.nodeId);
    if (!input || c.parentId !== undefined) return;
    const { point, instance } = c.current;
    if (point.type !== 'pollPeriod' && point.type !== 'disabled') return;
    this.applyConfig(input);
    // Configuration from elsewhere (a laptop, a hub) is acknowledged with an
    // `applied` point: key = appliedKey(type, key) of the point it acted on, value = that
    // point's time (ns). The commissioning UI shows an edit as "seen
    // applied" once this comes back (README, "Seen applied").
    if (instance !== this.instance.id) {
      this.instance.store.writeNodePoints(input.id, [stringPoint(APPLIED_POINT, point.time.toString(), { key: appliedKey(point.type, point.key) })]).catch(() => void this.errors++);
    }
  }

  /** Reads the input's merged configuration and (re)schedules sampling. */
  private applyConfig(input: Input): void {
    const st = this.instance.store.state;
    const period = readNumber(st.nodePoint(input.id, 'pollPeriod', '0')?.point);
    const disabled = readNumber(st.nodePoint(input.id, 'disabled', '0')?.point) === 1;
    if (period !== undefined && period >= MIN_PERIOD_MS) input.periodMs = period;
    clearInterval(input.timer);
    input.timer = undefined;
    if (disabled) return;
    input.timer = setInterval(() => this.sampleInput(input), input.periodMs);
    input.timer.unref();
  }

  private sampleInput(input: Input): void {
    input.last = sample(input.signal, Date.now() / 1000, input.last);
    this.instance.store.writeNodePoints(input.id, [floatPoint('value', Math.round(input.last * 1000) / 1000)]).then(
      () => void this.writes++,
      () => void this.errors++,
    );
  }

  /** Current sample period of every input, for tests and the CLI. */
  periods(): Map<string, number> {
    return new Map([...this.inputs.values()].map((i) => [i.id, i.periodMs]));
  }
}

/** A configuration number, whichever way a client wrote it (float, int or text). */
function readNumber(p: Point | undefined): number | undefined {
  if (!p) return undefined;
  try {
    const v = pointValue(p);
    const n = typeof v === 'string' ? Number(v) : typeof v === 'number' || typeof v === 'bigint' ? Number(v) : NaN;
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
