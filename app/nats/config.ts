import { DEVICE_LINK_ACCOUNT, deviceLinkClientUser, leafAccountName, leafAccounts, limitedHelloSubject, MAIN_ACCOUNT, PEERS_ACCOUNT, peersClientUser, streamReadImports, type ConfValue, type LeafAccountUser } from './accounts.ts';
import type { LeafUser, ServerConfigInput } from './types.ts';

/** JetStream domain for an instance. The domain becomes a subject token
 * (`$JS.<domain>.API`), so it keeps only characters safe there. */
export function jetStreamDomain(instanceId: string): string {
  const safe = instanceId.replace(/[^A-Za-z0-9_-]/g, '_');
  if (safe.length === 0) throw new Error('cannot derive a JetStream domain from an empty instance id');
  return `siot_${safe}`;
}

/** Server name, unique per instance; shown in leaf connection info. */
export function serverName(instanceId: string): string {
  return jetStreamDomain(instanceId);
}

/** The instance id a server name (`serverName`) stands for; undefined for a
 * name that is not one of ours. */
export function instanceIdOfServerName(name: string): string | undefined {
  return name.startsWith('siot_') && name.length > 'siot_'.length ? name.slice('siot_'.length) : undefined;
}

/** Subjects that never cross a leaf link: the write API (a publish would be
 * stored by both sides' streams, and acknowledged by either), the stream
 * subjects themselves, and the live API each instance answers for itself. */
export const LOCAL_ONLY_SUBJECTS = ['p.>', 'ep.>', 'inst.>', 'up.>', 'nodes.>'];

/** JetStream API calls a peer needs to replicate the named streams: find
 * them, read their state, and read them through its own consumers. */
export function jetStreamReadApi(domain: string, streams: readonly string[]): string[] {
  // No STREAM.LIST/NAMES: they would show the streams of everyone else.
  return ['$JS.API.INFO', ...streams.flatMap(streamReadImports)].map((s) => s.replace('$JS.API.', `$JS.${domain}.API.`));
}

/** JetStream API calls that change streams or their contents. */
export function jetStreamWriteApi(domain: string): string[] {
  const api = `$JS.${domain}.API`;
  return [
    `${api}.STREAM.CREATE.>`,
    `${api}.STREAM.UPDATE.>`,
    `${api}.STREAM.DELETE.>`,
    `${api}.STREAM.PURGE.>`,
    `${api}.STREAM.MSG.DELETE.>`,
    `${api}.STREAM.RESTORE.>`,
    `${api}.STREAM.SNAPSHOT.>`,
    `${api}.STREAM.PEER.>`,
    `${api}.STREAM.LEADER.>`,
    `${api}.META.>`,
    `${api}.SERVER.>`,
    `${api}.ACCOUNT.>`,
  ];
}

/** Users of the peers account (PEERS_ACCOUNT, accounts.ts): our own second
 * connection there (app/sync hears the peers' hellos and calls their
 * JetStream through it) and, with a leaf listener, the leaf user trusted
 * instances (a laptop, another full peer) dial in with. The leaf user reads
 * all our streams through our leaf API but may not change them: every
 * instance writes only its own log, and the live API stays local to each
 * instance. Its own account keeps the reply subjects of its pull requests
 * out of ours. (Leaf connections authenticate against these users;
 * `leafnodes.authorization` takes no permissions in 2.10.) The account
 * exists on every instance: the remotes we dial are bound to it too. */
function trustedUsers(input: ServerConfigInput): LeafAccountUser[] {
  const ours: LeafAccountUser = { user: peersClientUser(input.clientCredentials.user), password: input.clientCredentials.password };
  if (!input.leafCredentials) return [ours];
  return [
    {
      user: input.leafCredentials.user,
      password: input.leafCredentials.password,
      permissions: {
        publish: { deny: [...LOCAL_ONLY_SUBJECTS, ...jetStreamWriteApi(jetStreamDomain(input.instanceId)), '$JS.API.>'] },
        subscribe: { deny: LOCAL_ONLY_SUBJECTS },
      },
    },
    ours,
  ];
}

/** Permissions of a boundary-limited leaf user, inside its own account (see
 * accounts.ts). They never change with the streams it may read (a reload
 * applies new permissions to new connections only); the account's imports
 * decide which streams are reachable. Everything not allowed is refused: the
 * write API is denied on top, answers to our calls go to `_R_.>` (service
 * import replies). Hellos go one hop: a device hears this instance, not the
 * other devices behind it. */
function limitedPermissions(input: ServerConfigInput, u: LeafUser): ConfValue {
  const domain = jetStreamDomain(input.instanceId);
  return {
    // Both spellings of our API: nats-server may map the domain one to the
    // other in the user's account (accounts.ts).
    publish: {
      allow: [`$JS.${domain}.API.>`, '$JS.API.>', ...u.peerIds.map((id) => `siot.sync.hello.${id}`), '_R_.>', '_INBOX.>'],
      deny: [...jetStreamWriteApi(domain), `$JS.${domain}.API.STREAM.LIST`, `$JS.${domain}.API.STREAM.NAMES`, ...jetStreamWriteApi('').map((s) => s.replace('$JS..API', '$JS.API'))],
    },
    // Our hello reaches it by a mapped import (accounts.ts,
    // limitedHelloSubject); nats-server checks a leaf's wildcard interest
    // against the subject before the mapping, so both are allowed.
    subscribe: { allow: [`siot.sync.hello.${input.instanceId}`, limitedHelloSubject(leafAccountName(u.user)), '_INBOX.>', ...u.peerIds.map((id) => `$JS.${jetStreamDomain(id)}.API.>`)] },
  };
}

