// The SIOT data model (DESIGN.md section 2). Plain data: no methods, so
// points cross IPC, workers and JSON-ish boundaries unchanged.

/** Well-known values of `Point.dataType` (a u8 on the wire). Unknown values
 * are kept as they are so that newer writers' points survive a round trip. */
export const DataType = {
  Unknown: 0,
  Float: 1,
  Int: 2,
  String: 3,
  JSON: 4,
} as const;
export type KnownDataType = (typeof DataType)[keyof typeof DataType];

export interface Point {
  /** Point type, e.g. `value`, `description`. Empty is written as `_` on a subject. */
  type: string;
  /** Map/array key; empty is normalized to `"0"`. */
  key: string;
  /** Nanoseconds since the Unix epoch (int64). Sample time, never the JetStream time. */
  time: bigint;
  /** u8; see `DataType`. */
  dataType: number;
  data: Uint8Array;
  /** int32; odd means deleted. */
  tombstone: number;
  /** Who wrote the point (a client or node id); empty when written by the owning node. */
  origin: string;
}

/** A point together with the instance whose stream holds it: the merge rule
 * breaks ties on the writing instance, not on `Point.origin`. */
export interface OriginPoint {
  point: Point;
  /** Instance id of the stream's origin (`o` in `inst_<b>_<o>`). */
  instance: string;
}

/** A node as the `nodes` API returns it: the node's merged points plus the
 * merged points of one edge to one parent. */
export interface NodeView {
  id: string;
  /** The node type, from the edge's `nodeType` point. */
  type: string;
  parent: string;
  points: Point[];
  edgePoints: Point[];
  /** Kept for protobuf compatibility with SIOT; we do not compute tree hashes. */
  hash: number;
}

/** Parent id of an instance's root node. */
export const ROOT_PARENT = 'root';
/** Node type that starts a new storage boundary. */
export const DEVICE_NODE_TYPE = 'device';
/** Edge point types with fixed meaning. */
export const EdgePointType = {
  NodeType: 'nodeType',
  Tombstone: 'tombstone',
} as const;
