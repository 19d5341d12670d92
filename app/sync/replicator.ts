import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { ORIGIN_SEQ_HEADER, type Store, type StreamRef } from '../store/index.ts';
import { findResumeSeq, isLinkError, lastOriginSeq, originSeqOf } from './remote.ts';
import type { ReplicaState, ReplicaStatus } from './types.ts';
import { deliverySize, headerBytes, inFlightBytes, LinkRate, PullWindow } from './window.ts';

export interface ReplicatorOptions {
  store: Store;
  /** Connection to our own server; the source is reached through it. */
  nc: NatsConnection;
  localJsm: JetStreamManager;
  /** JetStream of the source instance (its domain). */
  sourceJsm: JetStreamManager;
  sourceDomain: string;
  sourceId: string;
  ref: StreamRef;
  batch: number;
  maxInFlight: number;
  pullExpiresMs: number;
  heartbeatMs: number;
  /** Delivery rate of the link to the source, shared by its replicators;
   * sizes pull requests and the time budgets that depend on the link. */
  rate?: LinkRate;
  onStatus: (s: ReplicaStatus) => void;
  /** The source's JetStream stopped answering (not a refusal of one call). */
  onLinkDown?: () => void;
  /** Deliveries are arriving from the source (at most once a second). */
  onAlive?: () => void;
}

const encoder = new TextEncoder();
const MAX_BACKOFF_MS = 2_000;
/** After a link failure the next round waits for the link to be back (Sync
 * wakes it through `linkChanged`), retrying on its own at most this rarely: on a
 * slow, full link every attempt's API calls cross it too. */
const LINK_BACKOFF_MS = 30_000;
/** Upper bound of the consumer's inactivity limit at the source. */
const MAX_INACTIVE_MS = 10 * 60_000;
/** At most this many appends in a row go without an acknowledgement: what
 * one failure can leave to be read back (and one round to apply late). */
export const CONFIRM_EVERY = 64;

/** Stream sequence and consumer pending count from a JetStream ack reply
 * subject (v1: 9 tokens; v2 adds domain and account hash). Read in place,
 * once per delivery: splitting it made a dozen strings per message. */
export function parseAckReply(reply: string | undefined): { stream: string; consumer: string; streamSeq: number; consumerSeq: number; pending: number } {
  const r = { stream: '', consumer: '', streamSeq: 0, consumerSeq: 0, pending: 0 };
  if (!reply?.startsWith('$JS.ACK.')) return r;
  let tokens = 1;
  for (let i = reply.indexOf('.'); i >= 0; i = reply.indexOf('.', i + 1)) tokens++;
  const o = tokens === 9 ? 0 : 2;
  let start = 0;
  for (let t = 0; t <= 8 + o && start <= reply.length; t++) {
    let end = reply.indexOf('.', start);
    if (end < 0) end = reply.length;
    if (t === 2 + o) r.stream = reply.slice(start, end);
    else if (t === 3 + o) r.consumer = reply.slice(start, end);
    else if (t === 5 + o) r.streamSeq = Number(reply.slice(start, end)) || 0;
    else if (t === 6 + o) r.consumerSeq = Number(reply.slice(start, end)) || 0;
    else if (t === 8 + o) r.pending = Number(reply.slice(start, end)) || 0;
    start = end + 1;
  }
  return r;
}

/**
 * Pulls one stream from one source (the origin or any copy of it) into the
 * local replica, in order, exactly once:
 * - resume point: the origin sequence of the replica's last message; the
 *   source's matching position is found by origin sequence, so any copy can
 *   feed any other;
 * - a small window is fetched through an ephemeral consumer in the source's
 *   domain; each message is appended with `Nats-Expected-Last-Sequence`, so
 *   the local server refuses a duplicate or a gap even with appends in flight;
 * - progress advances only on the local acknowledgement;
 * - any failure (link cut, source restarted, refusal) ends the round, and the
 *   next round resumes from what is stored.
 * When caught up, the open pull request delivers new messages as they are
 * written (live view), and its idle heartbeats tell a silent link from a
 * quiet one.
 */
export class Replicator {
  private stopped = false;
  private running?: Promise<void>;
  private wake?: () => void;
  private abortRound?: (e: Error) => void;
  private readonly status: ReplicaStatus;
  private readonly rate: LinkRate;
  private heardAt = 0;

