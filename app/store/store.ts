import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  DEVICE_NODE_TYPE,
  EdgePointType,
  ROOT_PARENT,
  checkPointTokens,
  decodePoints,
  encodePoints,
  floatPoint,
  instEdgeSubject,
  normalizeKey,
  instStreamSubjects,
  stringPoint,
  validateToken,
  wins,
  type NodeView,
  type OriginPoint,
  type Point,
} from '../siot/index.ts';
import { DiskBudget } from './budget.ts';
import { queryHistory } from './history.ts';
import { queryNodes } from './nodes-query.ts';
import { readStream } from './read.ts';
import { MergedState, typeKey } from './state.ts';
import { DEFAULT_MAX_MSGS_PER_SUBJECT, Streams } from './streams.ts';
import { StoreApi } from './api.ts';
import { FanOut } from './fan-out.ts';
import { lastOriginSeqOf } from './streams.ts';
import { StoreWriteError, describeWriteFailure, outcomeUnknown } from './write-errors.ts';
import { AckPublisher, type Ack } from './publisher.ts';
import { ReplicaAppends } from './replica-append.ts';
import { UncertainWrites } from './uncertain.ts';
import type { UnconfirmedAppend } from './unconfirmed.ts';
import type { HistoryQuery, HistoryResult, NodesQuery, PointChange, StoreEvents, StoreOptions, StreamRef, StreamStats } from './types.ts';

export { ORIGIN_SEQ_HEADER } from './streams.ts';

/**
 * The SIOT JetStream store: points in boundary-origin streams, merged state
 * in memory, the SIOT core NATS API on top.
 */
export class Store extends EventEmitter<StoreEvents> {
  readonly instanceId: string;
  readonly state = new MergedState();
  private readonly nc: NatsConnection;
  private readonly jsm: JetStreamManager;
  private readonly streams: Streams;
  private readonly publisher: AckPublisher;
  private readonly edgeLocks = new Map<string, Promise<unknown>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly upFanOut: FanOut;
  private readonly replicaAppends: ReplicaAppends;
  /** Origin sequence of the newest message in each local stream: what a
   * peer's copy is compared with to tell how far behind it is. */
  private readonly lastOrigin = new Map<string, number>();
  /** Writes whose fate is unknown, read back once the server answers. */
  private readonly uncertain: UncertainWrites;
  private api?: StoreApi;
  private budget?: DiskBudget;
  private closed = false;

  private constructor(opts: StoreOptions, jsm: JetStreamManager) {
    super();
    this.instanceId = opts.instanceId;
    this.nc = opts.nc;
    this.jsm = jsm;
    this.upFanOut = new FanOut(opts.nc, this.state);
    this.publisher = new AckPublisher(opts.nc);
    this.publisher.start();
    this.uncertain = new UncertainWrites(jsm, (ref, subject, data) => {
      const prefixLen = ref.boundary.length + ref.origin.length + 7; // "inst." + "." + "."
      for (const c of this.applyStored(subject, prefixLen, data, ref.origin, false)) this.safeEmit(c);
    });
    this.replicaAppends = new ReplicaAppends(
      this.publisher,
      (ref, a, backlog) => this.applyReplicated(ref, a, backlog),
      (subject, ref) => this.uncertain.add(subject, ref),
    );
    void this.watchReconnects();
    const perStream = opts.streamRetention ?? {};
    const dflt = opts.maxMsgsPerSubject ?? DEFAULT_MAX_MSGS_PER_SUBJECT;
    this.streams = new Streams(jsm, (name) => perStream[name] ?? dflt, (ref) => this.emit('stream', ref));
  }

