import { EventEmitter } from 'node:events';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import type { Store, StreamRef } from '../store/index.ts';
import { isLinkError, lastOriginSeq, remoteJsm } from './remote.ts';
import { Replicator } from './replicator.ts';
import type { Hello, PeerStatus, ReplicaStatus, SyncOptions, SyncStatus, UpstreamStatus } from './types.ts';

export const HELLO_SUBJECT = 'siot.sync.hello';
const PROBE_MS = 200;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Peer {
  hello: Hello;
  jsm: JetStreamManager;
  reachable: boolean;
  lastSeen: number;
  upstream: UpstreamStatus[];
}

export interface SyncEvents {
  status: [SyncStatus];
}

function parseHello(data: Uint8Array): Hello | null {
  try {
    const h = JSON.parse(decoder.decode(data)) as Partial<Hello>;
    if (typeof h.id !== 'string' || typeof h.domain !== 'string') return null;
    const wants = h.wants === 'all' || Array.isArray(h.wants) ? h.wants : [];
    return { id: h.id, domain: h.domain, role: typeof h.role === 'string' ? h.role : '', wants, streams: typeof h.streams === 'number' ? h.streams : 0 };
  } catch {
    return null;
  }
}

/**
 * Bi-directional sync of one instance with the instances its server is
 * leaf-connected to. Each side *pulls* what it wants from the other (a push
 * is impossible: nothing may publish into another instance's streams), so
 * configuration written on the laptop reaches a device the same way the
 * device's history reaches the laptop. Peers find each other with a hello
 * on `siot.sync.hello`, which crosses leaf links.
 */
