// The renderer's state: the tree model, the latest status, connections and
// the edits in flight. Events are applied once per animation frame.
import type { AppInfo, Client, ClientEvent, ConnectionsState, PointChangeView, StatusSnapshot, WriteReceipt, WriteState } from '../../../app/client/index.ts';
import { FrameQueue } from './frame-queue.ts';
import { TreeModel } from './tree-model.ts';

export interface Edit {
  /** Local id until the write returns, then the receipt's id. */
  id: string;
  nodeId: string;
  type: string;
  key: string;
  value: string | number;
  state: WriteState;
  error?: string;
  at: number;
  /** When each state was reached (ms). */
  times: Partial<Record<WriteState, number>>;
}

export class AppState {
  readonly model = new TreeModel();
  version = $state(0);
  /** Bumped when the tree's shape changes (rows must be recomputed). */
  shape = $state(0);
  info = $state<AppInfo | undefined>(undefined);
  status = $state<StatusSnapshot | undefined>(undefined);
  connections = $state<ConnectionsState>({ saved: [], active: {} });
  serviceUp = $state(true);
  loaded = $state(false);
  loadError = $state<string | undefined>(undefined);
  edits = $state<Edit[]>([]);
  /** Expanded tree rows (`parent/id`). */
  expanded = $state(new Set<string>());
  /** Roots already opened once automatically (a root the user closed stays closed). */
  readonly autoExpanded = new Set<string>();
  /** Point changes since start (for the responsiveness bench). */
  applied = 0;
  private readonly pointListeners = new Set<(c: PointChangeView[]) => void>();
  private readonly queue: FrameQueue<ClientEvent>;
  private seq = 0;
  /** Receipt events that came before their write's reply, by receipt id. */
  private readonly early = new Map<string, WriteReceipt>();

  constructor(readonly client: Client) {
    this.queue = new FrameQueue((events) => this.applyEvents(events));
  }

  get frameStats(): { frames: number; items: number; maxBatch: number } {
    return this.queue.stats;
  }

  async start(onConnection?: (l: (up: boolean) => void) => () => void): Promise<void> {
    // Subscribe first so nothing between the snapshot and the stream is lost.
    const buffered: ClientEvent[] = [];
    let live = false;
    this.client.onEvent((e) => (live ? this.queue.push(e) : buffered.push(e)));
    let wasDown = false;
    onConnection?.((up) => {
      this.serviceUp = up;
      // Events were missed while the stream was down: reload the snapshot.
      if (up && wasDown) void this.reload();
      wasDown = !up;
    });
    await this.reload();
    for (const e of buffered) this.queue.push(e);
    live = true;
  }

  async reload(): Promise<void> {
    try {
      const [info, tree, status, connections] = await Promise.all([this.client.info(), this.client.tree(), this.client.status(), this.client.connections()]);
      this.info = info;
      this.model.load(tree);
      this.status = status;
      this.connections = connections;
      this.loaded = true;
      this.loadError = undefined;
      this.version++;
      this.shape++;
    } catch (e) {
      this.loadError = (e as Error).message;
    }
  }

  /** A peer or writer by name: its root node's description when we hold it. */
  nameOf(id: string): string {
    if (id === this.info?.instanceId) return 'this laptop';
    const d = this.model.description(id);
    return d || (id.length > 12 ? `${id.slice(0, 8)}…` : id);
  }

  onPoints(l: (c: PointChangeView[]) => void): () => void {
    this.pointListeners.add(l);
    return () => this.pointListeners.delete(l);
  }

  private applyEvents(events: ClientEvent[]): void {
    const changes: PointChangeView[] = [];
    for (const e of events) {
      if (e.kind === 'points') for (const c of e.changes) changes.push(c);
      else if (e.kind === 'status') this.status = e.status;
      else if (e.kind === 'connections') this.connections = e.connections;
      else if (e.kind === 'write') this.onReceipt(e.receipt);
    }
    if (changes.length) {
      this.applied += changes.length;
      if (this.model.apply(changes)) this.shape++;
      this.version++;
      for (const l of this.pointListeners) l(changes);
    }
  }

  private onReceipt(r: WriteReceipt): void {
    const order: WriteState[] = ['pending', 'stored', 'delivered', 'applied'];
    let known = false;
    this.edits = this.edits.map((e) => {
      if (e.id !== r.id) return e;
      known = true;
      if (order.indexOf(r.state) <= order.indexOf(e.state)) return e;
      return { ...e, state: r.state, times: { ...e.times, [r.state]: Date.now() } };
    });
    if (known) return;
    // The service can report progress before the write's reply reaches us
    // (the edit still has its local id): kept until edit() learns the id.
    const prev = this.early.get(r.id);
    if (!prev || order.indexOf(r.state) > order.indexOf(prev.state)) this.early.set(r.id, r);
    while (this.early.size > 200) this.early.delete(this.early.keys().next().value as string);
  }

  /** Writes one point; the edit's state moves as receipts come back. */
  async edit(nodeId: string, type: string, key: string, value: string | number, kind?: 'float' | 'int' | 'string' | 'json'): Promise<void> {
    const local = `local-${++this.seq}`;
    const now = Date.now();
    this.edits = [{ id: local, nodeId, type, key, value, state: 'pending' as WriteState, at: now, times: { pending: now } }, ...this.edits].slice(0, 200);
    try {
      const r = await this.client.writePoints({ nodeId, points: [{ type, key, value, ...(kind ? { kind } : {}) }] });
      const t = Date.now();
      this.edits = this.edits.map((e) =>
        e.id === local ? { ...e, id: r.id, state: r.state === 'stored' && !r.remote ? 'stored' : r.state, times: { ...e.times, stored: t, ...(r.state !== 'stored' ? { [r.state]: t } : {}) } } : e,
      );
      const early = this.early.get(r.id);
      if (early) {
        this.early.delete(r.id);
        this.onReceipt(early);
      }
    } catch (e) {
      this.edits = this.edits.map((x) => (x.id === local ? { ...x, state: 'failed' as WriteState, error: (e as Error).message } : x));
      throw e;
    }
  }
}