  /** Opens the store: finds its streams, loads the merged state in bulk,
   * creates the root node on first run and starts serving the NATS API. */
  static async open(opts: StoreOptions): Promise<Store> {
    validateToken('instance id', opts.instanceId);
    const jsm = await jetstreamManager(opts.nc);
    const store = new Store(opts, jsm);
    await store.streams.discover();
    await store.loadAll();
    await Promise.all(store.streams.all().map(async (r) => store.lastOrigin.set(r.name, await lastOriginSeqOf(jsm, r.name))));
    if (!store.state.hasEdge(store.instanceId, ROOT_PARENT)) {
      await store.writeEdgePoints(store.instanceId, ROOT_PARENT, [
        stringPoint(EdgePointType.NodeType, DEVICE_NODE_TYPE),
        floatPoint(EdgePointType.Tombstone, 0),
      ]);
      await store.writeNodePoints(store.instanceId, [stringPoint('description', opts.description ?? `instance ${opts.instanceId}`)]);
    }
    if (opts.diskBudgetBytes !== undefined) {
      store.budget = new DiskBudget(jsm, store.streams, opts.diskBudgetBytes);
      store.budget.start();
    }
    if (opts.serveApi ?? true) {
      store.api = new StoreApi(opts.nc, store);
      await store.api.start();
    }
    return store;
  }

