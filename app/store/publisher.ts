import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/nats-core';

export interface Ack {
  stream: string;
  seq: number;
  duplicate: boolean;
}

interface Pending {
  resolve: (a: Ack) => void;
  reject: (e: Error) => void;
  at: number;
}

interface PubAckJson {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

/** `{"stream":"<name>","domain":"<domain>","seq":<n>}` (domain optional),
 * as nats-server acknowledges a stored, non-duplicate write: nothing escaped
 * (a `\\` sends it the full way), the sequence a plain safe integer. */
const PLAIN_ACK = /^\{\s*"stream"\s*:\s*"([^"\\]+)"\s*,\s*(?:"domain"\s*:\s*"[^"\\]*"\s*,\s*)?"seq"\s*:\s*(0|[1-9]\d{0,14})\s*\}$/;

/**
 * Acknowledged JetStream publishes with one reply subscription for all of
 * them (what Go's `PublishAsync` does). `js.publish` builds a request per
 * message (a new RequestError and TimeoutError with stack traces, and a
 * timer), which profiling showed to be ~40 % of the client's CPU at 20k
 * writes/s; here a publish is one protocol write and one map entry.
 */
export class AckPublisher {
  private readonly prefix = createInbox();
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private sub?: Subscription;
  private sweeper?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 10_000,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(`${this.prefix}.*`, { callback: (_e, m) => this.onReply(m) });
    // Entries are in publish order, so a sweep stops at the first young one.
    this.sweeper = setInterval(() => this.sweep(), Math.min(1_000, this.timeoutMs));
    this.sweeper.unref();
    void this.watchConnection();
  }

  publish(subject: string, data: Uint8Array, headers?: MsgHdrs): Promise<Ack> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    const id = ++this.next;
    return new Promise<Ack>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, at: Date.now() });
      try {
        this.nc.publish(subject, data, headers ? { reply: `${this.prefix}.${id}`, headers } : { reply: `${this.prefix}.${id}` });
      } catch (e) {
        this.pending.delete(id);
        reject(e as Error);
      }
    });
  }

  /** Publishes without asking for an acknowledgement (for writes whose fate
   * a later acknowledged one settles: app/store/unconfirmed.ts). */
  publishUnacked(subject: string, data: Uint8Array, headers?: MsgHdrs): void {
    if (this.closed) throw new Error('the store is closed');
    this.nc.publish(subject, data, headers ? { headers } : undefined);
  }

  /** Fails every write still waiting, e.g. when the connection is lost. */
  failAll(reason: string): void {
    const err = new Error(reason);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.sub?.unsubscribe();
    this.failAll('the store closed before nats-server acknowledged the write');
  }

  private onReply(m: Msg): void {
    const id = Number(m.subject.slice(this.prefix.length + 1));
    const p = this.pending.get(id);
    if (!p) return; // Already timed out or failed: the caller was told.
    this.pending.delete(id);
    if (m.headers?.code === 503) {
      p.reject(new Error('no responders: JetStream is not available for this subject (no stream, or the server is still starting)'));
      return;
    }
    const text = m.string();
    // The common acknowledgement, read without JSON.parse (which cost more
    // than the rest of this, once per write); anything else takes the full path.
    const plain = PLAIN_ACK.exec(text);
    if (plain) {
      p.resolve({ stream: plain[1] as string, seq: Number(plain[2]), duplicate: false });
      return;
    }
    let ack: PubAckJson;
    try {
      ack = JSON.parse(text) as PubAckJson;
    } catch {
      p.reject(new Error(`unreadable JetStream acknowledgement: ${m.string().slice(0, 120)}`));
      return;
    }
    if (ack.error) {
      p.reject(new Error(`${ack.error.description ?? 'JetStream error'} (err_code ${ack.error.err_code ?? ack.error.code ?? '?'})`));
    } else if (typeof ack.stream === 'string' && typeof ack.seq === 'number') {
      p.resolve({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate ?? false });
    } else {
      p.reject(new Error(`unexpected JetStream acknowledgement: ${m.string().slice(0, 120)}`));
    }
  }

  private sweep(): void {
    const limit = Date.now() - this.timeoutMs;
    for (const [id, p] of this.pending) {
      if (p.at > limit) break;
      this.pending.delete(id);
      p.reject(new Error(`timeout: nats-server did not acknowledge within ${this.timeoutMs} ms`));
    }
  }

  private async watchConnection(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) return;
      // Replies cannot arrive over a connection that is gone; say so now
      // rather than at the timeout.
      if (s.type === 'disconnect') this.failAll('disconnected from nats-server before the write was acknowledged; it may or may not be stored');
    }
  }
}
