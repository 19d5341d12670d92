import type { NatsConnection } from '@nats-io/nats-core';
import { NatsServer, connectToServer, findNatsServer, loadOrCreateCredentials, type InstanceCredentials } from '../nats/index.ts';
import { Store, loadOrCreateIdentity } from '../store/index.ts';
import type { InstanceOptions } from './types.ts';

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
      ...(opts.leafAdvertise ? { leafAdvertise: opts.leafAdvertise } : {}),
      ...(opts.leafRemotes ? { leafRemotes: opts.leafRemotes } : {}),
      ...(opts.diskBudgetBytes !== undefined ? { maxFileStore: opts.diskBudgetBytes } : {}),
      ...(opts.syncInterval ? { syncInterval: opts.syncInterval } : {}),
    });
    await server.start();
    let nc: NatsConnection | undefined;
    try {
      nc = await connectToServer(server, `siot-store-${identity.id}`);
      const store = await Store.open({
        nc,
        instanceId: identity.id,
        ...(opts.description ? { description: opts.description } : {}),
        ...(opts.diskBudgetBytes !== undefined ? { diskBudgetBytes: opts.diskBudgetBytes } : {}),
        ...(opts.maxMsgsPerSubject !== undefined ? { maxMsgsPerSubject: opts.maxMsgsPerSubject } : {}),
      });
      return new Instance(identity.id, server, nc, store, credentials);
    } catch (e) {
      await nc?.close().catch(() => undefined);
      await server.stop();
      throw e;
    }
  }

  /** Flushes and stops: API first (in-flight writes finish), then the
   * connection, then the server. */
  async stop(): Promise<void> {
    await this.store.close();
    await this.nc.drain().catch(() => undefined);
    await this.server.stop();
  }
}
