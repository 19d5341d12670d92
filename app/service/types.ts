import type { ClientApi, ClientEvent, ConnectRequest } from '../client/index.ts';
import type { SyncOptions } from '../sync/index.ts';

export interface ServiceOptions {
  /** The app's data folder (store, credentials, saved connections). */
  dataDir: string;
  mode: 'electron' | 'headless';
  appName?: string;
  appVersion: string;
  /** Also run a simulated device and a hub in `<dataDir>/demo`. */
  demo?: boolean;
  /** Connect the demo hub at start (`auto`, default) or leave it saved for
   * the technician to connect (`manual`). */
  demoHub?: 'auto' | 'manual';
  /** The same for the simulated device. */
  demoDevice?: 'auto' | 'manual';
  /** Simulated inputs on the demo device (default 30) and their period. */
  demoNodes?: number;
  demoPeriodMs?: number;
  /** Connections to make at start (else the last ones used, if any). */
  device?: ConnectRequest;
  hub?: ConnectRequest;
  /** Electron's resources folder (packaged nats-server). */
  resourcesPath?: string;
  /** nats-server binary, found with `findNatsServer` when omitted. */
  binary?: string;
  clientPort?: number;
  diskBudgetBytes?: number;
  /** Sync timing for this instance and the demo's (tests shorten it). */
  syncOptions?: Omit<SyncOptions, 'role' | 'want'>;
}

/** The main-process side: owns nats-server, the store, sync and links, and
 * serves `ClientApi` to whichever transport (IPC or HTTP) carries it. */
export interface Service {
  readonly api: ClientApi;
  onEvent(listener: (e: ClientEvent) => void): () => void;
  /** Flushes writes, closes links, stops sync, the store and nats-server. */
  stop(): Promise<void>;
}
