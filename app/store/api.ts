import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import {
  decodePoints,
  encodeNodesReply,
  normalizeKey,
  parseEdgeSubject,
  parseNodesSubject,
  parsePointSubject,
  type Point,
} from '../siot/index.ts';
import { nodesOptionsFromPoints } from './nodes-query.ts';
import type { Store } from './store.ts';

const encoder = new TextEncoder();

/** Subject type/key win; a body may leave them empty, but may not contradict them. */
export function pointsForSubject(subject: { type: string; key: string }, points: Point[]): Point[] {
  if (points.length === 0) throw new Error('the message holds no points');
  return points.map((p) => {
    if (p.type !== '' && p.type !== subject.type) {
      throw new Error(`point type "${p.type}" in the body does not match "${subject.type || '_'}" in the subject`);
    }
    const key = normalizeKey(p.key);
    if (key !== '0' && key !== subject.key) {
      throw new Error(`point key "${p.key}" in the body does not match "${subject.key}" in the subject`);
    }
    return { ...p, type: subject.type, key: subject.key };
  });
}

/**
 * The SIOT core NATS API served by the store: `p.<node>.<type>.<key>` and
 * `ep.<node>.<parent>` writes (reply: empty for OK, else the error text) and
 * `nodes.<parent>.<node>` queries (reply: protobuf NodesRequest). Any bad
 * input gets an error reply; nothing a client sends can stop the process.
 */
export class StoreApi {
  private subs: Subscription[] = [];
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly store: Store,
  ) {}

  async start(): Promise<void> {
    this.subs = [
      this.nc.subscribe('p.>', { callback: (_e, m) => this.track(m, () => this.onPoint(m)) }),
      this.nc.subscribe('ep.>', { callback: (_e, m) => this.track(m, () => this.onEdge(m)) }),
      this.nc.subscribe('nodes.>', { callback: (_e, m) => this.track(m, () => this.onNodes(m)) }),
    ];
    // Make sure the server has the subscriptions before anyone relies on them.
    await this.nc.flush();
  }

  async stop(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    await Promise.allSettled([...this.inflight]);
  }

  private track(m: Msg, work: () => Promise<void>): void {
    const p = work().catch((e: unknown) => this.reply(m, errorText(e)));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private reply(m: Msg, text: string): void {
    if (!m.reply) return;
    try {
      m.respond(encoder.encode(text));
    } catch {
      // The connection is closing; the client will time out and retry.
    }
  }

  private async onPoint(m: Msg): Promise<void> {
    const s = parsePointSubject(m.subject);
    const points = pointsForSubject(s, decodePoints(m.data));
    await this.store.writeNodePoints(s.nodeId, points);
    this.reply(m, '');
  }

  private async onEdge(m: Msg): Promise<void> {
    const s = parseEdgeSubject(m.subject);
    const points = decodePoints(m.data);
    await this.store.writeEdgePoints(s.nodeId, s.parentId, points);
    this.reply(m, '');
  }

  private async onNodes(m: Msg): Promise<void> {
    let body: Uint8Array;
    try {
      const s = parseNodesSubject(m.subject);
      const opts = m.data.length ? nodesOptionsFromPoints(decodePoints(m.data)) : {};
      body = encodeNodesReply(this.store.nodes({ parentId: s.parentId, nodeId: s.nodeId, ...opts }));
    } catch (e) {
      body = encodeNodesReply([], errorText(e));
    }
    if (m.reply) m.respond(body);
  }
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  // An empty reply means OK, so an error must never be empty.
  return text || 'error';
}
