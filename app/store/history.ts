import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { decodePoints, instPointFilter } from '../siot/index.ts';
import { readStream } from './read.ts';
import type { HistoryPoint, HistoryQuery, HistoryResult, StreamRef } from './types.ts';

export const DEFAULT_HISTORY_LIMIT = 10_000;

/** Newest first by point time, then by instance: the order the merge rule uses. */
function newestFirst(a: HistoryPoint, b: HistoryPoint): number {
  if (a.point.time !== b.point.time) return a.point.time > b.point.time ? -1 : 1;
  if (a.instance !== b.instance) return a.instance > b.instance ? -1 : 1;
  return b.seq - a.seq;
}

/**
 * History of one node's points across every local stream, filtered by
 * subject so that only that node (and type/key, when given) is read. Time
 * filtering uses the point's own time, never the JetStream timestamp, since
 * points may arrive long after they were sampled. Returned oldest first.
 */
export async function queryHistory(nc: NatsConnection, jsm: JetStreamManager, streams: StreamRef[], q: HistoryQuery): Promise<HistoryResult> {
  const limit = q.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`history limit must be a whole number >= 1, got ${q.limit}`);
  if (q.start !== undefined && q.end !== undefined && q.end <= q.start) {
    throw new Error('history end must be after start');
  }
  const matched: HistoryPoint[] = [];
  let scanned = 0;
  let complete = true;
  for (const ref of streams) {
    const filter = instPointFilter(ref.boundary, ref.origin, q.nodeId, q.type, q.key);
    const r = await readStream(nc, jsm, { stream: ref.name, filterSubjects: [filter], mode: 'all' }, (_subject, data, seq) => {
      let points;
      try {
        points = decodePoints(data);
      } catch {
        return;
      }
      for (const point of points) {
        if (q.start !== undefined && point.time < q.start) continue;
        if (q.end !== undefined && point.time >= q.end) continue;
        matched.push({ nodeId: q.nodeId, point, instance: ref.origin, stream: ref.name, seq });
      }
    });
    scanned += r.read;
    if (r.read < r.total) complete = false;
  }
  matched.sort(newestFirst);
  const truncated = matched.length > limit;
  const points = (truncated ? matched.slice(0, limit) : matched).reverse();
  return { points, truncated, scanned, complete };
}
