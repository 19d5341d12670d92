// Follows each edit from "stored here" to "delivered to the device" (the
// device's hello says its copy of our stream reached the write's origin
// sequence) to "seen applied" (the device wrote an `applied` point with the
// edit's time, see app/sim). Pure: fed sync status and point changes.
import type { SyncStatus, WriteReceipt } from '../client/index.ts';
import { appliedKey } from '../sim/index.ts';

export { appliedKey };
const MAX_TRACKED = 2_000;

interface Tracked {
  receipt: WriteReceipt;
  /** `type` or `type.key` of each point not yet reported applied → its time. */
  waiting: Map<string, bigint>;
}

export class WriteTracker {
  private readonly open = new Map<string, Tracked>();

  constructor(private readonly emit: (r: WriteReceipt) => void) {}

  /** A write that is stored; tracked further when its boundary is another instance. */
  add(receipt: WriteReceipt): void {
    if (!receipt.remote || receipt.state !== 'stored' || receipt.parentId !== undefined) return;
    const waiting = new Map(receipt.points.map((p) => [appliedKey(p.type, p.key), BigInt(p.time)]));
    this.open.set(receipt.id, { receipt, waiting });
    // Oldest first out: a device that never reports back must not grow this forever.
    while (this.open.size > MAX_TRACKED) this.open.delete(this.open.keys().next().value as string);
  }

  onSync(status: SyncStatus): void {
    for (const t of this.open.values()) {
      const r = t.receipt;
      if (r.state !== 'stored') continue;
      const peer = status.peers.find((p) => p.id === r.boundary);
      const up = peer?.upstream.find((u) => u.stream === r.stream);
      if (up && up.peerLastOriginSeq >= r.seq) this.move(t, 'delivered');
    }
  }

  /** An `applied` point on `nodeId` written by `instance`. */
  onApplied(nodeId: string, instance: string, key: string, value: string): void {
    let time: bigint;
    try {
      time = BigInt(value);
    } catch {
      return;
    }
    for (const t of this.open.values()) {
      const r = t.receipt;
      if (r.nodeId !== nodeId || r.boundary !== instance) continue;
      const want = t.waiting.get(key);
      // A later time means a newer value won there; ours was still delivered.
      if (want !== undefined && time >= want) t.waiting.delete(key);
      if (t.waiting.size === 0) {
        this.move(t, 'applied');
        this.open.delete(r.id);
      }
    }
  }

  private move(t: Tracked, state: WriteReceipt['state']): void {
    t.receipt = { ...t.receipt, state };
    this.emit(t.receipt);
  }

  get size(): number {
    return this.open.size;
  }
}
