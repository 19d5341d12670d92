import type { NatsConnection } from '@nats-io/nats-core';
import { ROOT_PARENT, encodePoints, type Point } from '../siot/index.ts';
import type { MergedState } from './state.ts';
import type { PointChange } from './types.ts';

/**
 * Re-publishes stored points on `up.<a>.<node>.<type>.<key>` (edge points:
 * `up.<a>.<node>.<parent>.<type>.<key>`) for the node itself, every
 * ancestor and the virtual `root`, so listeners anywhere above hear them.
 */
export class FanOut {
  private readonly deferred = new Map<string, PointChange>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    private readonly state: MergedState,
  ) {}

  /** Publishes now; `extra` adds former ancestors (a deleted or moved edge). */
  now(nodeId: string, parentId: string | undefined, p: Point, payload: Uint8Array, extra: string[] = []): void {
    // Ids and tokens are validated on the way in; only the shape differs.
    const tail = parentId === undefined ? `${nodeId}.${p.type || '_'}.${p.key}` : `${nodeId}.${parentId}.${p.type || '_'}.${p.key}`;
    this.nc.publish(`up.${nodeId}.${tail}`, payload);
    const ancestors = this.state.ancestors(nodeId);
    for (const a of ancestors) this.nc.publish(`up.${a}.${tail}`, payload);
    for (const a of extra) if (a !== nodeId && !ancestors.includes(a)) this.nc.publish(`up.${a}.${tail}`, payload);
    this.nc.publish(`up.${ROOT_PARENT}.${tail}`, payload);
  }

  /**
   * While a backlog is replayed, one subject may change thousands of times a
   * second; `up.*` listeners want the current state, not the replay, so only
   * the newest change per point goes out, at most every 100 ms. (A catch-up
   * of 100,000 points otherwise costs the server 300,000+ extra messages.)
   */
  later(c: PointChange): void {
    const key = `${c.nodeId}\u0000${c.parentId ?? ''}\u0000${c.current.point.type}\u0000${c.current.point.key}`;
    this.deferred.set(key, c);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const batch = [...this.deferred.values()];
      this.deferred.clear();
      for (const d of batch) this.now(d.nodeId, d.parentId, d.current.point, encodePoints([d.current.point]));
    }, 100);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.deferred.clear();
  }
}
