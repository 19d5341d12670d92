export type ReplicaState = 'offline' | 'connecting' | 'catching-up' | 'idle' | 'error';

/** One local replica of another origin's stream, and how far behind it is. */
export interface ReplicaStatus {
  stream: string;
  boundary: string;
  origin: string;
  /** The peer it is pulling from: the origin itself, or another copy. */
  source: string;
  state: ReplicaState;
  /** Messages the source holds that are not stored here yet. */
  pendingMessages: number;
  /** Estimate: pending messages times the source stream's mean message size. */
  pendingBytes: number;
  /** Origin sequence of the last message stored here. */
  lastOriginSeq: number;
  /** Messages stored here by this replicator since it started. */
  delivered: number;
  lastError?: string;
}

/** What a peer still lacks of what we hold and it wants (our own writes and
 * copies we carry). */
export interface UpstreamStatus {
  stream: string;
  localLastOriginSeq: number;
  peerLastOriginSeq: number;
  /** Upper bound (origin sequences may have gaps); exact when 0. */
  pendingMessages: number;
}

export interface PeerStatus {
  id: string;
  domain: string;
  role: string;
  reachable: boolean;
  lastSeen: number;
  upstream: UpstreamStatus[];
  /** The peer holds everything of ours it wants. */
  upstreamComplete: boolean;
}

export interface SyncStatus {
  instanceId: string;
  replicas: ReplicaStatus[];
  peers: PeerStatus[];
  /** Every reachable peer holds all this instance's own writes that it wants,
   * and at least one peer was reached. */
  safeToDisconnect: boolean;
}

/** Which boundaries an instance replicates from its peers: `all` (laptop,
 * hub) or only its own root and the devices below it (a device). */
export type WantPolicy = 'all' | 'own';

export interface SyncOptions {
  role?: string;
  want?: WantPolicy;
  /** How often to announce ourselves when nothing changes (ms, default 30 s);
   * changes are announced within 2 s. */
  helloIntervalMs?: number;
  /** How often to re-check replicators against what peers offer, besides
   * every announced change (ms, default 60 s). */
  scanIntervalMs?: number;
  /** Messages per pull request. */
  batch?: number;
  /** Appends in flight before pulling pauses. */
  maxInFlight?: number;
  /** Pull request lifetime and idle heartbeat (ms): a link that goes silent
   * is noticed after about twice the heartbeat. */
  pullExpiresMs?: number;
  heartbeatMs?: number;
}

/** What an instance announces on `siot.sync.hello`. */
export interface Hello {
  id: string;
  domain: string;
  role: string;
  /** `all`, or the boundary ids it replicates. */
  wants: 'all' | string[];
  /** Newest origin sequence of every stream it holds, by stream name: new
   * names start replicators, the numbers say how far its copies go. */
  seqs: Record<string, number>;
}