  private async watchReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (this.closed) return;
      if (s.type === 'reconnect' && this.uncertain.size) void this.reconcile();
    }
  }

  /** Loads the tips of every local `inst_*` stream (a last-per-subject read
   * per stream) into the merged state. Returns the messages read. */
  async loadAll(): Promise<number> {
    // In parallel: the server selects tips of one stream while we decode another's.
    const counts = await Promise.all(this.streams.all().map((ref) => this.loadStream(ref)));
    return counts.reduce((a, b) => a + b, 0);
  }

  private async loadStream(ref: StreamRef): Promise<number> {
    const prefix = instStreamSubjects(ref.boundary, ref.origin).slice(0, -1);
    for (let attempt = 1; ; attempt++) {
      const r = await readStream(this.nc, this.jsm, { stream: ref.name, filterSubjects: [`${prefix}>`], mode: 'last' }, (subject, data) => {
        this.applyStored(subject, prefix.length, data, ref.origin, false);
      });
      // A tip removed mid-read was replaced by a newer message, which the
      // read did not ask for: read the tips again (merging is idempotent).
      if (r.read === r.total) return r.read;
      if (attempt === 3) throw new Error(`loading ${ref.name}: ${r.total - r.read} of ${r.total} tips vanished while reading, three times; is something purging it?`);
    }
  }

  /** Folds one stored message into the merged state. The stream's filter
   * fixes the `inst.<b>.<o>.` prefix, so only the rest is split (the full
   * parser cost as much as decoding on a cold load). Bad messages, which only
   * a foreign writer could have stored, are skipped, not fatal. */
  private applyStored(subject: string, prefixLen: number, data: Uint8Array, instance: string, emit: boolean): PointChange[] {
    const changes: PointChange[] = [];
    const dot = subject.indexOf('.', prefixLen);
    if (dot < 0) return changes;
    const id = subject.slice(prefixLen, dot);
    let points: Point[];
    try {
      points = decodePoints(data);
    } catch {
      return changes;
    }
    if (subject.startsWith('p.', dot + 1)) {
      for (const point of points) {
        const op = { point, instance };
        if (this.state.applyNodePoint(id, op) && emit) changes.push({ nodeId: id, current: op });
      }
    } else if (subject.startsWith('ep.', dot + 1)) {
      const childId = subject.slice(dot + 4);
      if (!childId || childId.includes('.')) return changes;
      for (const op of this.state.applyEdgePoints(childId, id, instance, points)) {
        if (emit) changes.push({ nodeId: childId, parentId: id, current: op });
      }
    }
    for (const c of changes) this.safeEmit(c);
    return changes;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the store is closed');
  }

  private static prepare(points: readonly Point[]): Point[] {
    if (points.length === 0) throw new StoreWriteError('no points to write', 0, 0);
    return points.map((p) => {
      checkPointTokens(p);
      return p.key === '' ? { ...p, key: normalizeKey(p.key) } : p;
    });
  }

  /** Counts a write until it settles, so close() can wait for it. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    void work.then(
      () => this.inflight.delete(work),
      () => this.inflight.delete(work),
    );
    return work;
  }

  /** Appends node points to this instance's stream for the node's boundary;
   * resolves once every point is acknowledged and in the merged state. */
  async writeNodePoints(nodeId: string, points: readonly Point[]): Promise<void> {
    this.checkOpen();
    validateToken('node id', nodeId);
    const pts = Store.prepare(points);
    return this.track(this.writeNodePointsChecked(nodeId, pts));
  }

  private async writeNodePointsChecked(nodeId: string, pts: Point[]): Promise<void> {
    const o = this.instanceId;
    const b = this.state.boundaryOf(nodeId, o);
    const ensured = this.streams.ensure(b, o);
    const ref = ensured instanceof Promise ? await ensured : ensured;
    // Tokens were validated above; build subjects without validating again.
    const prefix = `inst.${b}.${o}.${nodeId}.p.`;
    const subjects = pts.map((p) => `${prefix}${p.type || '_'}.${p.key}`);
    const payloads = pts.map((p) => encodePoints([p]));
    const acks = pts.map((_p, i) => this.publisher.publish(subjects[i] as string, payloads[i] as Uint8Array));
    await this.settle(ref, acks, subjects, (i) => {
      const p = pts[i] as Point;
      const op = { point: p, instance: o };
      const changes: PointChange[] = this.state.applyNodePoint(nodeId, op) ? [{ nodeId, current: op }] : [];
      return { changes, fanOut: () => this.upFanOut.now(nodeId, undefined, p, payloads[i] as Uint8Array) };
    });
  }

  /** Writes edge points. Each message carries this instance's full set for
   * the edge, so the stream's tip alone restores the edge. Writes to one edge
   * are serialized so no concurrent write drops another's points. */
  async writeEdgePoints(childId: string, parentId: string, points: readonly Point[]): Promise<void> {
    this.checkOpen();
    validateToken('node id', childId);
    validateToken('parent id', parentId);
    const pts = Store.prepare(points);
    const lockKey = `${childId}.${parentId}`;
    const prev = this.edgeLocks.get(lockKey) ?? Promise.resolve();
    const run = prev.catch(() => undefined).then(() => this.writeEdgeLocked(childId, parentId, pts));
    this.edgeLocks.set(lockKey, run);
    void run.then(
      () => this.edgeLocks.get(lockKey) === run && this.edgeLocks.delete(lockKey),
      () => this.edgeLocks.get(lockKey) === run && this.edgeLocks.delete(lockKey),
    );
    return this.track(run);
  }

  private async writeEdgeLocked(childId: string, parentId: string, pts: Point[]): Promise<void> {
    const o = this.instanceId;
    const full = new Map<string, Point>();
    for (const p of this.state.ownEdgePoints(childId, parentId, o)) full.set(typeKey(p.type, p.key), p);
    for (const p of pts) {
      const id = typeKey(p.type, p.key);
      const cur = full.get(id);
      if (wins({ point: p, instance: o }, cur ? { point: cur, instance: o } : undefined)) full.set(id, p);
    }
    const set = [...full.values()];
    const b = this.state.edgeBoundary(childId, parentId, o);
    const ensured = this.streams.ensure(b, o);
    const ref = ensured instanceof Promise ? await ensured : ensured;
    // Listeners above the old position must hear a delete or move too, so
    // the targets are taken before the edge changes.
    const before = parentId === ROOT_PARENT ? [] : [parentId, ...this.state.ancestors(parentId)];
    const subject = instEdgeSubject(b, o, parentId, childId);
    await this.settle(ref, [this.publisher.publish(subject, encodePoints(set))], [subject], () => {
      const changes = this.state.applyEdgePoints(childId, parentId, o, set).map((op) => ({ nodeId: childId, parentId, current: op }));
      return { changes, fanOut: () => {
        for (const p of pts) this.upFanOut.now(childId, parentId, p, encodePoints([p]), before);
      } };
    });
  }

  /**
   * Waits for every ack. Acknowledged writes go into the merged state first
   * (all of them, even when others failed), then listeners hear of them,
   * then they are fanned out, so a throwing listener cannot leave the cache
   * behind the stream. A write whose fate is unknown (the connection dropped
   * before the ack) is looked up again once the server is back.
   */
  private async settle(
    ref: StreamRef,
    acks: Promise<Ack>[],
    subjects: string[],
    onStored: (index: number) => { changes: PointChange[]; fanOut: () => void },
  ): Promise<void> {
    const results = await Promise.allSettled(acks);
    let failed = 0;
    let firstError: unknown;
    const stored: Array<{ changes: PointChange[]; fanOut: () => void }> = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') {
        this.advance(ref.name, r.value.seq);
        stored.push(onStored(i));
        return;
      }
      failed++;
      firstError ??= r.reason;
      if (outcomeUnknown(r.reason)) this.uncertain.add(subjects[i] as string, ref);
    });
    for (const s of stored) for (const c of s.changes) this.safeEmit(c);
    for (const s of stored) s.fanOut();
    if (failed) {
      throw new StoreWriteError(
        `${failed} of ${results.length} point write(s) failed: ${describeWriteFailure(firstError, this.budget !== undefined)}`,
        results.length - failed,
        failed,
        { cause: firstError },
      );
    }
  }

  private safeEmit(c: PointChange): void {
    try {
      this.emit('point', c);
    } catch (e) {
      // A listener's bug must not fail a write that is stored.
      process.emitWarning(`a store 'point' listener threw: ${(e as Error).message}`);
    }
  }

  /** Reads back the tips of subjects whose writes ended without an answer,
   * so the merged state matches what the stream really holds. */
  reconcile(): Promise<number> {
    return this.uncertain.readBack();
  }

  /** Creates a node under `parentId`; returns its id. A `device` node starts
   * a new storage boundary. */
  async createNode(parentId: string, nodeType: string, points: readonly Point[] = [], id: string = randomUUID()): Promise<string> {
    await this.writeEdgePoints(id, parentId, [stringPoint(EdgePointType.NodeType, nodeType), floatPoint(EdgePointType.Tombstone, 0)]);
    if (points.length) await this.writeNodePoints(id, points);
    return id;
  }

  /** Deletes a node under one parent (its other parents keep it). */
  async deleteNode(id: string, parentId: string): Promise<void> {
    if (!this.state.hasEdge(id, parentId)) throw new Error(`node ${id} has no edge to parent ${parentId}`);
    await this.writeEdgePoints(id, parentId, [floatPoint(EdgePointType.Tombstone, 1)]);
  }

  /** Adds a parent, keeping the existing ones (SIOT's mirror). */
  async addParent(id: string, newParentId: string): Promise<void> {
    const type = this.state.nodeType(id);
    if (!type) throw new Error(`node ${id} not found`);
    await this.writeEdgePoints(id, newParentId, [stringPoint(EdgePointType.NodeType, type), floatPoint(EdgePointType.Tombstone, 0)]);
  }

  /** Moves a node: the new edge first, so it is never parentless. */
  async moveNode(id: string, fromParentId: string, toParentId: string): Promise<void> {
    if (fromParentId === toParentId) return;
    await this.addParent(id, toParentId);
    await this.deleteNode(id, fromParentId);
  }

  /** The local copy of another origin's stream, created on first use. Sync
   * appends to it; nothing else may. */
  async ensureReplicaStream(boundary: string, origin: string): Promise<StreamRef> {
    if (origin === this.instanceId) throw new Error(`stream of origin ${origin} is this instance's own; it is written, never replicated`);
    return this.streams.ensure(boundary, origin);
  }

  /**
   * Appends one message of another origin's log to its local replica, with
   * the origin sequence in `Siot-Seq` and `Nats-Expected-Last-Sequence` so
   * that the server refuses anything but the next message in order (no
   * duplicate, no gap, even with many appends in flight). Once stored, it is
   * merged and fanned out like a local write.
   */
  async appendReplicated(ref: StreamRef, subject: string, data: Uint8Array, originSeq: number, expectedLastSeq: number, backlog = false): Promise<Ack> {
    this.checkOpen();
    return this.replicaAppends.append(ref, subject, data, originSeq, expectedLastSeq, backlog);
  }

  /**
   * Like `appendReplicated`, without waiting for (or asking for) its
   * acknowledgement: the next `appendReplicated` to the same stream settles
   * it, and it is merged once known stored (app/store/unconfirmed.ts). The
   * caller must follow a run of these with an acknowledged one.
   */
  appendReplicatedUnconfirmed(ref: StreamRef, subject: string, data: Uint8Array, originSeq: number, expectedLastSeq: number, backlog = false): void {
    this.checkOpen();
    this.replicaAppends.appendUnconfirmed(ref, subject, data, originSeq, expectedLastSeq, backlog);
  }

  /** A replicated message known stored: merged, then fanned out. */
  private applyReplicated(ref: StreamRef, a: UnconfirmedAppend, backlog: boolean): void {
    this.advance(ref.name, a.originSeq);
    const prefixLen = ref.boundary.length + ref.origin.length + 7; // "inst." + "." + "."
    const changes = this.applyStored(a.subject, prefixLen, a.data, ref.origin, true);
    for (const c of changes) {
      if (backlog) this.upFanOut.later(c);
      else this.upFanOut.now(c.nodeId, c.parentId, c.current.point, encodePoints([c.current.point]));
    }
  }

  nodes(q: NodesQuery): NodeView[] {
    return queryNodes(this.state, q);
  }

  nodePoints(nodeId: string): OriginPoint[] {
    return this.state.nodePoints(nodeId);
  }

  history(q: HistoryQuery): Promise<HistoryResult> {
    return queryHistory(this.nc, this.jsm, this.streams.all(), q);
  }

  streamRefs(): StreamRef[] {
    return this.streams.all();
  }

  async streamStats(): Promise<StreamStats[]> {
    return Promise.all(this.streams.all().map((r) => this.streams.stats(r)));
  }

  /** Origin sequence of the newest message held in a local stream (0: none). */
  lastOriginSeq(streamName: string): number {
    return this.lastOrigin.get(streamName) ?? 0;
  }

  private advance(stream: string, originSeq: number): void {
    if (originSeq > (this.lastOrigin.get(stream) ?? 0)) {
      this.lastOrigin.set(stream, originSeq);
      this.emit('progress', stream);
    }
  }

  /** Drops a stream from the registry after it was deleted behind our back,
   * so the next write or replication creates it again. */
  forgetStream(name: string): void {
    this.streams.forget(name);
    this.lastOrigin.delete(name);
    this.replicaAppends.forget(name);
    this.uncertain.forgetStream(name);
  }

  /** Changes how much history one stream keeps per subject (>= 1). */
  setRetention(streamName: string, maxMsgsPerSubject: number): Promise<void> {
    return this.streams.setMaxMsgsPerSubject(streamName, maxMsgsPerSubject);
  }

  /** Runs the disk budget policy now (it also runs on a timer). */
  async enforceBudget(): Promise<{ usage: number; thinned: string[] }> {
    if (!this.budget) throw new Error('no disk budget configured (StoreOptions.diskBudgetBytes)');
    return this.budget.enforce();
  }

  onPoint(fn: (c: PointChange) => void): () => void {
    this.on('point', fn);
    return () => this.off('point', fn);
  }

  /** Stops serving the API and waits for its in-flight writes; the
   * connection stays the caller's. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.budget?.stop();
    await this.api?.stop();
    // Writes already sent get their acknowledgement before the publisher goes.
    await Promise.allSettled([...this.inflight]);
    this.upFanOut.stop();
    this.publisher.close();
    this.replicaAppends.forget();
  }
}
