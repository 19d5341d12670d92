// Link report: one device/laptop pair over a shaped serial line, started and
// stopped, and the small readings taken from it.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import type { Instance } from '../../../app/instance/index.ts';
import { LinkManager, SerialBridge, serialEndpoint, type BridgeStats } from '../../../app/link/index.ts';
import { DeviceSim, SIM_NODE_TYPE } from '../../../app/sim/index.ts';
import { lastOriginSeq, type ReplicaStatus } from '../../../app/sync/index.ts';
import { Instances } from '../../helpers/instance.ts';
import { killProcess, ptyPair } from '../../helpers/pty.ts';
import { LeafTap } from './leaf-tap.ts';
import { kbit, LATENCY_MS, NODES, type Bytes, type ConfigSpec, type PairResult } from './types.ts';

export interface Pair {
  cfg: ConfigSpec;
  rateBps: number;
  tmp: string;
  instances: Instances;
  dev: Instance;
  lap: Instance;
  devJsm: JetStreamManager;
  lapJsm: JetStreamManager;
  stream: string;
  nodes: string[];
  links: LinkManager;
  bridge: SerialBridge;
  tap: LeafTap;
  cable?: ChildProcess;
  result: PairResult;
  /** Replica states with errors, peer reachability flips, server log lines of interest; each stamped. */
  events: Array<{ at: number; what: string }>;
  peerDown: number;
  consumers: number;
  advisorySub?: Subscription;
}

