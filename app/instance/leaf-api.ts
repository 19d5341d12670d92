import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { DEVICE_LINK_ACCOUNT, LEAF_API_PREFIX, leafAccountName, limitedHelloSubject, PEERS_ACCOUNT } from '../nats/index.ts';
import type { Store } from '../store/index.ts';
import type { Hello } from '../sync/index.ts';
import type { BoundaryLeafUser } from './types.ts';

/**
 * Which stream a call of a limited leaf account reads, from its JetStream
 * API path (after `$JS.API.`): `null` for a call that names none (account
 * info), `undefined` for anything that is not a read we offer (stream
 * changes, listings, …).
 */
export function leafApiStream(path: string): string | null | undefined {
  const t = path.split('.');
  const [a, b, c] = t;
  const stream = (i: number, len: (n: number) => boolean) => (len(t.length) && t[i] ? t[i] : undefined);
  if (path === 'INFO') return null;
  if (a === 'STREAM' && b === 'INFO') return stream(2, (n) => n === 3);
  if (a === 'STREAM' && b === 'MSG' && c === 'GET') return stream(3, (n) => n === 4);
  if (a === 'DIRECT' && b === 'GET') return stream(2, (n) => n >= 3);
  if (a === 'CONSUMER' && b === 'CREATE') return stream(2, (n) => n >= 3); // .<name>.<filter subject>
  if (a === 'CONSUMER' && (b === 'INFO' || b === 'DELETE')) return stream(2, (n) => n === 4);
  if (a === 'CONSUMER' && b === 'MSG' && c === 'NEXT') return stream(3, (n) => n === 5);
  return undefined;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Why a call is refused, or undefined to forward it. `allowed`: the
 * streams the caller may read, `'all'` for a trusted peer (every stream,
 * still read-only and pull consumers only). */
export function leafApiRefusal(path: string, data: Uint8Array, allowed: ReadonlySet<string> | 'all' | undefined): string | undefined {
  const stream = leafApiStream(path);
  if (stream === undefined) return `${path} is not offered to this ${allowed === 'all' ? 'peer' : 'device'}`;
  if (stream !== null && allowed !== 'all' && !allowed?.has(stream)) return `stream ${stream} is not readable by this device`;
  if (path.startsWith('CONSUMER.CREATE.')) {
    // A push consumer would deliver to a subject of the caller's choosing,
    // in our account (we make the call): only pull consumers.
    try {
      const req = JSON.parse(decoder.decode(data)) as { config?: { deliver_subject?: string; deliver_group?: string } };
      if (req.config?.deliver_subject || req.config?.deliver_group) return 'only pull consumers may be created';
    } catch {
      return 'unreadable consumer configuration';
    }
  }
  return undefined;
}

/**
 * Our JetStream as leaf users see it (accounts.ts): the trusted peers'
 * account (PEERS_ACCOUNT, every stream) and the limited ones. Their calls
 * arrive on `siot.leafapi.<account>.<API path>`; a read of a stream the
 * caller may read now is forwarded to JetStream with the caller's reply
 * (a `_R_` subject nats-server made, which maps back to the device), so
 * answers and pull deliveries go straight back. Anything else is answered
 * with a JetStream-style error. Streams granted later (a device nested
 * below one of its boundaries) are readable at once, over the link the
 * device already has: no configuration reload, which on nats-server 2.10
 * would reach new connections only (permissions) or briefly leave our own
 * JetStream API without responders (accounts).
 */
export class LeafApi {
  private sub?: Subscription;
  private readonly allowed = new Map<string, Set<string> | 'all'>();
  /** Instances heard on the device link (DEVICE_LINK_ACCOUNT). */
  private deviceLinkPeers: string[] = [];

  /** The peers' account (PEERS_ACCOUNT: peers on our own leaf user, and
   * those we dial) reads every stream; each limited account its own. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly store: Store,
    private readonly users: BoundaryLeafUser[],
    /** Ids of the instances connected on the device link now. */
    private readonly deviceLinkLookup?: () => Promise<string[]>,
  ) {
    this.allowed.set(PEERS_ACCOUNT, 'all');
  }

  async start(): Promise<void> {
    this.sub = this.nc.subscribe(`${LEAF_API_PREFIX}.*.>`, { callback: (_e, m) => this.onCall(m) });
    await this.nc.flush();
    this.store.on('stream', () => this.update());
    this.update();
  }

  stop(): void {
    this.sub?.unsubscribe();
  }

  /** The instances connected on the device link (DEVICE_LINK_ACCOUNT) may
   * read their own boundaries (and the devices nested below). */
  setDeviceLinkPeers(ids: readonly string[]): void {
    if (ids.length === this.deviceLinkPeers.length && ids.every((id, i) => id === this.deviceLinkPeers[i])) return;
    this.deviceLinkPeers = [...ids];
    this.update();
  }

  /** Streams each user may read: its boundaries and the devices nested
   * below them. (The users themselves are the server's configuration, set
   * at start.) */
  private update(): void {
    const refs = this.store.streamRefs();
    const within = (boundaries: readonly string[]) =>
      new Set(refs.filter((r) => boundaries.includes(r.boundary) || this.store.state.ancestors(r.boundary).some((a) => boundaries.includes(a))).map((r) => r.name));
    for (const u of this.users) this.allowed.set(leafAccountName(u.user), within(u.boundaries));
    this.allowed.set(DEVICE_LINK_ACCOUNT, within(this.deviceLinkPeers));
  }

  /**
   * Announces `hello` to each limited account, listing only the streams that
   * account may read (accounts.ts, limitedHelloSubject): a device learns
   * neither the names nor the progress of other customers' streams.
   */
  async announce(hello: Hello): Promise<void> {
    if (this.deviceLinkLookup) this.setDeviceLinkPeers(await this.deviceLinkLookup());
    for (const [account, allowed] of this.allowed) {
      if (allowed === 'all' || this.nc.isClosed()) continue;
      const seqs = Object.fromEntries(Object.entries(hello.seqs).filter(([name]) => allowed.has(name)));
      this.nc.publish(limitedHelloSubject(account), encoder.encode(JSON.stringify({ ...hello, seqs })));
    }
  }

  private onCall(m: Msg): void {
    if (!m.reply?.startsWith('_R_.')) return; // only calls that came through an account import
    const t = m.subject.split('.');
    const account = t[2] ?? '';
    const path = t.slice(3).join('.');
    // Pull requests reach JetStream through their own import (accounts.ts).
    if (path.startsWith('CONSUMER.MSG.NEXT.')) return;
    if (account === DEVICE_LINK_ACCOUNT) {
      // Who is on the device link is looked up for every call (our own
      // server's /leafz, a few ms; pull requests do not come here): a
      // device plugged in after another never reads the other's boundary.
      const lookup = this.deviceLinkLookup ?? (() => Promise.resolve([]));
      void lookup()
        .then((ids) => {
          if (this.nc.isClosed()) return;
          this.setDeviceLinkPeers(ids);
          this.answer(m, path, leafApiRefusal(path, m.data, this.allowed.get(account)));
        })
        .catch(() => undefined); // closing: the caller's request times out
      return;
    }
    this.answer(m, path, leafApiRefusal(path, m.data, this.allowed.get(account)));
  }

  private answer(m: Msg, path: string, refusal: string | undefined): void {
    if (refusal) {
      m.respond(encoder.encode(JSON.stringify({ type: 'io.nats.jetstream.api.v1.error', error: { code: 403, err_code: 10_000, description: refusal } })));
      return;
    }
    // Asked as ours (the device account has no JetStream), answered as is:
    // status, headers and body.
    this.nc.request(`$JS.API.${path}`, m.data, { timeout: 10_000 }).then(
      (r) => m.respond(r.data, r.headers ? { headers: r.headers } : undefined),
      () => undefined, // the device's own call times out
    );
  }
}
