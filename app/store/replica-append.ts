import { AppendHeaders } from './append-headers.ts';
import type { Ack, AckPublisher } from './publisher.ts';
import { ORIGIN_SEQ_HEADER } from './streams.ts';
import type { StreamRef } from './types.ts';
import { UnconfirmedAppends, wrongLastSequence, type UnconfirmedAppend } from './unconfirmed.ts';
import { outcomeUnknown } from './write-errors.ts';

/** What the store does with a replicated message once it is known stored. */
export type ApplyReplicated = (ref: StreamRef, a: UnconfirmedAppend, backlog: boolean) => void;

/**
 * Appends of other origins' messages to their local replicas, in order and
 * exactly once (`Nats-Expected-Last-Sequence`). Most go out without an
 * acknowledgement: a later acknowledged one settles them (unconfirmed.ts),
 * which spares nats-server an answer and us a promise per message during a
 * catch-up. Each is applied (merged, fanned out) only once known stored;
 * one whose fate stays unknown is handed to `uncertain`, like a local write
 * that lost its answer, and read back later.
 */
export class ReplicaAppends {
  private readonly unconfirmed = new UnconfirmedAppends();

  constructor(
    private readonly publisher: AckPublisher,
    private readonly apply: ApplyReplicated,
    private readonly uncertain: (subject: string, ref: StreamRef) => void,
  ) {}

  /** Sends one without asking for an acknowledgement; an acknowledged
   * append sent after it settles it. Throws only if the store is closed. */
  appendUnconfirmed(ref: StreamRef, subject: string, data: Uint8Array, originSeq: number, expectedLastSeq: number, backlog: boolean): void {
    this.publisher.publishUnacked(subject, data, new AppendHeaders(ORIGIN_SEQ_HEADER, originSeq, expectedLastSeq));
    for (const a of this.unconfirmed.add(ref.name, { subject, data, originSeq, expectedLastSeq, backlog })) this.apply(ref, a, a.backlog ?? backlog);
  }

  /** Sends one and waits for its acknowledgement; the unconfirmed ones
   * before it are applied first (those stored), then it. */
  async append(ref: StreamRef, subject: string, data: Uint8Array, originSeq: number, expectedLastSeq: number, backlog: boolean): Promise<Ack> {
    let ack: Ack;
    try {
      ack = await this.publisher.publish(subject, data, new AppendHeaders(ORIGIN_SEQ_HEADER, originSeq, expectedLastSeq));
    } catch (e) {
      const { stored, unknown } = this.unconfirmed.settleFailure(ref.name, expectedLastSeq, wrongLastSequence(e));
      for (const a of stored) this.apply(ref, a, a.backlog ?? backlog);
      for (const a of unknown) this.uncertain(a.subject, ref);
      if (outcomeUnknown(e)) this.uncertain(subject, ref);
      throw e;
    }
    for (const a of this.unconfirmed.storedBefore(ref.name, ack.seq)) this.apply(ref, a, a.backlog ?? backlog);
    this.apply(ref, { subject, data, originSeq, expectedLastSeq }, backlog);
    return ack;
  }

  /** Unconfirmed appends still waiting for an acknowledged one. */
  pending(stream: string): number {
    return this.unconfirmed.count(stream);
  }

  forget(stream?: string): void {
    this.unconfirmed.clear(stream);
  }
}
