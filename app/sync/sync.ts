import { EventEmitter } from 'node:events';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Store, StreamRef } from '../store/index.ts';
import { remoteJsm } from './remote.ts';
import { Replicator } from './replicator.ts';
import type { Hello, PeerStatus, ReplicaStatus, SyncOptions, SyncStatus, UpstreamStatus } from './types.ts';
import { parseHello, refFromName } from './hello.ts';
import { LinkRate } from './window.ts';

/** Each instance announces itself on `siot.sync.hello.<its id>`. */
export const HELLO_SUBJECT = 'siot.sync.hello';
const PROBE_MS = 500;
/** A round silent this long when a link comes back is restarted (at most:
 * two heartbeats when those are shorter). */
const LINK_BACK_SILENT_MS = 10_000;
/** A probe that timed out crossed the link and its answer did not come
 * back: the next waits longer, doubling from 1 s up to this. */
const MAX_PROBE_BACKOFF_MS = 30_000;
/** Announcements follow local progress at most this often. */
const HELLO_DEBOUNCE_MS = 2_000;
/** Progress alone (no new stream) is announced at most this often: peers
 * use it for progress bars, and on a slow link each hello costs ~300 B. */
const PROGRESS_DEBOUNCE_MS = 10_000;
const encoder = new TextEncoder();

interface Peer {
  hello: Hello;
  /** Heard on a connection where peers are limited to their own boundary
   * (a device at a hub, the device the laptop dials): it may serve only
   * streams of that boundary, and never stands in for another peer. */
  limited: boolean;
  /** The connection its hellos came in on: its JetStream is called there. */
  nc: NatsConnection;
  /** When a hello last came in on each connection. */
  heardOn: Map<NatsConnection, number>;
  jsm: JetStreamManager;
  reachable: boolean;
  lastSeen: number;
  /** Delivery rate of the link to this peer, shared by its replicators. */
  rate: LinkRate;
  probing: boolean;
  probeBackoffMs: number;
  nextProbeAt: number;
}

export interface SyncEvents {
  status: [SyncStatus];
  /** Each hello as announced (to peers we trust with every stream); the
   * instance re-announces it, narrowed, to limited accounts. */
  hello: [Hello];
}

/**
 * Bi-directional sync of one instance with the instances its server is
 * leaf-connected to. Each side *pulls* what it wants from the other (a push
 * is impossible: nothing may publish into another instance's streams), so
 * configuration written on the laptop reaches a device the same way the
 * device's history reaches the laptop.
 *
 * Peers learn about each other from hellos that carry, per stream held, the
 * newest origin sequence: enough to start replicators for new streams and
 * to tell how far behind each peer is, without any request over the link.
 * Hellos go out when something changed (at most every 2 s) and otherwise
 * every `helloIntervalMs`, so an idle link carries almost nothing.
 */
export class Sync extends EventEmitter<SyncEvents> {
  private readonly opts: Required<SyncOptions>;
  private readonly peers = new Map<string, Peer>();
  private readonly replicators = new Map<string, Replicator>();
  private readonly replicaStatus = new Map<string, ReplicaStatus>();
  private localJsm?: JetStreamManager;
  private subs: Subscription[] = [];
  private readonly conns: NatsConnection[];
  private readonly limitedConns: ReadonlySet<NatsConnection>;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private updating?: Promise<void>;
  private again = false;
  private emitTimer?: NodeJS.Timeout;
  private helloTimer?: NodeJS.Timeout;
  private lastHelloAt = 0;
  private helloAt = 0;

  constructor(
    private readonly store: Store,
    private readonly nc: NatsConnection,
    private readonly domain: string,
    opts: SyncOptions = {},
    /** Further connections of ours to our own server in other accounts
     * (the trusted peers' account, app/nats/accounts.ts): peers heard on one
     * are called on it. Our hellos reach those accounts by their imports. */
    peerConns: readonly NatsConnection[] = [],
    /** Connections (of `nc` and `peerConns`) whose peers are limited to
     * their own boundary. */
    limitedConns: readonly NatsConnection[] = [],
  ) {
    super();
    this.conns = [nc, ...peerConns];
    this.limitedConns = new Set(limitedConns);
    this.opts = {
      role: opts.role ?? 'instance',
      want: opts.want ?? 'all',
      helloIntervalMs: opts.helloIntervalMs ?? 30_000,
      scanIntervalMs: opts.scanIntervalMs ?? 60_000,
      batch: opts.batch ?? 1_000,
      maxInFlight: opts.maxInFlight ?? 4_000,
      pullExpiresMs: opts.pullExpiresMs ?? 30_000,
      heartbeatMs: opts.heartbeatMs ?? 5_000,
    };
  }

