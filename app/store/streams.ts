import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { instStreamName, instStreamSubjects, parseInstSubject } from '../siot/index.ts';
import type { StreamRef, StreamStats } from './types.ts';

export const DEFAULT_MAX_MSGS_PER_SUBJECT = 20_000;
export const STREAM_PREFIX = 'inst_';

/** The (boundary, origin) a stream holds, read from its subject filter rather
 * than its name, which is ambiguous when ids contain `_`. */
export function streamRefFromConfig(config: Pick<StreamConfig, 'name' | 'subjects'>): StreamRef | null {
  const subject = config.subjects?.[0];
  if (!config.name.startsWith(STREAM_PREFIX) || !subject?.endsWith('.>')) return null;
  try {
    // Any concrete subject under the filter parses to the same boundary/origin.
    const probe = parseInstSubject(subject.slice(0, -1) + 'n.ep.c');
    const ref = { name: config.name, boundary: probe.boundary, origin: probe.origin };
    return instStreamName(ref.boundary, ref.origin) === config.name ? ref : null;
  } catch {
    return null;
  }
}

export function statsFromInfo(ref: StreamRef, info: StreamInfo): StreamStats {
  return {
    ...ref,
    messages: info.state.messages,
    bytes: info.state.bytes,
    firstSeq: info.state.first_seq,
    lastSeq: info.state.last_seq,
    subjects: info.state.num_subjects ?? 0,
    maxMsgsPerSubject: info.config.max_msgs_per_subject,
  };
}

/** Creates, finds and re-configures the boundary-origin streams. */
export class Streams {
  private readonly known = new Map<string, StreamRef>();
  private readonly creating = new Map<string, Promise<StreamRef>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly retention: (name: string) => number,
    private readonly onCreated: (ref: StreamRef) => void = () => undefined,
  ) {}

  /** Finds every `inst_*` stream on the server. */
  async discover(): Promise<StreamRef[]> {
    const found: StreamRef[] = [];
    for await (const info of this.jsm.streams.list()) {
      const ref = streamRefFromConfig(info.config);
      if (!ref) continue;
      this.known.set(ref.name, ref);
      found.push(ref);
    }
    return found;
  }

  forget(name: string): void {
    this.known.delete(name);
  }

  all(): StreamRef[] {
    return [...this.known.values()];
  }

  get(name: string): StreamRef | undefined {
    return this.known.get(name);
  }

  /** The stream for (boundary, origin), created on first use. Concurrent
   * callers share one creation. */
  ensure(boundary: string, origin: string): StreamRef | Promise<StreamRef> {
    const name = instStreamName(boundary, origin);
    const have = this.known.get(name);
    if (have) return have;
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.create({ name, boundary, origin }).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  private async create(ref: StreamRef): Promise<StreamRef> {
    const config: Partial<StreamConfig> & { name: string } = {
      name: ref.name,
      subjects: [instStreamSubjects(ref.boundary, ref.origin)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      // Per-subject limits age history out while every subject keeps its tip,
      // so rarely written configuration is never lost to newer telemetry.
      max_msgs_per_subject: this.retention(ref.name),
      discard: DiscardPolicy.Old,
      // Direct gets let any server holding the stream answer reads quickly.
      allow_direct: true,
      num_replicas: 1,
    };
    try {
      await this.jsm.streams.add(config);
    } catch (e) {
      // Another writer (or an earlier run) made it first with our config.
      const info = await this.jsm.streams.info(ref.name).catch(() => null);
      if (!info) throw new Error(`cannot create stream ${ref.name}: ${(e as Error).message}`);
    }
    this.known.set(ref.name, ref);
    this.onCreated(ref);
    return ref;
  }

  async stats(ref: StreamRef): Promise<StreamStats> {
    return statsFromInfo(ref, await this.jsm.streams.info(ref.name));
  }

  /** Changes history kept per subject; the server trims existing history to it. */
  async setMaxMsgsPerSubject(name: string, maxMsgsPerSubject: number): Promise<void> {
    if (!Number.isInteger(maxMsgsPerSubject) || maxMsgsPerSubject < 1) {
      throw new Error(`maxMsgsPerSubject must be a whole number >= 1 (the tip of every subject is kept), got ${maxMsgsPerSubject}`);
    }
    const info = await this.jsm.streams.info(name);
    await this.jsm.streams.update(name, { ...info.config, max_msgs_per_subject: maxMsgsPerSubject });
  }
}

/** Header carrying a replicated message's sequence number in its origin's
 * stream; absent on the origin's own stream, where the stream sequence is it. */
export const ORIGIN_SEQ_HEADER = 'Siot-Seq';

/** Origin sequence of a stream's newest message (0 when empty). */
export async function lastOriginSeqOf(jsm: JetStreamManager, stream: string): Promise<number> {
  const info = await jsm.streams.info(stream);
  if (info.state.messages === 0 || info.state.last_seq === 0) return 0;
  const m = await jsm.streams.getMessage(stream, { seq: info.state.last_seq });
  if (!m) return 0;
  const h = Number(m.header.get(ORIGIN_SEQ_HEADER));
  return Number.isSafeInteger(h) && h > 0 ? h : m.seq;
}
