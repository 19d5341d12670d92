/**
 * Pull window sizing by link time rather than message count.
 *
 * A pull request asks for at most `batch` messages and at most `max_bytes`;
 * nats-server ends every such request with one status: `409 Batch
 * Completed` (count reached), `409 Message Size Exceeds MaxBytes` (bytes
 * reached), or `408 Request Timeout` (expired), the last two saying how many
 * messages went unfilled (`Nats-Pending-Messages`).
 *
 * Deliveries that arrive while the source has a backlog and requests are
 * open measure the rate at which the link delivers (uncompressed bytes, so
 * leaf compression is counted in). Requests are sized to a couple of
 * seconds of that rate: on a 20 kbit/s link a few kB, on loopback `batch`
 * binds first.
 */

/** Seconds of link one request asks for; two are open during a backlog. */
export const REQUEST_SECONDS = 2;
/** First request when nothing is known of the link yet: ~3 s at 20 kbit/s
 * uncompressed, a few ms on loopback (where the next one is full size). */
export const INITIAL_REQUEST_BYTES = 8 * 1024;
export const MIN_REQUEST_BYTES = 2 * 1024;
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** Rate assumed for time budgets while none has been measured (bytes/s). */
const ASSUMED_RATE = 1_000;

/** Delivery rate of one link (per peer, shared by its replicators). */
export class LinkRate {
  private bps = 0;
  samples = 0;

  /** Bytes per second, 0 while unknown. */
  get bytesPerSec(): number {
    return this.bps;
  }

  sample(bytes: number, ms: number): void {
    if (bytes < 512 || ms <= 0) return;
    let r = (bytes * 1_000) / Math.max(ms, 1);
    // At most 4 times the last estimate: a window that grows feeds bigger
    // bursts (a compressing leaf delivers a window in blocks), and a sample
    // that catches one high must not make the next window run away.
    if (this.samples > 0) r = Math.min(r, 4 * this.bps);
    // Quick to follow in both directions: the link may change (compression
    // switching on, another stream sharing it).
    this.bps = this.samples === 0 ? r : 0.5 * this.bps + 0.5 * r;
    this.samples++;
  }

  /** `max_bytes` of the next request. */
  requestBytes(): number {
    if (this.samples === 0) return INITIAL_REQUEST_BYTES;
    return Math.round(Math.min(MAX_REQUEST_BYTES, Math.max(MIN_REQUEST_BYTES, this.bps * REQUEST_SECONDS)));
  }

  /** How long `bytes` take to arrive at the measured rate (ms). */
  drainMs(bytes: number): number {
    return (bytes * 1_000) / (this.bps > 0 ? this.bps : ASSUMED_RATE);
  }
}

/** Bytes nats-server counts against `max_bytes` for a delivery: subject,
 * ack reply, headers and payload (close enough: it only sizes windows). */
export function deliverySize(subject: string, reply: string | undefined, data: Uint8Array, headerBytes: number): number {
  return subject.length + (reply?.length ?? 0) + headerBytes + data.length;
}

/** Upper bound of the bytes on their way to us: what open requests may
 * still deliver, no more than the source has left. */
export function inFlightBytes(w: PullWindow, remotePending: number, meanBytes: number): number {
  const mean = Math.max(meanBytes, 1);
  return Math.min(w.requested * mean, w.open * w.rate.requestBytes(), remotePending * mean);
}

export type StatusOutcome = 'heartbeat' | 'ended' | 'failed';

/** A rate sample spans at least this long, or a few requests' worth. */
const SAMPLE_MS = 2_000;

/**
 * The open pull requests of one round, counted in messages asked for and
 * not yet received (in aggregate: nats-server may send a request's closing
 * status before its last deliveries, so they cannot be told apart).
 * Measures the link rate from deliveries that arrive while requests are
 * open and the source has a backlog.
 */
export class PullWindow {
  /** Messages asked for and not yet received, over all open requests. */
  requested = 0;
  /** Requests sent and not yet ended by their status. */
  open = 0;
  private sampleStart = 0;
  private sampleBytes = 0;
  /** Grows while requests end on their byte limit without a delivery (a
   * message larger than the request would otherwise never come). */
  private boost = 1;
  private deliveredSinceStatus = 0;
  private lastBatch = 0;

  constructor(readonly rate: LinkRate) {}

  /** Registers a request about to be sent; returns its body. */
  request(batch: number, expiresMs: number, heartbeatMs: number, now = Date.now()): { batch: number; max_bytes: number; expires: number; idle_heartbeat: number } {
    // The link sat idle waiting for this request: a new sample starts now,
    // round trip included (an estimate on the low side is the safe one).
    if (this.requested === 0) {
      this.sampleStart = now;
      this.sampleBytes = 0;
    }
    this.requested += batch;
    this.lastBatch = batch;
    this.open++;
    return { batch, max_bytes: Math.min(MAX_REQUEST_BYTES, this.rate.requestBytes() * this.boost), expires: expiresMs * 1_000_000, idle_heartbeat: heartbeatMs * 1_000_000 };
  }

  /** A delivery of `bytes`; `backlog`: the source still had more after it. */
  delivered(bytes: number, backlog: boolean, now = Date.now()): void {
    this.requested = Math.max(0, this.requested - 1);
    this.deliveredSinceStatus++;
    this.boost = 1;
    if (!backlog) {
      this.sampleStart = 0;
      return;
    }
    if (this.sampleStart === 0) {
      this.sampleStart = now;
      this.sampleBytes = 0;
      return;
    }
    this.sampleBytes += bytes;
    const ms = now - this.sampleStart;
    // Samples are contiguous (each starts where the last ended), so bursts
    // and the gaps between them are both counted whatever the arrival
    // pattern; a sample that started at a burst's first delivery would
    // count that burst over no time.
    if (ms >= SAMPLE_MS || this.sampleBytes >= 4 * this.rate.requestBytes()) {
      this.rate.sample(this.sampleBytes, ms);
      this.sampleStart = now;
      this.sampleBytes = 0;
    }
  }

  /**
   * A status message: a heartbeat, the normal end of a request (count or
   * bytes reached, or expired: the server says how many messages it left
   * unfilled), or anything else (the round ends).
   */
  status(code: number, description: string, unfilled: number | undefined): StatusOutcome {
    if (code === 100) return 'heartbeat';
    const full = code === 409 && /Batch Completed|Exceeds MaxBytes/i.test(description);
    if (!full && code !== 408 && code !== 404) return 'failed';
    // Without the count (not seen from 2.10.27): a completed batch left
    // nothing unfilled, anything else is taken as wholly unfilled.
    const left = unfilled ?? (/Batch Completed/i.test(description) ? 0 : this.lastBatch);
    this.requested = Math.max(0, this.requested - left);
    if (/Exceeds MaxBytes/i.test(description) && this.deliveredSinceStatus === 0) this.boost *= 2;
    this.deliveredSinceStatus = 0;
    this.open = Math.max(0, this.open - 1);
    if (!full) this.sampleStart = 0; // expired: no backlog
    return 'ended';
  }
}

/** Raw size of a message's header block as nats.js parsed it. */
export function headerBytes(h: { keys(): string[]; values(k: string): string[] } | undefined): number {
  if (!h) return 0;
  let n = 12; // NATS/1.0\r\n ... \r\n
  for (const k of h.keys()) for (const v of h.values(k)) n += k.length + v.length + 4;
  return n;
}
