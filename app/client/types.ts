// The one API the renderer uses, whichever process serves it (Electron IPC
// or the headless runner over loopback HTTP). Everything here is plain
// JSON-safe data: no bigint, no Uint8Array, so it crosses structured clone
// and JSON unchanged. Point times travel twice: `time` (ns, decimal string)
// is exact for writes and merge ties; `timeMs` is for display and charts.
import type { LinkConfig, LinkStatus, SerialPortInfo } from '../link/index.ts';
import type { ServerState } from '../nats/index.ts';
import type { SyncStatus } from '../sync/index.ts';

export type { LinkConfig, LinkStatus, SerialPortInfo, SyncStatus };

/** How a value is typed on the wire (SIOT `Point.dataType`). */
export type ValueKind = 'float' | 'int' | 'string' | 'json' | 'unknown';

export interface UiPoint {
  type: string;
  key: string;
  /** ns since the epoch, decimal. */
  time: string;
  timeMs: number;
  kind: ValueKind;
  /** Decoded value; JSON values as their text; unknown types as hex. */
  value: number | string;
  tombstone: number;
  /** Who wrote it (client or node id), empty when the node itself did. */
  origin: string;
  /** The instance whose stream holds it (the merge tie-breaker). */
  instance: string;
}

/** One node under one parent (a node with two parents appears twice). */
export interface UiNode {
  id: string;
  parent: string;
  /** From the edge's `nodeType` point. */
  type: string;
  /** The storage boundary: the nearest `device` node or instance root. */
  boundary: string;
  deleted: boolean;
  points: UiPoint[];
  edgePoints: UiPoint[];
}

export interface TreeSnapshot {
  /** This instance's root node id (also its instance id). */
  rootId: string;
  nodes: UiNode[];
}

export interface AppInfo {
  appName: string;
  appVersion: string;
  natsServerVersion: string;
  instanceId: string;
  dataDir: string;
  mode: 'electron' | 'headless';
  /** A simulated device and hub run beside this instance. */
  demo: boolean;
}

export interface PointInput {
  type: string;
  key?: string;
  value: number | string;
  /** Default: float for numbers, string for strings. */
  kind?: Exclude<ValueKind, 'unknown'>;
  /** 1 deletes the point. */
  tombstone?: number;
}

export interface WriteRequest {
  nodeId: string;
  /** Set to write edge points of the edge to this parent. */
  parentId?: string;
  points: PointInput[];
}

/**
 * Where one edit has got to. `pending` exists only in the renderer, before
 * the write returns; the rest come from the main process:
 * - stored: acknowledged by this instance's own stream;
 * - delivered: the boundary's owner (the device) holds it in its stream;
 * - applied: the device reported acting on it (an `applied` point, see
 *   README "Seen applied");
 * - failed: the write was refused, `error` says why.
 */
export type WriteState = 'pending' | 'stored' | 'delivered' | 'applied' | 'failed';

export interface WriteReceipt {
  /** Unique per write; events about it carry the same id. */
  id: string;
  nodeId: string;
  parentId?: string;
  points: Array<{ type: string; key: string; time: string }>;
  /** Boundary the write belongs to; `delivered` means this instance has it. */
  boundary: string;
  stream: string;
  /** Origin sequence of the write in `stream`. */
  seq: number;
  state: WriteState;
  /** Whether the boundary's owner is another instance (else stored = final). */
  remote: boolean;
  error?: string;
}

export interface HistoryRequest {
  nodeId: string;
  type: string;
  key?: string;
  /** Inclusive, ms since the epoch. */
  startMs?: number;
  /** Exclusive, ms since the epoch. */
  endMs?: number;
  /** Newest points kept when more match (default 10,000, at most 100,000). */
  limit?: number;
}

export interface HistorySeries {
  nodeId: string;
  type: string;
  key: string;
  /** ms since the epoch, ascending. */
  times: number[];
  /** Numbers for numeric points; null where a value is not numeric. */
  values: Array<number | null>;
  /** Raw values (strings stay strings), same order. */
  raw: Array<number | string>;
  instances: string[];
  truncated: boolean;
}

export interface ExportFile {
  filename: string;
  mimeType: string;
  text: string;
}

export interface ImportResult {
  /** Ids of the top-level nodes created. */
  nodeIds: string[];
  nodes: number;
  points: number;
}

export type PeerRole = 'device' | 'hub';

export interface SavedConnection {
  id: string;
  name: string;
  role: PeerRole;
  link: LinkConfig;
  user: string;
  password: string;
}

export interface ConnectRequest {
  role: PeerRole;
  link: LinkConfig;
  user: string;
  password: string;
  /** Save (or update) as a named connection. */
  saveAs?: string;
}

export interface ConnectionsState {
  saved: SavedConnection[];
  /** What each role is connected to now (its link status carries the state). */
  active: Partial<Record<PeerRole, { link: LinkConfig; user: string }>>;
}

export interface ServerStatusView {
  state: ServerState;
  version: string;
  restarts: number;
  error?: string;
}

export interface StatusSnapshot {
  server: ServerStatusView;
  sync: SyncStatus;
  links: LinkStatus[];
}

/** Every request the renderer can make. Each takes at most one argument,
 * so IPC and HTTP carry them the same way: `(method, arg) -> result`. */
export interface ClientApi {
  info(): Promise<AppInfo>;
  tree(): Promise<TreeSnapshot>;
  status(): Promise<StatusSnapshot>;
  writePoints(req: WriteRequest): Promise<WriteReceipt>;
  history(req: HistoryRequest): Promise<HistorySeries>;
  /** History as CSV: of one point type, or of every point of the node when `type` is ''. */
  exportCsv(req: HistoryRequest): Promise<ExportFile>;
  exportYaml(req: { nodeId: string; parentId?: string }): Promise<ExportFile>;
  importYaml(req: { parentId: string; text: string }): Promise<ImportResult>;
  listSerialPorts(): Promise<SerialPortInfo[]>;
  connections(): Promise<ConnectionsState>;
  connect(req: ConnectRequest): Promise<ConnectionsState>;
  disconnect(req: { role: PeerRole }): Promise<ConnectionsState>;
  forgetConnection(req: { id: string }): Promise<ConnectionsState>;
}

export type ClientMethod = keyof ClientApi;
export type MethodArg<M extends ClientMethod> = Parameters<ClientApi[M]> extends [infer A] ? A : undefined;
export type MethodResult<M extends ClientMethod> = Awaited<ReturnType<ClientApi[M]>>;

export interface PointChangeView {
  nodeId: string;
  /** Set for edge points. */
  parentId?: string;
  point: UiPoint;
}

/** Pushed from the main process. Point changes are batched (and coalesced
 * per node/type/key) so a busy device cannot flood the renderer. */
export type ClientEvent =
  | { kind: 'points'; changes: PointChangeView[] }
  | { kind: 'status'; status: StatusSnapshot }
  | { kind: 'write'; receipt: WriteReceipt }
  | { kind: 'connections'; connections: ConnectionsState };

/** The renderer's side: the API plus the pushed events. */
export interface Client extends ClientApi {
  onEvent(listener: (e: ClientEvent) => void): () => void;
}

/** Error shape on the wire (IPC and HTTP). */
export interface WireError {
  message: string;
  code?: string;
}
