import type { JetStreamManager } from '@nats-io/jetstream';
import type { Streams } from './streams.ts';

/** Thinning starts above this share of the budget… */
export const HIGH_WATER = 0.9;
/** …and stops once usage is below this share. */
export const LOW_WATER = 0.75;
const INTERVAL_MS = 10_000;

/**
 * The full-disk policy (README, "Storage"):
 * 1. nats-server's `max_file_store` is set to the budget, so the disk never
 *    fills past it: a write that does not fit is refused with an error, and
 *    nothing already acknowledged is touched.
 * 2. Above 90 % of the budget the store thins history, largest stream first
 *    (replicas of other instances included: on a full disk, old telemetry of
 *    any origin goes before anything current), by halving how many messages
 *    the longest subject keeps (MaxMsgsPerSubject), until usage is under 75 %. The newest message of every subject is never
 *    removed (the limit never goes below 1), so current state and rarely
 *    written configuration survive; old telemetry history goes first.
 * 3. Thinning is not undone when space frees up; `Store.setRetention` raises
 *    a stream's history again.
 */
export class DiskBudget {
  private timer?: NodeJS.Timeout;
  private running?: Promise<{ usage: number; thinned: string[] }>;

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly streams: Streams,
    readonly budgetBytes: number,
  ) {
    if (!(budgetBytes > 0)) throw new Error(`disk budget must be a positive number of bytes, got ${budgetBytes}`);
  }

  start(): void {
    this.timer = setInterval(() => void this.enforce().catch(() => undefined), INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async usage(): Promise<number> {
    return (await this.jsm.getAccountInfo()).storage;
  }

  /** Applies the policy once; concurrent callers share one run. */
  enforce(): Promise<{ usage: number; thinned: string[] }> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<{ usage: number; thinned: string[] }> {
    let usage = await this.usage();
    const thinned: string[] = [];
    if (usage <= HIGH_WATER * this.budgetBytes) return { usage, thinned };
    for (let round = 0; round < 64 && usage > LOW_WATER * this.budgetBytes; round++) {
      const stats = (await Promise.all(this.streams.all().map((r) => this.streams.stats(r)))).sort((a, b) => b.bytes - a.bytes);
      const target = stats.find((s) => s.messages > s.subjects);
      if (!target) break; // Only tips left: nothing more may go.
      // The largest subject holds at most this many (all others at least 1);
      // halving it halves the longest history. An average would be skewed
      // by the many one-message configuration subjects.
      const largest = Math.min(target.maxMsgsPerSubject, target.messages - Math.max(1, target.subjects) + 1);
      const next = Math.max(1, Math.floor(largest / 2));
      await this.streams.setMaxMsgsPerSubject(target.name, next);
      thinned.push(`${target.name}: ${next} per subject`);
      usage = await this.usage();
    }
    return { usage, thinned };
  }
}
