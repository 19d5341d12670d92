import type { NatsConnection } from '@nats-io/nats-core';
import {
  DEVICE_LINK_ACCOUNT,
  LOCAL_ONLY_SUBJECTS,
  NatsServer,
  connectToServer,
  findNatsServer,
  instanceIdOfServerName,
  jetStreamDomain,
  loadOrCreateCredentials,
  type InstanceCredentials,
  type LeafRemote,
} from '../nats/index.ts';
import { Store, loadOrCreateIdentity } from '../store/index.ts';
import { Sync } from '../sync/index.ts';
import { LeafApi } from './leaf-api.ts';
import type { InstanceOptions, PeerLink } from './types.ts';

/**
 * What a leaf listener advertises when told nothing. nats-server before 2.15
 * always advertises the listener's own address to remotes (nats-server
 * issue 8367), and a remote that loses its link tries that address too: a
 * laptop reaching a device through a serial bridge or a proxy would dial the
 * device's loopback address on the laptop. An address nobody listens on
 * keeps remotes on the URLs they were given.
 */
export const UNREACHABLE_ADVERTISE = '127.0.0.1:1';

/** Leaf remote for a peer: the write, stream and live-API subjects never
 * cross, in either direction (with one shared account a publish would
 * otherwise be stored, and acknowledged, by both sides' streams). */
export function leafRemoteFor(peer: PeerLink): LeafRemote {
  return {
    url: peer.url,
    credentials: peer.credentials,
    denyImports: LOCAL_ONLY_SUBJECTS,
    denyExports: LOCAL_ONLY_SUBJECTS,
    ...(peer.compression ? { compression: peer.compression } : {}),
    ...(peer.limited ? { limited: true } : {}),
  };
}

/** How often our own server's leaf connections are looked at. */
const LEAF_WATCH_MS = 1_000;

/** Tells sync whenever our server's leaf connections change (one dropped or
 * a new one up), from its `/leafz`: with long pull heartbeats a lost link
 * is otherwise noticed only by a round's watchdog. */
function watchLeafs(server: NatsServer, sync: Sync): NodeJS.Timeout {
  let last: string | undefined;
  let busy = false;
  const t = setInterval(() => {
    if (busy) return;
    busy = true;
    void server
      .leafConnections()
      .then((ls) => {
        const now = ls.map((l) => `${l.account}/${l.name}@${l.ip}:${l.port}`).sort().join(' ');
        if (last !== undefined && now !== last) sync.leafsChanged();
        last = now;
      })
      .finally(() => (busy = false));
  }, LEAF_WATCH_MS);
  t.unref();
  return t;
}

/**
 * One running SIOT instance: its own nats-server (JetStream on, its own
 * domain) and the store on top. Device, laptop and hub are all this.
 */
export class Instance {
  private constructor(
    readonly id: string,
    readonly server: NatsServer,
    readonly nc: NatsConnection,
    readonly store: Store,
    readonly credentials: InstanceCredentials,
    readonly sync: Sync | undefined,
    private readonly leafApi: LeafApi,
    /** Ours in the peers' account (app/nats/accounts.ts): other instances'
     * JetStream (`$JS.<their domain>.API`) is reached through this one. */
    readonly peersNc: NatsConnection,
    /** Ours in the device link's account: a device dialled `limited`. */
    readonly deviceLinkNc: NatsConnection,
    private readonly leafWatch?: NodeJS.Timeout,
  ) {}

