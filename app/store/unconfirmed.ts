/** One replicated message appended without asking for an acknowledgement. */
export interface UnconfirmedAppend {
  subject: string;
  data: Uint8Array;
  originSeq: number;
  /** Its `Nats-Expected-Last-Sequence`: if stored, it is at this + 1. */
  expectedLastSeq: number;
  /** Sent while the source still had a backlog (fan-out may wait). */
  backlog?: boolean;
}

/**
 * Replicated appends sent without an acknowledgement, per replica stream,
 * until an acknowledged append after them settles their fate.
 *
 * Every append carries `Nats-Expected-Last-Sequence`, and the stream
 * processes them in order, so they form a chain: once one is refused, every
 * later one is refused too (each expects a sequence the stream never
 * reaches). An acknowledged append stored at `seq` therefore proves every
 * earlier one stored at its own place, and a refusal that names the
 * stream's last sequence (`wrong last sequence: N`) says exactly which
 * were. Only the replicator appends to a replica, so a place in the stream
 * is always ours.
 */
export class UnconfirmedAppends {
  private readonly queues = new Map<string, UnconfirmedAppend[]>();

  /**
   * Queues one. Returns those of an earlier run this one proves stored: a
   * run that starts at or below the last queued one is a new round, which
   * starts where the stream ends, so leftovers expecting less are stored
   * and the rest never will be. (Every run ends with an acknowledged append
   * that settles it; leftovers exist only if one was cut short.)
   */
  add(stream: string, a: UnconfirmedAppend): UnconfirmedAppend[] {
    let q = this.queues.get(stream);
    if (!q) this.queues.set(stream, (q = []));
    const last = q[q.length - 1];
    let stored: UnconfirmedAppend[] = [];
    if (last && a.expectedLastSeq <= last.expectedLastSeq) {
      stored = q.filter((o) => o.expectedLastSeq < a.expectedLastSeq);
      q.length = 0;
    }
    q.push(a);
    return stored;
  }

  /** Held for `stream` (not yet settled). */
  count(stream: string): number {
    return this.queues.get(stream)?.length ?? 0;
  }

  /** An acknowledged append was stored at `seq`: the ones queued before it
   * are stored as well. Removes and returns them, in stream order. */
  storedBefore(stream: string, seq: number): UnconfirmedAppend[] {
    const q = this.queues.get(stream);
    if (!q) return [];
    let n = 0;
    while (n < q.length && (q[n] as UnconfirmedAppend).expectedLastSeq + 1 < seq) n++;
    return q.splice(0, n);
  }

  /**
   * The acknowledged append expecting `expectedLastSeq` failed. With the
   * stream's last sequence at that moment (`lastSeq`, from a wrong-last-
   * sequence refusal) the ones queued before it split into stored and never
   * stored; without it (a timeout, a lost connection) their fate is unknown.
   * Ones queued after it stay: a later acknowledged append settles them.
   */
  settleFailure(stream: string, expectedLastSeq: number, lastSeq?: number): { stored: UnconfirmedAppend[]; unknown: UnconfirmedAppend[] } {
    const q = this.queues.get(stream);
    if (!q) return { stored: [], unknown: [] };
    let n = 0;
    while (n < q.length && (q[n] as UnconfirmedAppend).expectedLastSeq < expectedLastSeq) n++;
    const before = q.splice(0, n);
    if (lastSeq === undefined) return { stored: [], unknown: before };
    return { stored: before.filter((a) => a.expectedLastSeq + 1 <= lastSeq), unknown: [] };
  }

  /** Forgets a stream (deleted) or everything (the store closes). */
  clear(stream?: string): void {
    if (stream === undefined) this.queues.clear();
    else this.queues.delete(stream);
  }
}

/** The stream's last sequence from a `wrong last sequence: N` refusal
 * (JetStream err_code 10071), if that is what `e` is. */
export function wrongLastSequence(e: unknown): number | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /wrong last sequence: (\d+)/.exec(msg);
  return m ? Number(m[1]) : undefined;
}
