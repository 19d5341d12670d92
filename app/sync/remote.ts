import { jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { ORIGIN_SEQ_HEADER, streamSeqFromReply } from '../store/index.ts';

/** The origin sequence of a stored message: its `Siot-Seq` header on a
 * replica, its own stream sequence on the origin's stream. */
export function originSeqOf(header: string | undefined, streamSeq: number): number {
  if (header) {
    const n = Number(header);
    if (Number.isSafeInteger(n) && n > 0) return n;
  }
  return streamSeq;
}

export function isLinkError(e: unknown): boolean {
  const m = e instanceof Error ? `${e.message} ${(e.cause as Error | undefined)?.message ?? ''}` : String(e);
  return /no responders|timeout|stalled|disconnect|closed|jetstream is not enabled|503|link to .* is (back|down)/i.test(m);
}

/** JetStream of another instance, reached through our own server and the
 * leaf link by its domain (`$JS.<domain>.API`). */
export async function remoteJsm(nc: NatsConnection, domain: string): Promise<JetStreamManager> {
  return jetstreamManager(nc, { domain, checkAPI: false, timeout: 5_000 });
}

/** Last origin sequence held by a stream (0 when empty). */
export async function lastOriginSeq(jsm: JetStreamManager, stream: string, info?: StreamInfo): Promise<number> {
  const si = info ?? (await jsm.streams.info(stream));
  const last = si.state.last_seq;
  if (si.state.messages === 0 || last === 0) return 0;
  const m = await jsm.streams.getMessage(stream, { seq: last });
  if (!m) return 0;
  return originSeqOf(m.header.get(ORIGIN_SEQ_HEADER) || undefined, m.seq);
}

/**
 * First sequence of a copy whose origin sequence is above `after`. A copy is
 * an ordered subsequence of its origin's log, so origin sequences rise with
 * the copy's own: a binary search over direct gets finds the resume point in
 * O(log n) round trips, from any copy.
 */
export async function findResumeSeq(jsm: JetStreamManager, stream: string, filter: string, info: StreamInfo, after: number): Promise<number> {
  let lo = Math.max(1, info.state.first_seq);
  let hi = info.state.last_seq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await jsm.direct.getMessage(stream, { seq: mid, next_by_subj: filter });
    if (!m) {
      hi = mid;
      continue;
    }
    if (originSeqOf(m.header.get(ORIGIN_SEQ_HEADER) || undefined, m.seq) > after) hi = mid;
    else lo = m.seq + 1;
  }
  return lo;
}

export { streamSeqFromReply };
