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

/**
 * Accounts for boundary-limited leaf users (a hub serving many customers'
 * devices). Each user gets an account of its own, so nothing it sends can
 * land in the main account except through what that account imports:
 * - its calls to our JetStream (`$JS.<our domain>.API.>`), as a service
 *   answered by our leaf API (see LEAF_API_PREFIX), which forwards only
 *   reads of the streams the device may read now. Replies of a service
 *   import go to a subject nats-server makes up (`_R_.…`) and map back to
 *   the caller's reply in the leaf account, so a reply subject chosen by the
 *   device can never be one of our stream (or write API) subjects;
 * - our hellos (`siot.sync.hello.<us>`), as a stream.
 * The main account imports in turn the device's JetStream API (so our sync
 * can pull from it) and its hellos.
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
): { main: { exports: ConfValue[]; imports: ConfValue[] }; accounts: Record<string, ConfValue> } {
  if (users.length === 0) return { main: { exports: [], imports: [] }, accounts: {} };
  const names = users.map((u) => leafAccountName(u.user));
  const hello = `siot.sync.hello.${instanceId}`;
  const streamed = { response_type: 'stream', response_threshold: RESPONSE_THRESHOLD };
  const exports: ConfValue[] = [
    ...names.map((name) => ({ service: `${LEAF_API_PREFIX}.${name}.>`, accounts: [name] })),
    { service: '$JS.API.CONSUMER.MSG.NEXT.*.*', accounts: names, ...streamed },
    { stream: hello, accounts: names },
  ];
  const imports: ConfValue[] = [];
  const accounts: Record<string, ConfValue> = {};
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
      imports: [
        // A device calls us as `$JS.<our domain>.API.…`, imported under that
        // name (which also tells the device's server to send such calls
        // here). Once a leaf with its own JetStream domain connects,
        // nats-server maps those subjects to `$JS.API.…` in this account
        // before imports apply (2.10.27), so the same imports exist under
        // those names too; they also keep nats-server from answering "not
        // enabled" for an account without JetStream. Pull requests go to
        // JetStream directly: their deliveries must keep their subjects.
        ...[`$JS.${domain}.API`, '$JS.API'].flatMap((local) => [
          { service: { account: MAIN_ACCOUNT, subject: `${LEAF_API_PREFIX}.${name}.>` }, to: `${local}.>` },
          { service: { account: MAIN_ACCOUNT, subject: '$JS.API.CONSUMER.MSG.NEXT.*.*' }, to: `${local}.CONSUMER.MSG.NEXT.*.*` },
        ]),
        { stream: { account: MAIN_ACCOUNT, subject: hello } },
      ],
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