export function tag(p: Pair): string {
  return `${p.cfg.id} @ ${kbit(p.rateBps)}`;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export function replica(p: Pair): ReplicaStatus | undefined {
  return p.lap.sync?.status().replicas.find((r) => r.stream === p.stream);
}

/** Origin sequence of the last message the laptop's copy holds (read from its own server, not across the link). */
export async function laptopLast(p: Pair): Promise<number> {
  return withTimeout(lastOriginSeq(p.lapJsm, p.stream), 10_000, 'laptop stream info').catch(() => 0);
}

export async function deviceLast(p: Pair): Promise<number> {
  return (await withTimeout(p.devJsm.streams.info(p.stream), 10_000, 'device stream info')).state.last_seq;
}

function bytesOf(s: BridgeStats): { line: Bytes; tcp: Bytes; frames: number } {
  // On the device's bridge: out = device→laptop (up), in = laptop→device (down).
  return {
    line: { up: s.lineBytesOut, down: s.lineBytesIn, total: s.lineBytesOut + s.lineBytesIn },
    tcp: { up: s.tcpBytesIn, down: s.tcpBytesOut, total: s.tcpBytesIn + s.tcpBytesOut },
    frames: s.framesOut + s.framesIn,
  };
}

export function snap(p: Pair) {
  return bytesOf(p.bridge.status().stats);
}

export function diff(a: Bytes, b: Bytes): Bytes {
  return { up: b.up - a.up, down: b.down - a.down, total: b.total - a.total };
}

export async function leafz(inst: Instance): Promise<{ compression: string; rtt: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${inst.server.ports.monitor}/leafz`, { signal: AbortSignal.timeout(3_000) });
    const j = (await res.json()) as { leafs?: Array<{ compression?: string; rtt?: string }> };
    const l = j.leafs?.[0];
    return { compression: l ? (l.compression ?? '(not reported)') : '(no leaf)', rtt: l?.rtt ?? '' };
  } catch (e) {
    return { compression: `(leafz failed: ${(e as Error).message})`, rtt: '' };
  }
}

export async function startPair(cfg: ConfigSpec, rateBps: number): Promise<Pair> {
  const tmp = await mkdtemp(join(tmpdir(), 'siot-linkrep-'));
  const instances = new Instances();
  const links = new LinkManager();
  const stops: Array<() => Promise<unknown>> = [];
  try {
    // Generated ids (UUIDs), as a real device has: they make up most of every subject.
    const dev = await instances.start({ leafPort: -1, sync: { role: 'device', want: 'own' } });
    // The simulator's 30 inputs (description, pollPeriod), then it is stopped until the live phase.
    const sim = new DeviceSim(dev, { nodes: NODES, pollPeriodMs: 1_000 });
    await sim.start();
    sim.stop();
    const nodes = dev.store.state.childrenOf(dev.id).filter((c) => dev.store.state.nodeType(c) === SIM_NODE_TYPE);
    const tap = new LeafTap(dev.server.ports.leaf as number);
    await tap.start();
    stops.push(() => tap.close());
    const cable = await ptyPair(tmp, 'laptop', 'device');
    stops.push(() => killProcess(cable));
    const bridge = new SerialBridge({
      mode: 'dial',
      line: serialEndpoint({ path: join(tmp, 'device'), baudRate: 115200 }),
      dialPort: tap.port,
      rateBps,
      latencyMs: LATENCY_MS,
    });
    await bridge.start();
    stops.push(() => bridge.stop());
    const url = await links.addSlot('device');
    const lap = await instances.start({
      peers: [{ url, credentials: dev.credentials.leaf, ...(cfg.leafCompression ? { compression: cfg.leafCompression } : {}) }],
      sync: { role: 'laptop', want: 'all' },
    });
    await links.connect('device', { kind: 'serial', path: join(tmp, 'laptop'), baudRate: 115200, compress: cfg.compress, rateBps, latencyMs: LATENCY_MS });
    const pair: Pair = {
      cfg,
      rateBps,
      tmp,
      instances,
      dev,
      lap,
      devJsm: await jetstreamManager(dev.nc),
      lapJsm: await jetstreamManager(lap.nc),
      stream: `inst_${dev.id}_${dev.id}`,
      nodes,
      links,
      bridge,
      tap,
      cable,
      result: { config: cfg.id, label: cfg.label, rateBps, leafCompression: { laptop: '', device: '', rttLaptop: '' }, errors: [] },
      events: [],
      peerDown: 0,
      consumers: 0,
    };
    let lastState = '';
    let lastReach = true;
    const replicaState = (r: ReplicaStatus) => {
      if (r.stream !== pair.stream) return;
      const st = `${r.state}${r.lastError ? `: ${r.lastError}` : ''}`;
      if (st === lastState) return;
      lastState = st;
      if (pair.events.length < 5_000) pair.events.push({ at: Date.now(), what: `replica ${st}` });
    };
    // Status events are coalesced (100 ms), and a round that fails restarts at once, so its reason
    // would be lost: every replica status is read as the sync records it. (A private field, read
    // for this report only; if it moves, the coalesced events below still come.)
    const statusMap = (lap.sync as unknown as { replicaStatus?: Map<string, ReplicaStatus> } | undefined)?.replicaStatus;
    if (statusMap instanceof Map) {
      const set = statusMap.set.bind(statusMap);
      statusMap.set = (k: string, v: ReplicaStatus) => {
        replicaState(v);
        return set(k, v);
      };
    }
    lap.sync?.on('status', (s) => {
      const r = s.replicas.find((x) => x.stream === pair.stream);
      if (r) replicaState(r);
      const peer = s.peers.find((x) => x.id === dev.id);
      if (peer && peer.reachable !== lastReach) {
        lastReach = peer.reachable;
        if (!peer.reachable) pair.peerDown++;
        pair.events.push({ at: Date.now(), what: `laptop sync: device ${peer.reachable ? 'reachable' : 'unreachable'}` });
      }
    });
    const keep = /slow consumer|stall|write deadline|stale|leafnode connection closed|error|warn/i;
    for (const [who, inst] of [
      ['laptop', lap],
      ['device', dev],
    ] as const) {
      inst.server.on('log', (line) => {
        if (keep.test(line) && pair.events.length < 5_000) pair.events.push({ at: Date.now(), what: `${who} nats-server: ${line.replace(/^\[\d+\]\s+\S+\s+\S+\s+/, '')}` });
      });
    }
    // Consumers created on the device's stream in its own domain (one per replicator round).
    pair.advisorySub = dev.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.*.${pair.stream}.>`, {
      callback: (_e, m) => {
        try {
          if ((JSON.parse(m.string()) as { domain?: string }).domain !== `siot_${dev.id}`) return;
          if (m.subject.includes('.CONSUMER.CREATED.')) {
            pair.consumers++;
            pair.events.push({ at: Date.now(), what: 'device: consumer created (a replicator round starts pulling)' });
          } else if (m.subject.includes('.CONSUMER.DELETED.')) {
            pair.events.push({ at: Date.now(), what: 'device: consumer deleted' });
          }
        } catch {
          // not an advisory we know
        }
      },
    });
    bridge.on('session', (ev) => {
      if (pair.events.length < 5_000) pair.events.push({ at: Date.now(), what: `device bridge: leaf session ${ev.event}${ev.reason ? ` (${ev.reason})` : ''}` });
    });
    return pair;
  } catch (e) {
    await links.stop().catch(() => undefined);
    for (const s of stops.reverse()) await s().catch(() => undefined);
    await instances.dispose().catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

export async function stopPair(p: Pair): Promise<void> {
  p.advisorySub?.unsubscribe();
  await withTimeout(p.links.stop(), 10_000, 'link manager stop').catch(() => undefined);
  await withTimeout(p.bridge.stop(), 10_000, 'device bridge stop').catch(() => undefined);
  if (p.cable) await killProcess(p.cable).catch(() => undefined);
  await p.tap.close().catch(() => undefined);
  for (const inst of [p.lap, p.dev]) {
    await withTimeout(p.instances.stop(inst), 30_000, `stopping ${inst.id}`).catch(async () => {
      await inst.server.stop(2_000).catch(() => undefined);
    });
  }
  await p.instances.dispose().catch(() => undefined);
  await rm(p.tmp, { recursive: true, force: true });
}
