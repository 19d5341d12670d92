/**
 * Shapes what a bridge writes to its line like a slow link would: a token
 * bucket caps throughput (8 bits per byte; start/stop bits are the line's
 * business), then a delay line adds one-way latency. A technician sharing
 * a slow radio or a metered line uses it to stay within a budget; tests use
 * it to reproduce a constrained link on loopback.
 *
 * Bytes leave in the order they came in. A chunk may be written in pieces
 * (the line is a byte stream, so frame boundaries do not matter to it).
 */

/** Time source and timers, injectable so tests can step time exactly. */
export interface ShaperClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export const systemClock: ShaperClock = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ShaperOptions {
  /** Throughput cap in bits per second; 0 or absent means no cap. */
  rateBps?: number;
  /** One-way delay added to every byte, in ms; 0 or absent means none. */
  latencyMs?: number;
  /** Bucket size in bytes: how much may go out back to back after idling. Default: 50 ms worth, at least 1 byte. */
  burstBytes?: number;
  clock?: ShaperClock;
}

interface Delayed {
  at: number;
  data: Buffer;
}

export class Shaper {
  private readonly bytesPerMs: number;
  private readonly burst: number;
  /** Smallest piece worth a timer wake-up (10 ms worth), so a fast cap does not wake for every byte. */
  private readonly minPiece: number;
  private readonly latency: number;
  private readonly clock: ShaperClock;
  private tokens: number;
  private lastRefill: number;
  private readonly rateQueue: Buffer[] = [];
  private readonly delayQueue: Delayed[] = [];
  private rateTimer: unknown;
  private delayTimer: unknown;
  private queued = 0;
  private done = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly out: (chunk: Buffer) => void,
    opts: ShaperOptions = {},
  ) {
    const rate = opts.rateBps ?? 0;
    const latency = opts.latencyMs ?? 0;
    if (!Number.isFinite(rate) || rate < 0) throw new Error(`shaper rate must be a non-negative number of bits/s, got ${rate}`);
    if (!Number.isFinite(latency) || latency < 0) throw new Error(`shaper latency must be a non-negative number of ms, got ${latency}`);
    this.bytesPerMs = rate / 8 / 1000;
    this.minPiece = Math.max(1, Math.ceil(this.bytesPerMs * 10));
    this.burst = Math.max(this.minPiece, opts.burstBytes ?? Math.ceil(this.bytesPerMs * 50));
    this.latency = latency;
    this.clock = opts.clock ?? systemClock;
    this.tokens = this.burst;
    this.lastRefill = this.clock.now();
  }

  /** Bytes accepted but not yet handed to the line. */
  get queuedBytes(): number {
    return this.queued;
  }

  get stopped(): boolean {
    return this.done;
  }

  /** Queues bytes for the line. After stop() they are dropped: the line they were meant for is gone. */
  write(chunk: Uint8Array): void {
    if (this.done || !chunk.length) return;
    const data = Buffer.from(chunk);
    this.queued += data.length;
    if (this.bytesPerMs > 0) {
      this.rateQueue.push(data);
      if (this.rateTimer === undefined) this.pump();
    } else {
      this.delay(data);
    }
  }

  /** Resolves once everything queued has been written (or the shaper stopped). */
  idle(): Promise<void> {
    if (this.done || this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued and cancels timers; later writes are ignored. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    if (this.rateTimer !== undefined) this.clock.clearTimer(this.rateTimer);
    if (this.delayTimer !== undefined) this.clock.clearTimer(this.delayTimer);
    this.rateTimer = this.delayTimer = undefined;
    this.rateQueue.length = 0;
    this.delayQueue.length = 0;
    this.queued = 0;
    this.wakeIdle();
  }

  private pump(): void {
    this.rateTimer = undefined;
    if (this.done) return;
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + (now - this.lastRefill) * this.bytesPerMs);
    this.lastRefill = now;
    while (this.rateQueue.length) {
      const head = this.rateQueue[0] as Buffer;
      const n = Math.min(Math.floor(this.tokens), head.length);
      if (n <= 0) break;
      this.tokens -= n;
      if (n === head.length) this.rateQueue.shift();
      else this.rateQueue[0] = head.subarray(n);
      this.delay(head.subarray(0, n));
      if (this.done) return;
    }
    const head = this.rateQueue[0];
    if (!head) return;
    const need = Math.min(head.length, this.minPiece) - this.tokens;
    this.rateTimer = this.clock.setTimer(() => this.pump(), Math.max(1, Math.ceil(need / this.bytesPerMs)));
  }

  private delay(data: Buffer): void {
    if (this.latency <= 0) {
      this.emit(data);
      return;
    }
    this.delayQueue.push({ at: this.clock.now() + this.latency, data });
    if (this.delayTimer === undefined) this.armDelay();
  }

  private armDelay(): void {
    const head = this.delayQueue[0];
    if (!head) return;
    this.delayTimer = this.clock.setTimer(() => this.release(), Math.max(0, head.at - this.clock.now()));
  }

  private release(): void {
    this.delayTimer = undefined;
    const now = this.clock.now();
    while (!this.done && this.delayQueue.length && (this.delayQueue[0] as Delayed).at <= now) {
      this.emit((this.delayQueue.shift() as Delayed).data);
    }
    if (!this.done) this.armDelay();
  }

  private emit(data: Buffer): void {
    // Counted down first, so the writer sees the queue it will leave behind.
    this.queued -= data.length;
    this.out(data);
    if (this.queued === 0) this.wakeIdle();
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
