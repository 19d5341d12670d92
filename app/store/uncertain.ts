import type { JetStreamManager } from '@nats-io/jetstream';
import type { StreamRef } from './types.ts';

/**
 * Subjects whose last write ended without an answer (a lost connection, a
 * timeout): stored or not, nobody knows. Their tips are read back from the
 * stream once the server answers again, so the merged state matches what
 * the stream really holds (merging is idempotent).
 */
export class UncertainWrites {
  private readonly subjects = new Map<string, StreamRef>();
  private running?: Promise<number>;

  constructor(
    private readonly jsm: JetStreamManager,
    /** Merges one tip read back. */
    private readonly apply: (ref: StreamRef, subject: string, data: Uint8Array) => void,
  ) {}

  get size(): number {
    return this.subjects.size;
  }

  add(subject: string, ref: StreamRef): void {
    this.subjects.set(subject, ref);
  }

  /** A stream deleted: nothing of it is left to read back. */
  forgetStream(name: string): void {
    for (const [subject, ref] of this.subjects) if (ref.name === name) this.subjects.delete(subject);
  }

  /** Reads back every tip it can; returns how many were found. One run at a
   * time (every replicator asks at the start of a round). */
  readBack(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    let n = 0;
    for (const [subject, ref] of [...this.subjects]) {
      try {
        const m = await this.jsm.direct.getMessage(ref.name, { last_by_subj: subject });
        this.subjects.delete(subject);
        if (!m) continue;
        this.apply(ref, subject, m.data);
        n++;
      } catch {
        // A stream deleted since holds nothing to read back (a direct get
        // of it finds no responder); anything else means the server is
        // still unreachable: try again later.
        const gone = await this.jsm.streams.info(ref.name).then(
          () => false,
          (e: Error) => /stream not found/i.test(e.message),
        );
        if (!gone) return n;
        this.subjects.delete(subject);
      }
    }
    return n;
  }
}
