import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { LeafUser } from './types.ts';

/** A JSON value nats-server reads as configuration. */
export type ConfValue = string | number | boolean | ConfValue[] | { [k: string]: ConfValue | undefined };

/** The account our own users, JetStream and streams live in. A named one:
 * nats-server reserves `$G` (no exports or imports can be configured on it). */
export const MAIN_ACCOUNT = 'SIOT';

/** Name of the account a boundary-limited leaf user is confined to. */
export function leafAccountName(user: string): string {
  return `leaf_${user.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Where a service import's replies must be able to go for a few minutes:
 * a pull request lives up to its expiry, and its deliveries are replies. */
const RESPONSE_THRESHOLD = '10m';

/** Subject prefix, in the main account, on which a limited leaf account's
 * JetStream calls arrive (`<prefix>.<account>.<API path>`): our own code
 * (app/instance/leaf-api.ts) checks each against the streams the account
 * may read at that moment and forwards it to JetStream. */
export const LEAF_API_PREFIX = 'siot.leafapi';

/** What a limited leaf account imports of our JetStream, to read one stream
 * (the API paths the leaf API accepts; used for permissions elsewhere). */
export function streamReadImports(stream: string): string[] {
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  ];
}

/** Account of the peers we trust with all our streams: those that dial our
 * leaf listener with its own user (laptops, other full peers), and those we
 * dial (every leaf remote is bound to it; otherwise the instance we dial
 * would send into our main account, where a pull request's reply subject
 * can be one of our stream subjects and our write API answers). It reaches
 * our JetStream like a limited account (through the leaf API, which lets it
 * read every stream, and pull requests through their import), so a reply
 * subject chosen by a peer can never be one of our stream or write-API
 * subjects either. Unlike a limited account
 * it imports nothing into ours: its peers are not known in advance, and a
 * wildcard import of their JetStream API (`$JS.*.API.>`) collides with the
 * imports of our own API under `$JS.<domain>.API.>` (nats-server refuses
 * that as an import cycle). Our own code joins it instead, with a second
 * connection (`peersClientUser`) that hears the peers' hellos and calls
 * their JetStream (app/sync). */
export const PEERS_ACCOUNT = 'SIOT_PEERS';

/** The user our own code connects to PEERS_ACCOUNT with (same password as
 * the client user). */
export function peersClientUser(clientUser: string): string {
  return `${clientUser}_peers`;
}

/** Account of the leaf remotes we dial to a device we service (`PeerLink`
 * `limited`): like PEERS_ACCOUNT, except that the leaf API lets it read only
 * the streams of the boundary of the instance connected there (by its
 * server name) and of the devices nested below it; its hellos list only
 * those (limitedHelloSubject). A technician's laptop holds the data of
 * every device it has visited; the one it is plugged into reaches its own. */
export const DEVICE_LINK_ACCOUNT = 'SIOT_DEVICE_LINK';

/** The user our own code connects to DEVICE_LINK_ACCOUNT with. */
export function deviceLinkClientUser(clientUser: string): string {
  return `${clientUser}_device_link`;
}

/** A leaf account's user: who logs in and with which permissions. */
export interface LeafAccountUser {
  user: string;
  password: string;
  permissions?: ConfValue;
}

/** What a leaf account imports of ours: JetStream calls through the leaf
 * API, pull requests directly, and our hellos. A peer calls us as
 * `$JS.<our domain>.API.…`, imported under that name (which also tells the
 * peer's server to send such calls here). Once a leaf with its own
 * JetStream domain connects, nats-server maps those subjects to
 * `$JS.API.…` in this account before imports apply (2.10.27), so the same
 * imports exist under those names too; they also keep nats-server from
 * answering "not enabled" for an account without JetStream. Pull requests
 * go to JetStream directly: their deliveries must keep their subjects. */
/** Where our hello for one limited account is published (the leaf API
 * lists only the streams that account may read): the account imports it as
 * our plain hello subject, so no device learns the names or progress of
 * another customer's streams. */
export function limitedHelloSubject(account: string): string {
  return `siot.hellofor.${account}`;
}

function leafAccountImports(name: string, domain: string, hello: string): ConfValue[] {
  return [
    ...[`$JS.${domain}.API`, '$JS.API'].flatMap((local) => [
      { service: { account: MAIN_ACCOUNT, subject: `${LEAF_API_PREFIX}.${name}.>` }, to: `${local}.>` },
      { service: { account: MAIN_ACCOUNT, subject: '$JS.API.CONSUMER.MSG.NEXT.*.*' }, to: `${local}.CONSUMER.MSG.NEXT.*.*` },
    ]),
    name === PEERS_ACCOUNT ? { stream: { account: MAIN_ACCOUNT, subject: hello } } : { stream: { account: MAIN_ACCOUNT, subject: limitedHelloSubject(name) }, to: hello },
  ];
}

/**
 * Accounts for leaf users: the trusted one (PEERS_ACCOUNT, when `trusted`
 * users are given) and boundary-limited ones (a hub serving many customers'
 * devices), each limited user in an account of its own. Nothing a leaf
 * sends can land in the main account except through what its account
 * imports:
 * - its calls to our JetStream (`$JS.<our domain>.API.>`), as a service
 *   answered by our leaf API (see LEAF_API_PREFIX), which forwards only
 *   reads (of every stream for the trusted account, of the streams the
 *   device may read now for a limited one). Replies of a service import go
 *   to a subject nats-server makes up (`_R_.…`) and map back to the
 *   caller's reply in the leaf account, so a reply subject chosen by the
 *   peer can never be one of our stream (or write API) subjects;
 * - our hellos (`siot.sync.hello.<us>`), as a stream: the full one for the
 *   trusted account, for a limited one a copy that lists only the streams
 *   it may read (limitedHelloSubject).
 * The main account imports in turn a limited device's JetStream API (so
 * our sync can pull from it) and its hellos; the trusted account's peers
 * are reached by our second connection (PEERS_ACCOUNT).
 *
 * None of this depends on the streams: granting a stream changes no
 * configuration. A reload that changes accounts (a user added or removed)
 * briefly leaves the main account's JetStream API without responders on
 * 2.10.27 (a third of the calls made during a burst of reloads got "no
 * responders"), and it would not reach the permissions of connected leafs.
 */
export function leafAccounts(
  instanceId: string,
  domain: string,
  users: readonly LeafUser[],
  permissionsFor: (u: LeafUser) => ConfValue,
  trusted: readonly LeafAccountUser[] = [],
  deviceLink: readonly LeafAccountUser[] = [],
): { main: { exports: ConfValue[]; imports: ConfValue[] }; accounts: Record<string, ConfValue> } {
  const names = [...(trusted.length ? [PEERS_ACCOUNT] : []), ...(deviceLink.length ? [DEVICE_LINK_ACCOUNT] : []), ...users.map((u) => leafAccountName(u.user))];
  if (names.length === 0) return { main: { exports: [], imports: [] }, accounts: {} };
  const hello = `siot.sync.hello.${instanceId}`;
  const streamed = { response_type: 'stream', response_threshold: RESPONSE_THRESHOLD };
  const exports: ConfValue[] = [
    ...names.map((name) => ({ service: `${LEAF_API_PREFIX}.${name}.>`, accounts: [name] })),
    { service: '$JS.API.CONSUMER.MSG.NEXT.*.*', accounts: names, ...streamed },
    ...(trusted.length ? [{ stream: hello, accounts: [PEERS_ACCOUNT] }] : []),
    ...names.filter((n) => n !== PEERS_ACCOUNT).map((n) => ({ stream: limitedHelloSubject(n), accounts: [n] })),
  ];
  const imports: ConfValue[] = [];
  const accounts: Record<string, ConfValue> = {};
  if (trusted.length) {
    accounts[PEERS_ACCOUNT] = {
      users: trusted.map((u) => ({ user: u.user, password: u.password, ...(u.permissions ? { permissions: u.permissions } : {}) })),
      imports: leafAccountImports(PEERS_ACCOUNT, domain, hello),
    };
  }
  if (deviceLink.length) {
    accounts[DEVICE_LINK_ACCOUNT] = {
      users: deviceLink.map((u) => ({ user: u.user, password: u.password })),
      imports: leafAccountImports(DEVICE_LINK_ACCOUNT, domain, hello),
    };
  }
  const seenPeers = new Set<string>();
  for (const u of users) {
    const name = leafAccountName(u.user);
    // A peer reached through two users is imported from the first only
    // (two imports of one subject would clash).
    const peers = u.peerIds.filter((id) => !seenPeers.has(id));
    for (const id of peers) {
      seenPeers.add(id);
      imports.push({ service: { account: name, subject: `$JS.${peerDomain(id)}.API.>` } });
      imports.push({ stream: { account: name, subject: `siot.sync.hello.${id}` } });
    }
    accounts[name] = {
      users: [{ user: u.user, password: u.password, permissions: permissionsFor(u) }],
      imports: leafAccountImports(name, domain, hello),
      exports: peers.flatMap((id) => [
        { service: `$JS.${peerDomain(id)}.API.>`, accounts: [MAIN_ACCOUNT], ...streamed },
        { stream: `siot.sync.hello.${id}`, accounts: [MAIN_ACCOUNT] },
      ]),
    };
  }
  return { main: { exports, imports }, accounts };
}

function peerDomain(id: string): string {
  // Same derivation as jetStreamDomain (config.ts), without importing it back.
  return `siot_${id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** Data dirs from before the named account kept JetStream in `$G`: move
 * their streams to the main account's folder (same layout) before start. */
export function moveStoreToMainAccount(storeDir: string): void {
  const from = join(storeDir, 'jetstream', '$G');
  const to = join(storeDir, 'jetstream', MAIN_ACCOUNT);
  if (existsSync(from) && !existsSync(to)) renameSync(from, to);
}