  constructor(private readonly o: ReplicatorOptions) {
    this.rate = o.rate ?? new LinkRate();
    this.status = {
      stream: o.ref.name,
      boundary: o.ref.boundary,
      origin: o.ref.origin,
      source: o.sourceId,
      state: 'connecting',
      pendingMessages: 0,
      pendingBytes: 0,
      lastOriginSeq: 0,
      delivered: 0,
    };
  }

  get snapshot(): ReplicaStatus {
    return { ...this.status };
  }

  get sourceId(): string {
    return this.o.sourceId;
  }

  /** When the source last sent this replicator anything (0: never). */
  get lastHeardAt(): number {
    return this.heardAt;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops pulling; resolves once the current round has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.abortRound?.(new Error('replicator stopped'));
    await this.running;
  }

  /** Ends the current round (its pull may be lost with a link that went
   * down and came back) and starts a new one now. */
  restart(reason: string): void {
    this.backoffMs = 0;
    this.abortRound?.(new Error(`link to ${this.o.sourceId} ${reason}`));
    this.wake?.();
  }

  /** The link went down or came back. Back: a replicator waiting between
   * rounds starts one now. Either way a round restarts only if it has heard
   * nothing from the source for `silentMs` (one that receives proves the
   * link, and restarting it would have its window sent again). */
  linkChanged(up: boolean, silentMs: number): void {
    if (this.wake) {
      if (!up) return;
      this.backoffMs = 0;
      this.wake();
    } else if (Date.now() - this.heardAt > silentMs) {
      this.restart(up ? 'is back' : 'is down');
    }
  }

  private set(state: ReplicaState, patch: Partial<ReplicaStatus> = {}): void {
    Object.assign(this.status, patch, { state });
    if (state !== 'error' && state !== 'offline') delete this.status.lastError;
    this.o.onStatus(this.snapshot);
  }

