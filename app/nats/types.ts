/** A user/password pair; every listener we open requires one. */
export interface Credentials {
  user: string;
  password: string;
}

/** A leaf user that may read only some streams. */
export interface LeafUser extends Credentials {
  /** Streams of ours it may read. Not part of the server configuration
   * (which never names streams): app/instance/leaf-api.ts checks each call. */
  streams: string[];
  /** Instance ids on the other side (the device itself): we may read their
   * JetStream in turn, and exchange hellos with them and no one else. */
  peerIds: string[];
}

/** A leaf remote: our server dials another instance's leaf listener. */
export interface LeafRemote {
  /** e.g. `nats-leaf://127.0.0.1:7422` */
  url: string;
  credentials: Credentials;
  /** Subjects never imported or exported over this leaf (e.g. `p.>`): with one
   * shared account a publish would otherwise be stored by both sides' streams. */
  denyImports?: string[];
  denyExports?: string[];
  /** nats-server leaf compression mode (2.10+), e.g. `s2_fast`, `off`. */
  compression?: string;
  /** Bound to DEVICE_LINK_ACCOUNT (accounts.ts) instead of PEERS_ACCOUNT:
   * the instance reached reads only its own boundaries here. */
  limited?: boolean;
}

export interface ServerConfigInput {
  /** Unique per instance; also used to derive the JetStream domain. */
  instanceId: string;
  /** JetStream store directory. */
  storeDir: string;
  /** Port numbers; -1 lets the server choose (read back from the ports file). */
  clientPort: number;
  monitorPort: number;
  /** Omit to open no leaf listener. */
  leafPort?: number;
  /** Address other instances are told to dial (set explicitly: the server
   * otherwise advertises addresses that bypass a proxy or bridge). */
  leafAdvertise?: string;
  clientCredentials: Credentials;
  /** Credentials remote instances use on our leaf listener; this user may
   * read every stream, from an account of its own (PEERS_ACCOUNT). */
  leafCredentials?: Credentials;
  /** Further leaf users, each allowed to read only the streams named (a hub
   * serving many customers' devices gives each device its own). */
  leafUsers?: LeafUser[];
  leafRemotes?: LeafRemote[];
  /** How soon a dropped leaf link is dialled again (ms); default 500. */
  leafReconnectMs?: number;
  /** Directory where the server writes its `.ports` file. */
  portsDir: string;
  /** JetStream file storage cap (bytes); the server refuses writes above it. */
  maxFileStore?: number;
  /** How often JetStream fsyncs (`always`, or a duration like `2m`). */
  syncInterval?: string;
  /** Bind address for all listeners; loopback unless a test says otherwise. */
  host?: string;
}

/** The ports a running server actually listens on. */
export interface ServerPorts {
  client: number;
  monitor: number;
  leaf?: number;
}

export type ServerState = 'stopped' | 'starting' | 'ready' | 'crashed' | 'restarting' | 'failed';

export interface ServerStatus {
  state: ServerState;
  pid?: number;
  version?: string;
  ports?: ServerPorts;
  restarts: number;
  /** Why the server last stopped unexpectedly, with the tail of its log. */
  lastError?: string;
}

export interface NatsServerOptions extends Omit<ServerConfigInput, 'clientPort' | 'monitorPort' | 'portsDir' | 'storeDir'> {
  /** App data directory: holds the JetStream store, generated config, ports file. */
  dataDir: string;
  /** Path to the nats-server binary (see `findNatsServer`). */
  binary: string;
  clientPort?: number;
  monitorPort?: number;
  /** How long to wait for readiness before giving up (ms). */
  readyTimeoutMs?: number;
  /** Restart after an unexpected exit (default true). */
  restart?: boolean;
  /** First restart delay; doubles up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
}
