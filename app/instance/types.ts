import type { Credentials } from '../nats/index.ts';
import type { SyncOptions } from '../sync/index.ts';

export interface InstanceOptions {
  /** Holds identity, credentials, the JetStream store and the generated server config. */
  dataDir: string;
  /** Used only when the data dir is new; otherwise must match it. */
  instanceId?: string;
  /** Root node description on first start. */
  description?: string;
  /** nats-server binary; found with `findNatsServer` when omitted. */
  binary?: string;
  /** Electron's resources folder, where a packaged app keeps nats-server. */
  resourcesPath?: string;
  /** Open a leaf listener for other instances (port -1 = any free port). */
  leafPort?: number;
  /** Address remotes are told to reconnect to; default: none usable (see
   * UNREACHABLE_ADVERTISE), so they keep to the URL they dialled. */
  leafAdvertise?: string;
  /** Leaf users limited to some boundaries (e.g. one per device a hub
   * serves): each may read only the streams `inst_<b>_*` of its boundaries.
   * The instance's own leaf user (credentials.json) may read everything. */
  leafUsers?: BoundaryLeafUser[];
  /** Instances to connect to as a leaf (their leaf listener and credentials). */
  peers?: PeerLink[];
  /** Sync with connected instances (default on); `false` for a lone store. */
  sync?: SyncOptions | false;
  clientPort?: number;
  /** Disk budget for all streams, in bytes (also the server's max_file_store). */
  diskBudgetBytes?: number;
  maxMsgsPerSubject?: number;
  /** JetStream fsync interval (`always` or a duration such as `2m`). */
  syncInterval?: string;
}

/** A leaf connection this instance dials. */
export interface PeerLink {
  /** e.g. `nats-leaf://127.0.0.1:7422` */
  url: string;
  credentials: Credentials;
  /** nats-server leaf compression (`s2_fast`, `s2_best`, `off`, …). */
  compression?: string;
  /** A device we service rather than a peer we trust: it reads only its own
   * boundaries of ours (app/nats/accounts.ts, DEVICE_LINK_ACCOUNT). */
  limited?: boolean;
}

export interface BoundaryLeafUser {
  user: string;
  password: string;
  boundaries: string[];
}