  private backoffMs = 100;

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let link = false;
      try {
        await this.round();
        this.backoffMs = 100;
      } catch (e) {
        if (this.stopped) break;
        const msg = e instanceof Error ? e.message : String(e);
        link = isLinkError(e);
        this.set(link ? 'offline' : 'error', { lastError: msg });
        if (link && !/link to .* is (back|down)/.test(msg)) this.o.onLinkDown?.();
      }
      if (this.stopped) break;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(Math.max(100, this.backoffMs * 2), link ? LINK_BACKOFF_MS : MAX_BACKOFF_MS);
      await new Promise<void>((res) => {
        const t = setTimeout(res, delay);
        this.wake = () => {
          clearTimeout(t);
          res();
        };
      });
      this.wake = undefined;
    }
  }

  private async round(): Promise<void> {
    const { ref, sourceJsm, localJsm, store } = this.o;
    this.set('connecting');
    await store.ensureReplicaStream(ref.boundary, ref.origin);
    // Appends whose fate a failure left unknown are read back first.
    await store.reconcile();
    const localInfo = await localJsm.streams.info(ref.name).catch((e: Error) => {
      // Deleted behind our back: let the next round create it again.
      if (/stream not found/i.test(e.message)) store.forgetStream(ref.name);
      throw e;
    });
    let localLast = localInfo.state.last_seq;
    let lastOrigin = await lastOriginSeq(localJsm, ref.name, localInfo);
    const sourceInfo = await sourceJsm.streams.info(ref.name);
    const sourceIsOrigin = this.o.sourceId === ref.origin;
    if (sourceIsOrigin && sourceInfo.state.last_seq < lastOrigin) {
      throw new Error(
        `${ref.name} at ${ref.origin} ends at ${sourceInfo.state.last_seq}, but this replica already holds up to ${lastOrigin}: ` +
          'the origin stream was reset. The replica is kept as it is; remove it to replicate the new stream.',
      );
    }
    const filter = `inst.${ref.boundary}.${ref.origin}.>`;
    const startSeq = sourceIsOrigin ? lastOrigin + 1 : await findResumeSeq(sourceJsm, ref.name, filter, sourceInfo, lastOrigin);
    const meanBytes = sourceInfo.state.messages > 0 ? sourceInfo.state.bytes / sourceInfo.state.messages : 0;
    const rate = this.rate;
    const ci = await sourceJsm.consumers.add(ref.name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, startSeq),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      // The source deletes the consumer once no request has been open for
      // this long. Both requests can be filled while their deliveries still
      // cross a slow link: allow for that several times over.
      inactive_threshold: Math.round(Math.min(MAX_INACTIVE_MS, Math.max(30_000, this.o.pullExpiresMs * 3) + 4 * rate.drainMs(2 * rate.requestBytes()))) * 1_000_000,
    });
    const pendingAtStart = ci.num_pending;
    this.set(pendingAtStart > 0 ? 'catching-up' : 'idle', {
      lastOriginSeq: lastOrigin,
      pendingMessages: pendingAtStart,
      pendingBytes: Math.round(pendingAtStart * meanBytes),
    });

    const inbox = createInbox();
    const next = `$JS.${this.o.sourceDomain}.API.CONSUMER.MSG.NEXT.${ref.name}.${ci.name}`;
    let inFlight = 0;
    let remotePending = pendingAtStart;
    const window = new PullWindow(rate);
    let lastHeard = Date.now();
    let aliveAt = 0;
    let failure: Error | undefined;
    let drained: (() => void) | undefined;
    let reported = 0;
    let lastConsumerSeq = 0;
    // Appends not yet settled: sent without an acknowledgement (a later
    // acknowledged one settles them), and those of the current run.
    let unconfirmed = 0;
    let run = 0;
    let lastQueuedOrigin = lastOrigin;
    const queued: Array<{ subject: string; data: Uint8Array; originSeq: number; backlog: boolean }> = [];
    let flushing = false;
    const subjectPrefix = `inst.${ref.boundary}.${ref.origin}.`;
    if (this.stopped) throw new Error('replicator stopped');

    await new Promise<void>((_resolve, reject) => {
      // A healthy round never ends by itself: it follows the source until
      // the link fails, a store refuses, or stop() is called.
      const end = (e: Error) => {
        if (failure) return;
        failure = e;
        // Both exist by the time anything can call end().
        clearInterval(watchdog);
        sub.unsubscribe();
        reject(e);
      };
      this.abortRound = end;
      // Two requests are kept open while there is a backlog, so the source
      // never waits for our next request (one request per batch left ~40 %
      // of the loopback catch-up time idle); one while caught up, to keep the
      // idle link quiet. Each asks for at most `batch` messages and about
      // two seconds of the link (window.ts): a slow link never holds more
      // than a few seconds of our deliveries, so a round that ends (and the
      // next that asks again) leaves little to cross twice.
      const pull = () => {
        if (failure || this.stopped) return;
        if (inFlight + unconfirmed + queued.length >= this.o.maxInFlight) return; // resumed when appends drain
        const open = remotePending > 0 ? 2 * this.o.batch : this.o.batch;
        if (window.requested + this.o.batch > open) return;
        const req = window.request(this.o.batch, this.o.pullExpiresMs, this.o.heartbeatMs);
        this.o.nc.publish(next, encoder.encode(JSON.stringify(req)), { reply: inbox });
      };
      // Status goes out at most every 100 ms during a catch-up (a copy per
      // message cost more than the append), and at once when caught up.
      const report = () => {
        const pending = remotePending + inFlight + unconfirmed + queued.length;
        const now = Date.now();
        if (pending > 0 && now - reported < 100) {
          this.status.pendingMessages = pending;
          this.status.lastOriginSeq = lastOrigin;
          return;
        }
        reported = now;
        const state: ReplicaState = pending > 0 ? 'catching-up' : 'idle';
        this.set(state, { pendingMessages: pending, pendingBytes: Math.round(pending * meanBytes), lastOriginSeq: lastOrigin });
      };
      const watchdog = setInterval(() => {
        // Paused on our own full pipeline, nothing is asked of the source.
        if (inFlight + unconfirmed + queued.length >= this.o.maxInFlight) lastHeard = Date.now();
        // Heartbeats queue behind deliveries on a slow link, and a leaf that
        // compresses sends a window in blocks: allow what is asked for to
        // cross (twice over, at the measured rate) before calling it stalled.
        const limit = this.o.heartbeatMs * 2 + 1_000 + 2 * rate.drainMs(inFlightBytes(window, remotePending, meanBytes));
        if (Date.now() - lastHeard > limit) end(new Error(`link to ${this.o.sourceId} stalled: no message or heartbeat for ${Date.now() - lastHeard} ms`));
      }, Math.max(250, this.o.heartbeatMs / 2));
      // Deliveries that arrived together (one read from the socket) are
      // appended together right after: every CONFIRM_EVERY-th and the last
      // with an acknowledgement, the others without (store.ts,
      // appendReplicatedUnconfirmed). A run always ends with an acknowledged
      // append, so once none is in flight every append is settled.
      const flush = () => {
        flushing = false;
        const batch = queued.splice(0);
        if (failure) return; // the next round resumes from what is stored
        try {
          for (let i = 0; i < batch.length; i++) append(batch[i] as (typeof batch)[number], i === batch.length - 1);
        } catch (e) {
          // The store closed, or the connection refused a publish: a run
          // cut short is settled by the next round's first append (the
          // store reads where the stream ends then).
          end(new Error(`storing ${ref.name} failed: ${(e as Error).message}`));
        }
      };
      const append = (d: (typeof queued)[number], last: boolean) => {
        const expected = localLast + inFlight + unconfirmed;
        if (!last && run + 1 < CONFIRM_EVERY) {
          store.appendReplicatedUnconfirmed(ref, d.subject, d.data, d.originSeq, expected, d.backlog);
          unconfirmed++;
          run++;
          return;
        }
        const covers = run;
        run = 0;
        inFlight++;
        store.appendReplicated(ref, d.subject, d.data, d.originSeq, expected, d.backlog).then(
          (stored) => {
            unconfirmed -= covers;
            if (--inFlight === 0) drained?.();
            localLast = stored.seq;
            lastOrigin = Math.max(lastOrigin, d.originSeq);
            this.status.delivered += covers + 1;
            report();
            pull();
          },
          (e: Error) => {
            unconfirmed -= covers;
            if (--inFlight === 0) drained?.();
            end(new Error(`storing ${ref.name} origin seq ${d.originSeq} failed: ${e.message}`));
          },
        );
      };
      const sub = this.o.nc.subscribe(inbox, {
        callback: (_e, m: Msg) => {
          const now = Date.now();
          lastHeard = now;
          this.heardAt = now;
          const code = m.headers?.code ?? 0;
          if (code !== 0) {
            // 100: idle heartbeat, the link is alive. 409 Batch Completed /
            // Exceeds MaxBytes, 408 (expired): a request's normal end. Any
            // other (a deleted consumer, …) ends the round.
            const unfilled = Number(m.headers?.get('Nats-Pending-Messages') || NaN);
            const outcome = window.status(code, m.headers?.description ?? '', Number.isFinite(unfilled) ? unfilled : undefined);
            if (outcome === 'ended') pull();
            else if (outcome === 'failed') end(new Error(`pull from ${this.o.sourceId} failed: ${code} ${m.headers?.description ?? ''}`));
            return;
          }
          if (now - aliveAt > 1_000) {
            aliveAt = now;
            this.o.onAlive?.();
          }
          const ack = parseAckReply(m.reply);
          window.delivered(deliverySize(m.subject, m.reply, m.data, headerBytes(m.headers)), ack.pending > 0, now);
          // Only deliveries of our consumer, in unbroken consumer order, of
          // the stream's own subjects are stored: anything else (a message
          // someone aimed at our inbox, a delivery lost on the way) ends the
          // round, and the next resumes from what is stored.
          if (ack.stream !== ref.name || ack.consumer !== ci.name || !m.subject.startsWith(subjectPrefix)) {
            end(new Error(`unexpected message on the replication inbox (subject ${m.subject}); not stored`));
            return;
          }
          if (ack.consumerSeq !== lastConsumerSeq + 1) {
            end(new Error(`delivery ${lastConsumerSeq + 1} from ${this.o.sourceId} went missing (got ${ack.consumerSeq}); resuming from what is stored`));
            return;
          }
          lastConsumerSeq = ack.consumerSeq;
          remotePending = ack.pending;
          const originSeq = originSeqOf(m.headers?.get(ORIGIN_SEQ_HEADER) || undefined, ack.streamSeq);
          if (originSeq <= lastQueuedOrigin) {
            pull();
            return; // already held or on its way (a copy can repeat nothing, but be safe)
          }
          lastQueuedOrigin = originSeq;
          queued.push({ subject: m.subject, data: m.data, originSeq, backlog: remotePending > 0 });
          if (!flushing) {
            flushing = true;
            queueMicrotask(flush);
          }
          pull();
        },
      });
      // Make sure the deliveries' inbox is known before asking for them.
      this.o.nc.flush().then(pull, end);
    }).finally(async () => {
      this.abortRound = undefined;
      // Appends already sent finish (or fail) before the next round reads
      // where the replica ends.
      if (inFlight > 0) await new Promise<void>((res) => (drained = res));
      await sourceJsm.consumers.delete(ref.name, ci.name).catch(() => undefined);
    });
  }
}
