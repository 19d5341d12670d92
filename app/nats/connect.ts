import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { NatsServer } from './server.ts';

/** A client of our own server that outlives server restarts: it reconnects
 * forever, and restarts keep the port, so nothing needs to re-wire it.
 * `peers`: in the trusted peers' account (accounts.ts, PEERS_ACCOUNT);
 * `deviceLink`: in the device link's (DEVICE_LINK_ACCOUNT). */
export async function connectToServer(server: NatsServer, name: string, opts: { peers?: boolean; deviceLink?: boolean } = {}): Promise<NatsConnection> {
  return connect({
    ...server.clientConnectOptions(name, opts.deviceLink ? 'device-link' : opts.peers ? 'peers' : 'main'),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    // Replies for in-flight JetStream publishes must fail rather than hang
    // when the server dies mid-request.
    timeout: 10_000,
  });
}
