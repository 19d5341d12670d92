// Collects events and hands them over once per animation frame, so a
// thousand point updates a second cost one model update and one redraw per
// frame, not a thousand.
export type Schedule = (cb: () => void) => void;

export class FrameQueue<T> {
  private items: T[] = [];
  private scheduled = false;
  /** Batches handed over, and items in them (for the responsiveness bench). */
  stats = { frames: 0, items: 0, maxBatch: 0 };

  constructor(
    private readonly deliver: (items: T[]) => void,
    private readonly schedule: Schedule = (cb) => requestAnimationFrame(() => cb()),
  ) {}

  push(...items: T[]): void {
    for (const i of items) this.items.push(i);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (!this.items.length) return;
    const batch = this.items;
    this.items = [];
    this.stats.frames++;
    this.stats.items += batch.length;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
    this.deliver(batch);
  }
}