/** Accounts: ours (our client, JetStream, streams), the trusted peers' and
 * one per limited leaf user, each importing only what it may use
 * (accounts.ts). */
function accountsConfig(input: ServerConfigInput): Record<string, ConfValue> {
  const users: ConfValue[] = [{ user: input.clientCredentials.user, password: input.clientCredentials.password }];
  const { main, accounts } = leafAccounts(
    input.instanceId,
    jetStreamDomain(input.instanceId),
    input.leafUsers ?? [],
    (u) => limitedPermissions(input, u),
    trustedUsers(input),
    [{ user: deviceLinkClientUser(input.clientCredentials.user), password: input.clientCredentials.password }],
  );
  return {
    [MAIN_ACCOUNT]: {
      users,
      jetstream: 'enabled',
      ...(main.exports.length ? { exports: main.exports } : {}),
      ...(main.imports.length ? { imports: main.imports } : {}),
    },
    ...accounts,
  };
}

/** nats-server accepts JSON as configuration; emitting JSON (rather than the
 * HOCON-like syntax) means every string is quoted and escaped correctly. */
export function renderConfig(input: ServerConfigInput): string {
  const host = input.host ?? '127.0.0.1';
  const conf: Record<string, ConfValue | undefined> = {
    server_name: serverName(input.instanceId),
    host,
    port: input.clientPort,
    // `http` takes host:port; there is no separate http_host field.
    http: `${host}:${input.monitorPort}`,
    ports_file_dir: input.portsDir,
    // The app supervises the process; logs go to stderr, which it captures.
    logtime: true,
    accounts: accountsConfig(input),
    jetstream: {
      store_dir: input.storeDir,
      domain: jetStreamDomain(input.instanceId),
      max_memory_store: 64 * 1024 * 1024,
      max_file_store: input.maxFileStore,
      sync_interval: input.syncInterval,
    },
  };
  if (input.leafPort !== undefined || (input.leafRemotes?.length ?? 0) > 0) {
    const leaf: Record<string, ConfValue | undefined> = {};
    if (input.leafPort !== undefined) {
      if (!input.leafCredentials) throw new Error('a leaf listener needs leafCredentials: every listener requires credentials');
      leaf.host = host;
      leaf.port = input.leafPort;
      leaf.advertise = input.leafAdvertise;
    }
    if (input.leafRemotes?.length) {
      // 2.10 takes the interval for all remotes here (a per-remote
      // `reconnect` is refused); the default of 1 s delays every catch-up.
      leaf.reconnect_interval = `${input.leafReconnectMs ?? 500}ms`;
      leaf.remotes = input.leafRemotes.map((r) => {
        const url = new URL(r.url);
        url.username = encodeURIComponent(r.credentials.user);
        url.password = encodeURIComponent(r.credentials.password);
        // Bound to the peers' account (or, limited, the device link's), not
        // ours: whatever the instance we dial sends (a pull request whose
        // reply names one of our stream subjects, a call of our write API)
        // reaches our JetStream only through that account's imports, as for
        // peers that dial us.
        const remote: Record<string, ConfValue | undefined> = { url: url.toString(), account: r.limited ? DEVICE_LINK_ACCOUNT : PEERS_ACCOUNT };
        if (r.denyImports?.length) remote.deny_imports = r.denyImports;
        if (r.denyExports?.length) remote.deny_exports = r.denyExports;
        if (r.compression) remote.compression = { mode: r.compression };
        return remote;
      });
    }
    conf.leafnodes = leaf;
  }
  return JSON.stringify(conf, (_k, v: unknown) => (v === undefined ? undefined : v), 2) + '\n';
}

/** Parses the JSON `.ports` file nats-server writes once it listens. It
 * names no leaf port (2.10.27); see `parseLeafListenLine`. */
export function parsePortsFile(text: string): { client: number; monitor: number } {
  const raw = JSON.parse(text) as { nats?: string[]; monitoring?: string[] };
  const port = (urls: string[] | undefined): number | undefined => {
    const u = urls?.[0];
    if (!u) return undefined;
    const p = Number(new URL(u).port);
    return Number.isInteger(p) && p > 0 ? p : undefined;
  };
  const client = port(raw.nats);
  const monitor = port(raw.monitoring);
  if (client === undefined || monitor === undefined) {
    throw new Error(`nats-server ports file lacks client or monitoring port: ${text.slice(0, 200)}`);
  }
  return { client, monitor };
}

/** The leaf port from the server's log line, needed when it chose the port. */
export function parseLeafListenLine(line: string): number | undefined {
  const m = /Listening for leafnode connections on \S*:(\d+)/.exec(line);
  return m ? Number(m[1]) : undefined;
}