export class Sync extends EventEmitter<SyncEvents> {
  private readonly opts: Required<SyncOptions>;
  private readonly peers = new Map<string, Peer>();
  private readonly replicators = new Map<string, Replicator>();
  private readonly replicaStatus = new Map<string, ReplicaStatus>();
  private localJsm?: JetStreamManager;
  private sub?: Subscription;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private scanning?: Promise<void>;
  private emitTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly nc: NatsConnection,
    private readonly domain: string,
    opts: SyncOptions = {},
  ) {
    super();
    this.opts = {
      role: opts.role ?? 'instance',
      want: opts.want ?? 'all',
      helloIntervalMs: opts.helloIntervalMs ?? 5_000,
      scanIntervalMs: opts.scanIntervalMs ?? 2_000,
      batch: opts.batch ?? 1_000,
      maxInFlight: opts.maxInFlight ?? 4_000,
      pullExpiresMs: opts.pullExpiresMs ?? 30_000,
      heartbeatMs: opts.heartbeatMs ?? 5_000,
    };
  }

  async start(): Promise<void> {
    this.localJsm = await jetstreamManager(this.nc);
    this.sub = this.nc.subscribe(HELLO_SUBJECT, {
      callback: (_e, m) => {
        const h = parseHello(m.data);
        if (h && h.id !== this.store.instanceId) this.onHello(h);
        if (m.reply) m.respond(encoder.encode(JSON.stringify(this.hello())));
      },
    });
    await this.nc.flush();
    this.timers.push(setInterval(() => void this.announce(), this.opts.helloIntervalMs));
    this.timers.push(setInterval(() => void this.scan(), this.opts.scanIntervalMs));
    // Unreachable peers are probed often: the probe stays on this machine
    // while the link is down, and a link that comes back is used at once.
    this.timers.push(setInterval(() => void this.probe(), PROBE_MS));
    this.store.on('stream', () => void this.announce());
    void this.announce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.emitTimer);
    this.sub?.unsubscribe();
    await this.scanning;
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
    return { id: this.store.instanceId, domain: this.domain, role: this.opts.role, wants: this.wants(), streams: this.store.streamRefs().length };
  }

  /** A peer's link went down or came back: rounds in progress may hold a
   * pull request lost with the old link, so every replicator fed by that
   * peer starts over now (and resumes from what is stored). */
  private setReachable(peer: Peer, reachable: boolean): void {
    if (peer.reachable === reachable) return;
    peer.reachable = reachable;
    for (const r of this.replicators.values()) {
      if (r.sourceId === peer.hello.id) r.restart(reachable ? 'is back' : 'is down');
    }
    if (reachable) void this.scan();
    this.scheduleEmit();
  }

  private async probe(): Promise<void> {
    for (const peer of this.peers.values()) {
      if (peer.reachable || this.stopped) continue;
      try {
        await peer.jsm.getAccountInfo();
        this.setReachable(peer, true);
      } catch {
        // Still down.
      }
    }
  }

  /** Asks who is there; every sync service that hears it answers. */
  async announce(): Promise<void> {
    if (this.stopped) return;
    const inbox = createInbox();
    const sub = this.nc.subscribe(inbox, {
      callback: (_e, m) => {
        const h = parseHello(m.data);
        if (h && h.id !== this.store.instanceId) this.onHello(h);
      },
    });
    this.nc.publish(HELLO_SUBJECT, encoder.encode(JSON.stringify(this.hello())), { reply: inbox });
    setTimeout(() => sub.unsubscribe(), Math.min(2_000, this.opts.helloIntervalMs)).unref();
  }

  private onHello(h: Hello): void {
    const known = this.peers.get(h.id);
    if (known) {
      const streamsChanged = known.hello.streams !== h.streams;
      known.hello = h;
      known.lastSeen = Date.now();
      if (!known.reachable) this.setReachable(known, true);
      else if (streamsChanged) void this.scan();
      return;
    }
    void remoteJsm(this.nc, h.domain).then((jsm) => {
      if (this.peers.has(h.id)) return;
      // Reachable once its JetStream answers (a hello may come from beyond
      // a neighbour, whose JetStream we cannot reach).
      this.peers.set(h.id, { hello: h, jsm, reachable: false, lastSeen: Date.now(), upstream: [] });
      void this.scan();
    });
  }

  /** Looks at every peer's streams, starts or re-points replicators, and
   * measures what each peer still lacks of ours. */
  scan(): Promise<void> {
    this.scanning ??= this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const self = this.store.instanceId;
    const wants = this.wants();
    const candidates = new Map<string, { ref: StreamRef; sources: string[] }>();
    for (const [id, peer] of this.peers) {
      if (this.stopped) return;
      try {
        const names: StreamRef[] = [];
        for await (const si of peer.jsm.streams.list('inst.>')) {
          const ref = refOf(si.config.name, si.config.subjects?.[0]);
          if (ref) names.push(ref);
        }
        this.setReachable(peer, true);
        for (const ref of names) {
          if (ref.origin === self) continue; // our own log is written here, never pulled
          if (wants !== 'all' && !wants.includes(ref.boundary)) continue;
          const c = candidates.get(ref.name) ?? { ref, sources: [] };
          c.sources.push(id);
          candidates.set(ref.name, c);
        }
        peer.upstream = await this.upstreamOf(peer);
      } catch (e) {
        if (!isLinkError(e)) throw e;
        this.setReachable(peer, false);
      }
    }
    for (const { ref, sources } of candidates.values()) {
      // The origin itself is the best source; otherwise keep the current one.
      const best = sources.includes(ref.origin) ? ref.origin : sources.sort()[0];
      const current = this.replicators.get(ref.name);
      if (!best || current?.sourceId === best) continue;
      if (current && current.sourceId !== ref.origin && best !== ref.origin && this.peers.get(current.sourceId)?.reachable) continue;
      await current?.stop();
      const peer = this.peers.get(best) as Peer;
      const r = new Replicator({
        store: this.store,
        nc: this.nc,
        localJsm: this.localJsm as JetStreamManager,
        sourceJsm: peer.jsm,
        sourceDomain: peer.hello.domain,
        sourceId: best,
        ref,
        batch: this.opts.batch,
        maxInFlight: this.opts.maxInFlight,
        pullExpiresMs: this.opts.pullExpiresMs,
        heartbeatMs: this.opts.heartbeatMs,
        onStatus: (s) => {
          this.replicaStatus.set(s.stream, s);
          this.scheduleEmit();
        },
      });
      this.replicators.set(ref.name, r);
      if (!this.stopped) r.start();
    }
    this.scheduleEmit();
  }

  /** For every stream we hold that the peer wants: how far its copy is behind. */
  private async upstreamOf(peer: Peer): Promise<UpstreamStatus[]> {
    const out: UpstreamStatus[] = [];
    const jsm = this.localJsm as JetStreamManager;
    for (const ref of this.store.streamRefs()) {
      if (ref.origin === peer.hello.id) continue;
      if (peer.hello.wants !== 'all' && !peer.hello.wants.includes(ref.boundary)) continue;
      const local = await lastOriginSeq(jsm, ref.name);
      if (local === 0) continue;
      let remote = 0;
      try {
        remote = await lastOriginSeq(peer.jsm, ref.name);
      } catch (e) {
        if (isLinkError(e)) throw e;
        remote = 0; // the peer has no copy yet
      }
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
    const peers: PeerStatus[] = [...this.peers.values()].map((p) => ({
      id: p.hello.id,
      domain: p.hello.domain,
      role: p.hello.role,
      reachable: p.reachable,
      lastSeen: p.lastSeen,
      upstream: p.upstream,
      upstreamComplete: p.upstream.every((u) => u.pendingMessages === 0),
    }));
    const reachable = peers.filter((p) => p.reachable);
    const ownComplete = reachable.every((p) => p.upstream.filter((u) => u.stream.endsWith(`_${self}`)).every((u) => u.pendingMessages === 0));
    return {
      instanceId: self,
      replicas: [...this.replicaStatus.values()].sort((a, b) => a.stream.localeCompare(b.stream)),
      peers,
      safeToDisconnect: reachable.length > 0 && ownComplete,
    };
  }
}

function refOf(name: string, subject: string | undefined): StreamRef | null {
  if (!name.startsWith('inst_') || !subject?.startsWith('inst.') || !subject.endsWith('.>')) return null;
  const parts = subject.split('.');
  if (parts.length !== 4) return null;
  const [, boundary, origin] = parts as [string, string, string];
  return `inst_${boundary}_${origin}` === name ? { name, boundary, origin } : null;
}