  static async start(opts: InstanceOptions): Promise<Instance> {
    const identity = loadOrCreateIdentity(opts.dataDir, opts.instanceId);
    const credentials = loadOrCreateCredentials(opts.dataDir);
    const binary = opts.binary ?? findNatsServer(opts.resourcesPath ? { resourcesPath: opts.resourcesPath } : {}).path;
    const server = new NatsServer({
      instanceId: identity.id,
      dataDir: opts.dataDir,
      binary,
      clientCredentials: credentials.client,
      ...(opts.clientPort !== undefined ? { clientPort: opts.clientPort } : {}),
      ...(opts.leafPort !== undefined ? { leafPort: opts.leafPort, leafCredentials: credentials.leaf } : {}),
      ...(opts.leafPort !== undefined ? { leafAdvertise: opts.leafAdvertise ?? UNREACHABLE_ADVERTISE } : {}),
      ...(opts.peers?.length ? { leafRemotes: opts.peers.map(leafRemoteFor) } : {}),
      ...(opts.leafUsers?.length ? { leafUsers: opts.leafUsers.map((u) => ({ user: u.user, password: u.password, streams: [], peerIds: u.boundaries })) } : {}),
      ...(opts.diskBudgetBytes !== undefined ? { maxFileStore: opts.diskBudgetBytes } : {}),
      ...(opts.syncInterval ? { syncInterval: opts.syncInterval } : {}),
    });
    await server.start();
    let nc: NatsConnection | undefined;
    let peersNc: NatsConnection | undefined;
    let deviceLinkNc: NatsConnection | undefined;
    let leafWatch: NodeJS.Timeout | undefined;
    try {
      nc = await connectToServer(server, `siot-store-${identity.id}`);
      // Peers live in an account of their own (app/nats/accounts.ts):
      // those that dial our leaf listener with its own user, and those we
      // dial. Sync hears and calls them through this connection.
      peersNc = await connectToServer(server, `siot-peers-${identity.id}`, { peers: true });
      deviceLinkNc = await connectToServer(server, `siot-device-link-${identity.id}`, { deviceLink: true });
      const store = await Store.open({
        nc,
        instanceId: identity.id,
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.diskBudgetBytes !== undefined ? { diskBudgetBytes: opts.diskBudgetBytes } : {}),
        ...(opts.maxMsgsPerSubject !== undefined ? { maxMsgsPerSubject: opts.maxMsgsPerSubject } : {}),
      });
      const leafApi = new LeafApi(nc, store, opts.leafUsers ?? [], async () =>
        (await server.leafServerNames(DEVICE_LINK_ACCOUNT)).flatMap((n) => instanceIdOfServerName(n) ?? []),
      );
      await leafApi.start();
      let sync: Sync | undefined;
      if (opts.sync !== false) {
        // Hellos on our main connection come from limited devices at a hub
        // (imported from their accounts), those on the device link from the
        // device we dial: both may serve only their own boundary.
        sync = new Sync(store, nc, jetStreamDomain(identity.id), opts.sync ?? {}, [peersNc, deviceLinkNc], [nc, deviceLinkNc]);
        sync.on('hello', (h) => void leafApi.announce(h).catch(() => undefined));
        await sync.start();
        leafWatch = watchLeafs(server, sync);
      }
      return new Instance(identity.id, server, nc, store, credentials, sync, leafApi, peersNc, deviceLinkNc, leafWatch);
    } catch (e) {
      await deviceLinkNc?.close().catch(() => undefined);
      await peersNc?.close().catch(() => undefined);
      await nc?.close().catch(() => undefined);
      await server.stop();
      throw e;
    }
  }

  /** Replaces the instances this one dials. nats-server 2.10 cannot reload
   * leaf remotes, so its server restarts on the same ports (clients and
   * sync reconnect by themselves); prefer a relay (app/link) that stays put. */
  async setPeers(peers: PeerLink[]): Promise<void> {
    await this.server.restartWith({ leafRemotes: peers.map(leafRemoteFor) });
  }

  /** Leaf listener URL other instances dial (needs `leafPort`). */
  get leafUrl(): string {
    const port = this.server.ports.leaf;
    if (port === undefined) throw new Error(`instance ${this.id} has no leaf listener; start it with leafPort`);
    return `nats-leaf://127.0.0.1:${port}`;
  }

  /** Flushes and stops: sync first, then the API (in-flight writes finish), then the
   * connection, then the server. */
  async stop(): Promise<void> {
    clearInterval(this.leafWatch);
    await this.sync?.stop();
    this.leafApi.stop();
    await this.store.close();
    await this.deviceLinkNc.drain().catch(() => undefined);
    await this.peersNc.drain().catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
    await this.server.stop();
  }
}