  async start(): Promise<void> {
    this.localJsm = await jetstreamManager(this.nc);
    for (const nc of this.conns) {
      this.subs.push(
        nc.subscribe(`${HELLO_SUBJECT}.*`, {
          callback: (_e, m) => {
            const h = parseHello(m.data);
            if (h && h.id !== this.store.instanceId && m.subject === `${HELLO_SUBJECT}.${h.id}`) this.onHello(h, nc);
          },
        }),
      );
    }
    await Promise.all(this.conns.map((nc) => nc.flush()));
    this.timers.push(setInterval(() => this.announce(), this.opts.helloIntervalMs));
    this.timers.push(setInterval(() => this.update(), this.opts.scanIntervalMs));
    // Unreachable peers are probed often: while the link is down the probe
    // is answered by our own server, and a link that comes back is used at once.
    this.timers.push(setInterval(() => this.probe(), PROBE_MS));
    this.store.on('stream', () => this.announceSoon(HELLO_DEBOUNCE_MS));
    this.store.on('progress', () => this.announceSoon(PROGRESS_DEBOUNCE_MS));
    this.announce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.emitTimer);
    clearTimeout(this.helloTimer);
    for (const sub of this.subs) sub.unsubscribe();
    await this.updating;
    await Promise.all([...this.replicators.values()].map((r) => r.stop()));
    this.replicators.clear();
  }

  /** Which boundaries this instance replicates. */
  private wants(): 'all' | string[] {
    if (this.opts.want === 'all') return 'all';
    const self = this.store.instanceId;
    const own = new Set([self]);
    for (const id of this.store.state.nodeIds()) {
      if (this.store.state.nodeType(id) === 'device' && this.store.state.ancestors(id).includes(self)) own.add(id);
    }
    return [...own];
  }

  private hello(): Hello {
    const seqs: Record<string, number> = {};
    for (const r of this.store.streamRefs()) seqs[r.name] = this.store.lastOriginSeq(r.name);
    return { id: this.store.instanceId, domain: this.domain, role: this.opts.role, wants: this.wants(), seqs };
  }

  /** Announces now: who we are, what we want, how far each of our streams goes. */
  announce(): void {
    if (this.stopped) return;
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.lastHelloAt = Date.now();
    const hello = this.hello();
    this.nc.publish(`${HELLO_SUBJECT}.${this.store.instanceId}`, encoder.encode(JSON.stringify(hello)));
    this.emit('hello', hello);
  }

  /** Something changed here: announce it, `debounceMs` after the last hello
   * at the earliest (a new stream pulls a pending progress hello forward). */
  private announceSoon(debounceMs = HELLO_DEBOUNCE_MS): void {
    if (this.stopped) return;
    const at = Math.max(Date.now(), this.lastHelloAt + debounceMs);
    if (this.helloTimer && this.helloAt <= at) return;
    clearTimeout(this.helloTimer);
    this.helloAt = at;
    this.helloTimer = setTimeout(() => this.announce(), at - Date.now());
    this.helloTimer.unref();
  }

  private onHello(h: Hello, nc: NatsConnection): void {
    const limited = this.limitedConns.has(nc);
    const known = this.peers.get(h.id);
    if (!known) {
      // A newcomer learns about us at once rather than at our next interval.
      this.announceSoon();
      void remoteJsm(nc, h.domain).then((jsm) => {
        if (this.peers.has(h.id) || this.stopped) return;
        this.peers.set(h.id, { hello: h, limited, nc, heardOn: new Map([[nc, Date.now()]]), jsm, reachable: false, lastSeen: Date.now(), rate: new LinkRate(), probing: false, probeBackoffMs: 0, nextProbeAt: 0 });
        this.probe();
      });
      return;
    }
    // An id is self-declared: a limited link never speaks for a peer known
    // on a trusted one, and a trusted link takes over from a limited one.
    if (limited && !known.limited) return;
    if (!limited && known.limited) {
      known.limited = false;
      known.hello = h;
      void this.repoint(known, nc);
      return;
    }
    // Heard on another of our connections (the peer now dials us, or we it)
    // while unreachable and silent where we knew it: call it there from now on.
    known.heardOn.set(nc, Date.now());
    const silent = Date.now() - (known.heardOn.get(known.nc) ?? 0) > 2 * this.opts.helloIntervalMs;
    if (known.nc !== nc && !known.reachable && silent) void this.repoint(known, nc);
    const newStreams = Object.keys(h.seqs).some((s) => !(s in known.hello.seqs));
    known.hello = h;
    known.lastSeen = Date.now();
    if (newStreams) this.update();
    this.scheduleEmit();
  }

  private async repoint(peer: Peer, nc: NatsConnection): Promise<void> {
    peer.nc = nc;
    const jsm = await remoteJsm(nc, peer.hello.domain);
    if (peer.nc !== nc || this.stopped) return;
    peer.jsm = jsm;
    const stale = [...this.replicators.entries()].filter(([, r]) => r.sourceId === peer.hello.id);
    // Stopped before they leave the map: a replacement for the same stream
    // must not start while one of them still appends.
    await Promise.all(stale.map(([, r]) => r.stop()));
    for (const [name, r] of stale) if (this.replicators.get(name) === r) this.replicators.delete(name);
    peer.probeBackoffMs = 0;
    peer.nextProbeAt = 0;
    this.probe();
  }

  /** Reachability changes on what JetStream itself answers, and on
   * deliveries arriving. A link that went down or came back may have lost a
   * pull request with it, so replicators fed by that peer start over (and
   * resume from what is stored), except those hearing from it: a round that
   * receives is the best proof the link works, and restarting it would send
   * its window again. */
  private setReachable(peer: Peer, reachable: boolean): void {
    if (peer.reachable === reachable) return;
    peer.reachable = reachable;
    peer.probeBackoffMs = 0;
    peer.nextProbeAt = 0;
    for (const r of this.replicators.values()) {
      if (r.sourceId === peer.hello.id) r.linkChanged(reachable, Math.min(2 * this.opts.heartbeatMs, LINK_BACK_SILENT_MS));
    }
    if (reachable) {
      this.announce();
      this.update();
    }
    this.scheduleEmit();
  }

  /**
   * Our server's leaf connections changed (one dropped, or a new one came
   * up): told by the instance, from its own server's `/leafz`, which costs
   * nothing on any link. Pull requests may have been lost with a link, and
   * with long heartbeats (a metered link) a round would wait for its
   * watchdog to notice: rounds silent for a while start over now, and
   * unreachable peers are probed at once.
   */
  leafsChanged(): void {
    if (this.stopped) return;
    for (const r of this.replicators.values()) r.linkChanged(true, LINK_BACK_SILENT_MS);
    for (const peer of this.peers.values()) {
      peer.probeBackoffMs = 0;
      peer.nextProbeAt = 0;
    }
    this.probe();
  }

  /** One probe in flight per unreachable peer. While the leaf is down our
   * own server answers at once (no responders; nothing crosses a link), so
   * those repeat every 500 ms and a link that comes back is used at once. A
   * probe that times out crossed a slow or full link: the next waits 1 s,
   * then twice as long each time, up to 30 s, so probes and their answers
   * never crowd a link that is busy delivering. */
  private probe(): void {
    const now = Date.now();
    for (const peer of this.peers.values()) {
      if (peer.reachable || peer.probing || this.stopped || now < peer.nextProbeAt) continue;
      peer.probing = true;
      peer.jsm.getAccountInfo().then(
        () => {
          peer.probing = false;
          this.setReachable(peer, true);
        },
        () => {
          peer.probing = false;
          const slow = Date.now() - now > 1_000;
          peer.probeBackoffMs = slow ? Math.min(MAX_PROBE_BACKOFF_MS, Math.max(1_000, peer.probeBackoffMs * 2)) : 0;
          peer.nextProbeAt = Date.now() + peer.probeBackoffMs;
        },
      );
    }
  }

  /** Starts or re-points replicators for every stream a peer offers that we
   * want. Runs on a newcomer's stream, a link coming back, and slowly on a
   * timer; concurrent calls fold into one more run. */
  update(): void {
    if (this.updating) {
      this.again = true;
      return;
    }
    this.updating = this.updateOnce()
      .catch((e: Error) => process.emitWarning(`sync: updating replicators failed: ${e.message}`))
      .finally(() => {
        this.updating = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.update();
        }
      });
  }

  private async updateOnce(): Promise<void> {
    const self = this.store.instanceId;
    const wants = this.wants();
    const candidates = new Map<string, { ref: StreamRef; sources: string[] }>();
    for (const [id, peer] of this.peers) {
      if (!peer.reachable) continue;
      for (const name of Object.keys(peer.hello.seqs)) {
        const ref = refFromName(name);
        if (!ref || ref.origin === self) continue; // our own log is written here, never pulled
        if (wants !== 'all' && !wants.includes(ref.boundary)) continue;
        if (peer.limited && !this.within(ref.boundary, id)) continue;
        const c = candidates.get(name) ?? { ref, sources: [] };
        c.sources.push(id);
        candidates.set(name, c);
      }
    }
    for (const { ref, sources } of candidates.values()) {
      if (this.stopped) return;
      // The origin itself is the best source; otherwise keep the current one
      // while its peer is reachable.
      const best = sources.includes(ref.origin) ? ref.origin : [...sources].sort()[0];
      const current = this.replicators.get(ref.name);
      if (!best || current?.sourceId === best) continue;
      if (current && best !== ref.origin && this.peers.get(current.sourceId)?.reachable) continue;
      await current?.stop();
      this.startReplicator(ref, this.peers.get(best) as Peer);
    }
    this.scheduleEmit();
  }

  /** The boundary is `id`'s own, or a device nested below it. */
  private within(boundary: string, id: string): boolean {
    return boundary === id || this.store.state.ancestors(boundary).includes(id);
  }

  private startReplicator(ref: StreamRef, peer: Peer): void {
    const r = new Replicator({
      store: this.store,
      nc: peer.nc,
      localJsm: this.localJsm as JetStreamManager,
      sourceJsm: peer.jsm,
      sourceDomain: peer.hello.domain,
      sourceId: peer.hello.id,
      ref,
      batch: this.opts.batch,
      maxInFlight: this.opts.maxInFlight,
      pullExpiresMs: this.opts.pullExpiresMs,
      heartbeatMs: this.opts.heartbeatMs,
      rate: peer.rate,
      onStatus: (st) => {
        this.replicaStatus.set(st.stream, st);
        this.scheduleEmit();
      },
      onLinkDown: () => this.setReachable(peer, false),
      // Deliveries prove the link: no probe needed to call it reachable.
      onAlive: () => this.setReachable(peer, true),
    });
    this.replicators.set(ref.name, r);
    if (!this.stopped) r.start();
  }

  /** For every stream we hold that the peer wants: how far its copy is
   * behind, from our fresh counts and the peer's last hello. */
  private upstreamOf(peer: Peer): UpstreamStatus[] {
    const out: UpstreamStatus[] = [];
    for (const ref of this.store.streamRefs()) {
      if (ref.origin === peer.hello.id) continue;
      if (peer.hello.wants !== 'all' && !peer.hello.wants.includes(ref.boundary)) continue;
      const local = this.store.lastOriginSeq(ref.name);
      if (local === 0) continue;
      const remote = peer.hello.seqs[ref.name] ?? 0;
      out.push({ stream: ref.name, localLastOriginSeq: local, peerLastOriginSeq: remote, pendingMessages: Math.max(0, local - remote) });
    }
    return out;
  }

  private scheduleEmit(): void {
    if (this.emitTimer || this.stopped) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      this.emit('status', this.status());
    }, 100);
  }

  status(): SyncStatus {
    const self = this.store.instanceId;
    const peers: PeerStatus[] = [...this.peers.values()].map((p) => {
      const upstream = this.upstreamOf(p);
      return {
        id: p.hello.id,
        domain: p.hello.domain,
        role: p.hello.role,
        reachable: p.reachable,
        lastSeen: p.lastSeen,
        upstream,
        upstreamComplete: upstream.every((u) => u.pendingMessages === 0),
      };
    });
    const reachable = peers.filter((p) => p.reachable);
    const ownComplete = reachable.every((p) => p.upstream.filter((u) => refFromName(u.stream)?.origin === self).every((u) => u.pendingMessages === 0));
    return {
      instanceId: self,
      replicas: [...this.replicaStatus.values()].sort((a, b) => a.stream.localeCompare(b.stream)),
      peers,
      safeToDisconnect: reachable.length > 0 && ownComplete,
    };
  }
}
