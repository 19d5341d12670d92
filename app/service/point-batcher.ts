// Point changes reach the renderer in batches: one per interval, and within
// a batch only the newest change of each (node, edge, type, key). A device
// sampling 30 inputs at 1 kHz then costs the renderer a few messages a
// second, not thousands.
import type { PointChangeView } from '../client/index.ts';

export class PointBatcher {
  private pending = new Map<string, PointChangeView>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly flushTo: (changes: PointChangeView[]) => void,
    private readonly intervalMs = 50,
  ) {}

  add(c: PointChangeView): void {
    const id = `${c.nodeId}\u0000${c.parentId ?? ''}\u0000${c.point.type}\u0000${c.point.key}`;
    // Delete first so the map's order is the order of last change.
    this.pending.delete(id);
    this.pending.set(id, c);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const out = [...this.pending.values()];
    this.pending = new Map();
    this.flushTo(out);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }
}
