import type { NatsConnection } from '@nats-io/nats-core';
import type { OriginPoint, Point } from '../siot/index.ts';

export interface StoreOptions {
  /** A connection to this instance's own nats-server. */
  nc: NatsConnection;
  /** This instance's id, which is also its root node id. */
  instanceId: string;
  /** History kept per subject (MaxMsgsPerSubject); default 20,000. */
  maxMsgsPerSubject?: number;
  /** Per-stream override of `maxMsgsPerSubject`, by stream name. */
  streamRetention?: Record<string, number>;
  /** Disk budget for all streams (bytes). See `budget.ts` for the policy. */
  diskBudgetBytes?: number;
  /** Serve the SIOT core NATS API (`p.>`, `ep.>`, `nodes.>`); default true. */
  serveApi?: boolean;
  /** Root node description written when the instance is first created. */
  description?: string;
}

/** Where a write goes: one stream per (boundary, origin instance). */
export interface StreamRef {
  name: string;
  boundary: string;
  origin: string;
}

export interface StreamStats extends StreamRef {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  subjects: number;
  maxMsgsPerSubject: number;
}

/** A merged point change, emitted after it is in the merged state. */
export interface PointChange {
  nodeId: string;
  /** Set for edge points. */
  parentId?: string;
  current: OriginPoint;
}

export interface HistoryQuery {
  nodeId: string;
  /** Omit for every type. */
  type?: string;
  /** Omit for every key. */
  key?: string;
  /** Inclusive start, ns since epoch. */
  start?: bigint;
  /** Exclusive end, ns since epoch. */
  end?: bigint;
  /** Most points returned; the newest are kept when more match. Default 10,000. */
  limit?: number;
}

export interface HistoryPoint {
  nodeId: string;
  point: Point;
  /** Instance that wrote it. */
  instance: string;
  stream: string;
  seq: number;
}

export interface HistoryResult {
  points: HistoryPoint[];
  /** More points matched than `limit`; the oldest were left out. */
  truncated: boolean;
  /** Messages read to answer; only the queried subjects are read. */
  scanned: number;
  /** False when retention removed matching messages while they were read. */
  complete: boolean;
}

export interface NodesQuery {
  parentId: string;
  nodeId: string;
  includeDeleted?: boolean;
  nodeType?: string;
}

export interface StoreEvents {
  point: [PointChange];
  /** A stream was created here (a first write to a boundary, or a new replica). */
  stream: [StreamRef];
  /** A local stream grew (its newest origin sequence), by stream name. */
  progress: [string];
}
