// Is the NATS leaf protocol efficient enough for Cat-M cellular links
// (20-100 kbit/s)? Measured over the real serial path a technician's cable
// takes, with the line shaped like Cat-M; writes docs/link-report.md (its
// hand-written discussion section is kept across runs).
//
//   cd /work/main && npx tsx test/bench/link-report.ts [--quick] [--json] [--no-write]
//
// --json prints the results (instead of the report) for --render <file>, which
// writes the report again from them without measuring.
//
// Path, per device/laptop pair: device nats-server (leaf listener) ← TCP tap
// (reads the leaf protocol and counts it by kind; forwards bytes untouched) ←
// device SerialBridge 'dial' ← socat pty pair (a null-modem cable) ← laptop
// SerialBridge 'listen' started by the LinkManager ← relay slot ← laptop
// nats-server leaf remote. Both bridges cap what they write to the line
// (rateBps) and add 100 ms one-way latency: each direction is a 20 or 100
// kbit/s line with a round trip of at least 200 ms, like Cat-M.
//
// Configurations: plain (bridge and leaf compression off), bridge
// compression (deflate in the bridge, leaf compression off), nats-server leaf
// compression s2_fast (bridge compression off), and the server's default when
// nothing is configured (s2_auto, whose level follows the measured round
// trip), which is what the product runs today.
//
// All pairs run side by side and in step (the link is the bottleneck, not
// the CPU; the load average is recorded). Sync runs with the product's
// defaults, not the tests' FAST_SYNC. Phases:
//   1. initial sync, then settle (a pull request left open by the initial
//      catch-up expires after 30 s);
//   2. idle: line bytes both ways over a window, per minute;
//   3. live: the device simulator (app/sim: 30 inputs at 1 Hz) writes while
//      connected; line bytes from its first write until the laptop holds its
//      last one, over the points that crossed;
//   4. catch-up: the cable is pulled, N float points are written on the
//      device (30 nodes, 1 s apart), the cable is plugged back in; time and
//      bytes until the laptop holds them all give points/s at that rate, and
//      from it an extrapolated time for 24 h of 30 nodes at 1 Hz (2,592,000
//      points). A small laptop→device request every 15 s shows how long
//      anything else waits behind the backlog on the line.
// Every wait is bounded; socat, nats-servers and temp dirs are removed at the
// end (and on SIGINT/SIGTERM). A full run takes about 15 minutes.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import type { Instance } from '../../app/instance/index.ts';
import { LinkManager, SerialBridge, serialEndpoint, type BridgeStats } from '../../app/link/index.ts';
import { findNatsServer } from '../../app/nats/index.ts';
import { DeviceSim, SIM_NODE_TYPE, sample, signalFor } from '../../app/sim/index.ts';
import { encodePoints, floatPoint } from '../../app/siot/index.ts';
import { DEFAULT_MAX_MSGS_PER_SUBJECT } from '../../app/store/index.ts';
import { lastOriginSeq, type ReplicaStatus } from '../../app/sync/index.ts';
import { Instances } from '../helpers/instance.ts';
import { killProcess, ptyPair, requireSocat } from '../helpers/pty.ts';

export type ConfigId = 'plain' | 'bridge' | 's2_fast' | 's2_auto';

export interface ConfigSpec {
  id: ConfigId;
  label: string;
  /** Bridge compression (deflate, set on the laptop's side; the device side follows). */
  compress: boolean;
  /** nats-server leaf compression on the laptop's remote; undefined = the server's default. */
  leafCompression?: string;
}

export const CONFIGS: ConfigSpec[] = [
  { id: 'plain', label: 'plain', compress: false, leafCompression: 'off' },
  { id: 'bridge', label: 'bridge compression (deflate)', compress: true, leafCompression: 'off' },
  { id: 's2_fast', label: 'leaf compression s2_fast', compress: false, leafCompression: 's2_fast' },
  { id: 's2_auto', label: 'server default (s2_auto), today', compress: false },
];

export const POINTS_24H = 30 * 86_400;
const LATENCY_MS = 100;
const NODES = 30;

export interface LinkReportOptions {
  quick?: boolean;
  rates?: number[];
  configs?: ConfigId[];
  log?: (s: string) => void;
}

export interface Bytes {
  up: number;
  down: number;
  total: number;
}

export interface IdleResult {
  windowSec: number;
  /** Line bytes per minute, device→laptop (up) and laptop→device (down). */
  perMin: Bytes;
  /** Leaf protocol bytes (TCP side of the device bridge) per minute. */
  tcpPerMin: Bytes;
  /** Bridge frames sent per minute, both sides' counts from the device bridge (out + in). */
  framesPerMin: number;
  /** Round trip of one small request laptop→device JetStream right after the window (s). */
  rttSec: number | null;
}

export interface LiveResult {
  windowSec: number;
  /** Points the simulator wrote. */
  written: number;
  /** Points that reached the laptop before the drain wait ended. */
  points: number;
  /** From the first write to the replica holding the last one. */
  durationSec: number;
  /** After the simulator stopped, until the replica held its last write. */
  drainSec: number;
  complete: boolean;
  /** Largest number of points the replica was behind, sampled each second while writing. */
  maxLagPoints: number;
  line: Bytes;
  tcp: Bytes;
  bytesPerPoint: number;
  /** bytesPerPoint less the idle traffic of the same duration. */
  netBytesPerPoint: number;
  /** Line bytes per second the simulator's rate needs up, as a share of the link. */
  upUtilization: number;
}

export interface CatchUpResult {
  /** Points written while the cable was out. */
  written: number;
  /** Points the laptop lacked when the cable came back (written, plus any left from the live phase). */
  points: number;
  complete: boolean;
  /** Cable back to the first new point on the laptop. */
  firstSec: number | null;
  /** Cable back to the last point on the laptop (or given up). */
  totalSec: number;
  /** Cable back to the replicator's first pull (its consumer created on the device). */
  pullStartSec: number | null;
  /** Points moved per second between the first pull and the last point. */
  pointsPerSec: number;
  line: Bytes;
  tcp: Bytes;
  bytesPerPoint: number;
  /** Line bytes up over the whole run, over the link's rate. */
  upUtilization: number;
  /** 24 h of 30 nodes at 1 Hz at the measured points/s (extrapolated). */
  hours24h: number;
  /** The same from the upstream bytes per point alone, were the link busy all the time. */
  hours24hAtLineRate: number;
  missing: number;
  /** The laptop's copy has as many messages as the device's stream. */
  verified: string;
  /** Replica offline/error states seen during the run, with reasons. */
  replicaTrouble: string[];
  /** Times the laptop's sync marked the device unreachable during the run. */
  peerDownEvents: number;
  /** Consumers the laptop created on the device's stream during the run (a new one per replicator round). */
  consumersCreated: number;
  /** Leaf connections carried by the device bridge during the run. */
  sessions: number;
  /** [seconds since the cable came back, points on the laptop], every 10 s. */
  progress: Array<[number, number]>;
  /** [sent at, seconds until answered or null] of a small laptop→device request, every 15 s during the transfer. */
  rtts: Array<[number, number | null]>;
  /** Most bytes seen waiting in the device bridge's shaper for the line. */
  maxQueuedBytes: number;
  /** Replica states, reachability, server log lines of interest, stamped from the cable's return. */
  timeline: string[];
}

export interface TapRow {
  phase: string;
  direction: 'up' | 'down';
  kind: string;
  count: number;
  bytes: number;
  sample: string;
}

export interface PairResult {
  config: ConfigId;
  label: string;
  rateBps: number;
  /** Leaf compression in effect, from each server's /leafz. */
  leafCompression: { laptop: string; device: string; rttLaptop: string };
  idle?: IdleResult;
  live?: LiveResult;
  catchUp?: CatchUpResult;
  errors: string[];
}

export interface LinkReportResults {
  quick: boolean;
  startedAt: string;
  durationSec: number;
  command: string;
  machine: string;
  node: string;
  serverVersion: string;
  /** Commit of the measured code, and the uncommitted changes to app/ it ran with. */
  appVersion: string;
  /** Sync options in effect on the laptop (the product's defaults). */
  syncOptions: Record<string, unknown>;
  latencyMs: number;
  settleSec: number;
  /** One float point as the device writes it. */
  payload: { pointBytes: number; subjectBytes: number; subjectExample: string };
  maxMsgsPerSubject: number;
  pairs: PairResult[];
  /** Leaf protocol by kind, on the plain pairs (TCP side of the device bridge). */
  tap: Record<string, TapRow[]>;
  /** 1-minute load average at the end of each phase. */
  load: Record<string, number>;
  notes: string[];
}

let say: (s: string) => void = (s) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

const kbit = (bps: number) => `${bps / 1000} kbit/s`;

/**
 * A transparent TCP relay in front of the device's leaf listener that reads
 * the (uncompressed) leaf protocol going through it and counts bytes by kind
 * and phase. Nothing it forwards is changed or delayed beyond a loopback hop.
 */
class LeafTap {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly replyKind = new Map<string, string>();
  readonly rows = new Map<string, TapRow>();
  phase = 'setup';
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const pending: Record<'up' | 'down', Buffer> = { up: Buffer.alloc(0), down: Buffer.alloc(0) };
      const feed = (dir: 'up' | 'down', d: Buffer) => {
        pending[dir] = this.parse(dir, pending[dir].length ? Buffer.concat([pending[dir], d]) : d);
      };
      client.on('data', (d: Buffer) => {
        feed('down', d);
        if (!upstream.write(d)) client.pause();
      });
      upstream.on('data', (d: Buffer) => {
        feed('up', d);
        if (!client.write(d)) upstream.pause();
      });
      upstream.on('drain', () => client.resume());
      client.on('drain', () => upstream.resume());
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }

  /** Consumes whole protocol units from `b`; returns the rest. */
  private parse(dir: 'up' | 'down', b: Buffer): Buffer {
    for (;;) {
      const nl = b.indexOf('\r\n');
      if (nl < 0) break;
      const line = b.subarray(0, nl).toString('latin1');
      const t = line.split(' ');
      const op = (t[0] ?? '').toUpperCase();
      // Leaf connections carry LMSG, and HMSG when the message has headers.
      const isMsg = op === 'LMSG' || op === 'HMSG' || op === 'HLMSG';
      const size = isMsg ? Number(t[t.length - 1]) : 0;
      const total = nl + 2 + (isMsg ? size + 2 : 0);
      if (b.length < total) break;
      let kind = op || '(empty line)';
      if (isMsg) {
        const subject = t[1] ?? '';
        const args = t.slice(2, t.length - (op === 'LMSG' ? 1 : 2));
        const reply = args[0] === '+' || args[0] === '|' ? undefined : args[0];
        kind = this.kind(subject, reply);
      } else if (op === 'LS+' || op === 'LS-') {
        kind = `${op} (interest)`;
      }
      const key = `${this.phase}|${dir}|${kind}`;
      const row = this.rows.get(key) ?? { phase: this.phase, direction: dir, kind, count: 0, bytes: 0, sample: '' };
      row.count++;
      row.bytes += total;
      if (!row.sample) row.sample = isMsg ? `${line.slice(0, 400)} (+${size} B body)` : line.slice(0, 200);
      this.rows.set(key, row);
      b = b.subarray(total);
    }
    return Buffer.from(b);
  }

  private kind(subject: string, reply: string | undefined): string {
    if (reply?.startsWith('$JS.ACK.')) return 'JetStream delivery (one point)';
    const api = /^\$JS\.[^.]+\.API\.(.*)$/.exec(subject);
    if (api) {
      const p = (api[1] ?? '').split('.');
      let what = p.slice(0, 2).join('.');
      if (p[0] === 'CONSUMER' && p[1] === 'MSG') what = 'CONSUMER.MSG.NEXT (pull request)';
      else if (p[0] === 'STREAM' && p[1] === 'MSG') what = 'STREAM.MSG.GET';
      else if (p[0] === 'DIRECT') what = 'DIRECT.GET';
      else if (p[0] === 'CONSUMER' && (p[1] === 'CREATE' || p[1] === 'DURABLE')) what = 'CONSUMER.CREATE';
      else if (p[0] === 'INFO') what = 'INFO (account)';
      if (reply) this.remember(reply, p[0] === 'CONSUMER' && p[1] === 'MSG' ? 'pull status / heartbeat' : `reply to ${what}`);
      return `request ${what}`;
    }
    if (subject === 'siot.sync.hello' || subject.startsWith('siot.sync.hello.')) {
      if (reply) this.remember(reply, 'hello answer');
      return 'sync hello';
    }
    const known = this.replyKind.get(subject);
    if (known) return known;
    if (subject.startsWith('_INBOX.')) return 'to _INBOX (other)';
    return subject.split('.').slice(0, 2).join('.');
  }

  private remember(reply: string, kind: string): void {
    if (this.replyKind.size > 20_000) this.replyKind.clear();
    this.replyKind.set(reply, kind);
  }
}

interface Pair {
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

function tag(p: Pair): string {
  return `${p.cfg.id} @ ${kbit(p.rateBps)}`;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

function replica(p: Pair): ReplicaStatus | undefined {
  return p.lap.sync?.status().replicas.find((r) => r.stream === p.stream);
}

/** Origin sequence of the last message the laptop's copy holds (read from its own server, not across the link). */
async function laptopLast(p: Pair): Promise<number> {
  return withTimeout(lastOriginSeq(p.lapJsm, p.stream), 10_000, 'laptop stream info').catch(() => 0);
}

async function deviceLast(p: Pair): Promise<number> {
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

function snap(p: Pair) {
  return bytesOf(p.bridge.status().stats);
}

function diff(a: Bytes, b: Bytes): Bytes {
  return { up: b.up - a.up, down: b.down - a.down, total: b.total - a.total };
}

async function leafz(inst: Instance): Promise<{ compression: string; rtt: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${inst.server.ports.monitor}/leafz`, { signal: AbortSignal.timeout(3_000) });
    const j = (await res.json()) as { leafs?: Array<{ compression?: string; rtt?: string }> };
    const l = j.leafs?.[0];
    return { compression: l ? (l.compression ?? '(not reported)') : '(no leaf)', rtt: l?.rtt ?? '' };
  } catch (e) {
    return { compression: `(leafz failed: ${(e as Error).message})`, rtt: '' };
  }
}

async function startPair(cfg: ConfigSpec, rateBps: number): Promise<Pair> {
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

async function stopPair(p: Pair): Promise<void> {
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

/**
 * Round trip of one small request from the laptop to the device's
 * JetStream (account info, ~100 B down, ~500 B up) over the link: its
 * answer queues behind whatever the device is sending, so during a
 * catch-up it shows how long anything else waits on the line.
 */
function rttProbe(p: Pair, out: Array<[number, number | null]>, t0: number): Promise<void> {
  const sent = Date.now();
  return p.lap.nc.request(`$JS.siot_${p.dev.id}.API.INFO`, new Uint8Array(0), { timeout: 300_000 }).then(
    () => void out.push([Math.round((sent - t0) / 1000), (Date.now() - sent) / 1000]),
    () => void out.push([Math.round((sent - t0) / 1000), null]),
  );
}

/** Polls until the replica holds the device's last message; returns ms taken, or null after `timeoutMs`. */
async function waitSynced(p: Pair, timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const last = await deviceLast(p).catch(() => -1);
    if (last > 0 && (await laptopLast(p)) >= last) return Date.now() - t0;
    await sleep(100);
  }
  return null;
}

async function settled<T>(pairs: Pair[], what: string, fn: (p: Pair) => Promise<T>): Promise<Array<T | undefined>> {
  const rs = await Promise.allSettled(pairs.map(fn));
  return rs.map((r, i) => {
    if (r.status === 'fulfilled') return r.value;
    const p = pairs[i] as Pair;
    const msg = `${what}: ${(r.reason as Error)?.message ?? String(r.reason)}`;
    p.result.errors.push(msg);
    say(`${tag(p)}: ${msg}`);
    return undefined;
  });
}

async function measureIdle(p: Pair, windowMs: number): Promise<IdleResult> {
  const a = snap(p);
  p.tap.phase = 'idle';
  await sleep(windowMs);
  const b = snap(p);
  p.tap.phase = 'other';
  const rtt: Array<[number, number | null]> = [];
  await rttProbe(p, rtt, Date.now());
  const k = 60_000 / windowMs;
  const scale = (x: Bytes): Bytes => ({ up: Math.round(x.up * k), down: Math.round(x.down * k), total: Math.round(x.total * k) });
  return {
    windowSec: windowMs / 1000,
    perMin: scale(diff(a.line, b.line)),
    tcpPerMin: scale(diff(a.tcp, b.tcp)),
    framesPerMin: Math.round((b.frames - a.frames) * k),
    rttSec: rtt[0]?.[1] ?? null,
  };
}

async function measureLive(p: Pair, windowMs: number, drainTimeoutMs: number): Promise<LiveResult> {
  const before = await deviceLast(p);
  const a = snap(p);
  const t0 = Date.now();
  p.tap.phase = 'live';
  const sim = new DeviceSim(p.dev, { nodes: NODES, pollPeriodMs: 1_000 });
  await sim.start();
  let maxLag = 0;
  while (Date.now() - t0 < windowMs) {
    await sleep(1_000);
    const [last, held] = await Promise.all([deviceLast(p).catch(() => 0), laptopLast(p)]);
    if (last) maxLag = Math.max(maxLag, last - Math.max(before, held));
  }
  sim.stop();
  await sleep(300); // writes already started settle
  const tStop = Date.now();
  const written = (await deviceLast(p)) - before;
  const drained = await waitSynced(p, drainTimeoutMs);
  const b = snap(p);
  p.tap.phase = 'other';
  // Bytes per point over the points that crossed (all of them, unless the link could not keep up).
  const points = Math.min(written, Math.max(0, (await laptopLast(p)) - before));
  const durationSec = (Date.now() - t0) / 1000;
  const line = diff(a.line, b.line);
  const idle = p.result.idle?.perMin.total ?? 0;
  const bpp = points ? line.total / points : 0;
  return {
    windowSec: windowMs / 1000,
    written,
    points,
    durationSec,
    drainSec: (Date.now() - tStop) / 1000,
    complete: drained !== null,
    maxLagPoints: maxLag,
    line,
    tcp: diff(a.tcp, b.tcp),
    bytesPerPoint: Math.round(bpp),
    netBytesPerPoint: points ? Math.round((line.total - (idle * durationSec) / 60) / points) : 0,
    // 30 points/s need 30 x (up bytes per point) x 8 bits/s.
    upUtilization: points ? (NODES * (line.up / points) * 8) / p.rateBps : 0,
  };
}

async function cutCable(p: Pair): Promise<void> {
  if (p.cable) await killProcess(p.cable);
  p.cable = undefined;
  const t0 = Date.now();
  while (Date.now() - t0 < 30_000) {
    const r = replica(p);
    if (r?.state === 'offline' || r?.state === 'error') break;
    await sleep(100);
  }
  await sleep(1_000);
}

/** N float points, round-robin over the 30 nodes, 1 s apart per node, as the simulator would have written them. */
async function writeBacklog(p: Pair, n: number): Promise<void> {
  const rounds = Math.ceil(n / NODES);
  const startMs = Date.now() - rounds * 1_000;
  const prev = p.nodes.map((_id, i) => signalFor(i).offset);
  const jobs: Array<{ node: string; value: number; time: bigint }> = [];
  for (let k = 0; k < n; k++) {
    const i = k % NODES;
    const ms = startMs + Math.floor(k / NODES) * 1_000;
    const v = sample(signalFor(i), ms / 1000, prev[i] as number);
    prev[i] = v;
    jobs.push({ node: p.nodes[i] as string, value: Math.round(v * 1000) / 1000, time: BigInt(ms) * 1_000_000n });
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < jobs.length) {
        const j = jobs[next++] as (typeof jobs)[number];
        await p.dev.store.writeNodePoints(j.node, [floatPoint('value', j.value, { time: j.time })]);
      }
    }),
  );
}

async function measureCatchUp(p: Pair, written: number, timeoutMs: number): Promise<CatchUpResult> {
  // The backlog is written already: the device's last sequence is the target.
  const target = await deviceLast(p);
  const held = await laptopLast(p);
  const points = target - held;
  const a = snap(p);
  const sessions0 = p.bridge.status().stats.sessions;
  const peerDown0 = p.peerDown;
  const consumers0 = p.consumers;
  const ev0 = p.events.length;
  p.tap.phase = 'catch-up';
  p.cable = await ptyPair(p.tmp, 'laptop', 'device');
  const t0 = Date.now();
  p.events.push({ at: t0, what: 'cable plugged back in' });
  let first: number | null = null;
  let done: number | null = null;
  let lastReport = t0;
  let got = held;
  // Progress every 10 s, to show a stall or a restart that throws away what was in flight.
  const progress: Array<[number, number]> = [];
  let nextMark = 0;
  // A request across the link every 15 s from the first point on; the line's queue, sampled.
  const rtts: Array<[number, number | null]> = [];
  const probes: Array<Promise<void>> = [];
  let nextProbe = Infinity;
  let maxQueued = 0;
  while (Date.now() - t0 < timeoutMs) {
    got = Math.max(got, await laptopLast(p));
    const now = Date.now() - t0;
    maxQueued = Math.max(maxQueued, p.bridge.status().stats.queuedBytes);
    if (first !== null && now >= nextProbe) {
      probes.push(rttProbe(p, rtts, t0));
      nextProbe = now + 15_000;
    }
    if (first === null && got > held) nextProbe = now + 2_000;
    if (first === null && got > held) {
      first = now;
      p.events.push({ at: Date.now(), what: 'first point on the laptop' });
    }
    if (now >= nextMark) {
      progress.push([Math.round(now / 1000), got - held]);
      nextMark += 10_000;
    }
    if (got >= target) {
      done = now;
      break;
    }
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      say(`${tag(p)}: catch-up ${Math.max(0, got - held)}/${points} after ${Math.round(now / 1000)} s`);
    }
    await sleep(100);
  }
  const b = snap(p);
  p.tap.phase = 'other';
  const totalMs = done ?? Date.now() - t0;
  const moved = Math.max(0, got - held);
  // Answers still on their way come in once the backlog is through (bounded: they time out).
  await withTimeout(Promise.all(probes), 60_000, 'round-trip probes').catch(() => undefined);
  const line = diff(a.line, b.line);
  // Throughput from the replicator's first pull to the last point: the link's part, without the
  // reconnect. (Compressed blocks arrive whole, so the first point can land well after bytes began to flow.)
  const pull = p.events.slice(ev0).find((e) => e.what.startsWith('device: consumer created'));
  const pullStart = pull ? Math.min(pull.at - t0, first ?? Infinity) : first;
  const xferMs = pullStart === null ? totalMs : totalMs - pullStart;
  const pps = moved > 0 && xferMs >= 1_000 ? moved / (xferMs / 1000) : moved / Math.max(1, totalMs / 1000);
  const bpp = moved ? line.total / moved : 0;
  const upBpp = moved ? line.up / moved : 0;
  const [dInfo, lInfo] = await Promise.all([p.devJsm.streams.info(p.stream), p.lapJsm.streams.info(p.stream).catch(() => null)]);
  const verified =
    lInfo && lInfo.state.messages === dInfo.state.messages
      ? `same message count (${dInfo.state.messages})`
      : `laptop holds ${lInfo?.state.messages ?? 0}, device ${dInfo.state.messages}`;
  const evs = p.events.slice(ev0);
  // Rounds that fail while the leaf is still coming back ("jetstream is not enabled") are the reconnect, not trouble.
  const trouble = evs.filter((e) => /^replica (offline|error)/.test(e.what) && !/jetstream is not enabled/.test(e.what));
  return {
    written,
    points,
    complete: done !== null,
    firstSec: first === null ? null : first / 1000,
    totalSec: totalMs / 1000,
    pointsPerSec: pps,
    line,
    tcp: diff(a.tcp, b.tcp),
    bytesPerPoint: Math.round(bpp),
    pullStartSec: pullStart === null ? null : pullStart / 1000,
    upUtilization: xferMs > 0 ? (line.up * 8) / (xferMs / 1000) / p.rateBps : 0,
    hours24h: pps > 0 ? POINTS_24H / pps / 3600 : Infinity,
    hours24hAtLineRate: upBpp > 0 ? (POINTS_24H * upBpp * 8) / p.rateBps / 3600 : Infinity,
    missing: Math.max(0, target - got),
    verified,
    replicaTrouble: [...new Set(trouble.map((e) => e.what.replace(/\d+ ms/g, 'N ms').replace(/_INBOX\.\S+/, '_INBOX')))].slice(0, 8),
    peerDownEvents: p.peerDown - peerDown0,
    consumersCreated: p.consumers - consumers0,
    sessions: p.bridge.status().stats.sessions - sessions0,
    progress,
    rtts,
    maxQueuedBytes: maxQueued,
    timeline: evs.map((e) => `+${((e.at - t0) / 1000).toFixed(1)}s ${e.what}`).slice(0, 60),
  };
}

export async function runLinkReport(opts: LinkReportOptions = {}): Promise<LinkReportResults> {
  if (opts.log) say = opts.log;
  requireSocat();
  const quick = opts.quick ?? false;
  const t0 = Date.now();
  const rates = opts.rates ?? [20_000, 100_000];
  const configs = CONFIGS.filter((c) => !opts.configs || opts.configs.includes(c.id));
  const settleMs = quick ? 10_000 : 35_000;
  const idleMs = quick ? 20_000 : 60_000;
  const liveMs = quick ? 20_000 : 30_000;
  const catchN = (rate: number) => Math.round((rate <= 20_000 ? 3_000 : 10_000) / (quick ? 5 : 1));
  const server = findNatsServer();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const samplePoint = floatPoint('value', 23.456);
  const exampleId = '0b1e4a52-7c1d-4d3e-9f10-2a6b5c4d3e2f';
  const subjectExample = `inst.${exampleId}.${exampleId}.${exampleId}.p.value.0`;
  const results: LinkReportResults = {
    quick,
    startedAt: new Date(t0).toISOString(),
    durationSec: 0,
    command: `cd /work/main && npx tsx test/bench/link-report.ts${quick ? ' --quick' : ''}`,
    machine: `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform}/${process.arch}`,
    node: process.version,
    serverVersion: `${server.version} (${server.source})`,
    appVersion: appVersion(),
    syncOptions: {},
    latencyMs: LATENCY_MS,
    settleSec: settleMs / 1000,
    payload: { pointBytes: encodePoints([samplePoint]).length, subjectBytes: subjectExample.length, subjectExample },
    maxMsgsPerSubject: DEFAULT_MAX_MSGS_PER_SUBJECT,
    pairs: [],
    tap: {},
    load: {},
    notes: [],
  };
  const pairs: Pair[] = [];
  const onSignal = () => {
    say('interrupted: cleaning up');
    void Promise.allSettled(pairs.map(stopPair)).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const specs = rates.flatMap((r) => configs.map((c) => ({ c, r })));
    say(`starting ${specs.length} device/laptop pairs over socat pty pairs (${configs.map((c) => c.id).join(', ')} x ${rates.map(kbit).join(', ')})`);
    const started = await Promise.allSettled(specs.map((s) => startPair(s.c, s.r)));
    for (const s of started) if (s.status === 'fulfilled') pairs.push(s.value);
    const failed = started.find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    results.pairs = pairs.map((p) => p.result);
    // Private, read for the report only: the defaults move as the sync code does.
    results.syncOptions = { ...((pairs[0]?.lap.sync as unknown as { opts?: Record<string, unknown> } | undefined)?.opts ?? {}) };

    // 1. Initial sync (the 30 nodes' edges and points), then settle.
    await settled(pairs, 'initial sync', async (p) => {
      const ms = await waitSynced(p, 180_000);
      if (ms === null) throw new Error('initial sync did not complete in 180 s');
      say(`${tag(p)}: initial sync in ${(ms / 1000).toFixed(1)} s`);
    });
    say(`settling ${settleMs / 1000} s`);
    await sleep(settleMs);
    for (const p of pairs) {
      const [l, d] = await Promise.all([leafz(p.lap), leafz(p.dev)]);
      p.result.leafCompression = { laptop: l.compression, device: d.compression, rttLaptop: l.rtt };
    }
    results.load.setup = loadavg()[0] ?? 0;

    // 2. Idle.
    say(`idle window ${idleMs / 1000} s`);
    const idles = await settled(pairs, 'idle', (p) => measureIdle(p, idleMs));
    pairs.forEach((p, i) => {
      const r = idles[i];
      if (r) p.result.idle = r;
    });
    results.load.idle = loadavg()[0] ?? 0;
    for (const p of pairs) say(`${tag(p)}: idle ${p.result.idle?.perMin.total} B/min (compression ${p.result.leafCompression.laptop}/${p.result.leafCompression.device})`);

    // 3. Live: the simulator writes 30 points/s while connected.
    say(`live: simulator 30 inputs at 1 Hz for ${liveMs / 1000} s`);
    const lives = await settled(pairs, 'live', (p) => measureLive(p, liveMs, quick ? 60_000 : 180_000));
    pairs.forEach((p, i) => {
      const r = lives[i];
      if (r) {
        p.result.live = r;
        say(`${tag(p)}: live ${r.points} points, ${r.bytesPerPoint} B/point, max lag ${r.maxLagPoints}, drained in ${r.drainSec.toFixed(1)} s${r.complete ? '' : ' (INCOMPLETE)'}`);
      }
    });
    results.load.live = loadavg()[0] ?? 0;
    // Whatever did not drain must, before a catch-up is measured.
    await settled(pairs, 'sync before catch-up', async (p) => {
      if ((await waitSynced(p, 300_000)) === null) throw new Error('not in sync 300 s after the live phase');
    });

    // 4. Catch-up after a pulled cable.
    say('catch-up: pulling the cables');
    await settled(pairs, 'cut', (p) => cutCable(p));
    say(`writing ${rates.map((r) => `${catchN(r)} points at ${kbit(r)}`).join(', ')} on the devices`);
    await settled(pairs, 'backlog writes', (p) => writeBacklog(p, catchN(p.rateBps)));
    results.load.writes = loadavg()[0] ?? 0;
    say('plugging the cables back in');
    // Budget: twice what the points take at 250 B/point, at least 2 minutes.
    const budget = (p: Pair) => Math.max(120_000, Math.round((2 * catchN(p.rateBps) * 250 * 8 * 1000) / p.rateBps));
    const cus = await settled(pairs, 'catch-up', (p) => measureCatchUp(p, catchN(p.rateBps), quick ? Math.min(budget(p), 240_000) : budget(p)));
    pairs.forEach((p, i) => {
      const r = cus[i];
      if (r) {
        p.result.catchUp = r;
        say(
          `${tag(p)}: catch-up ${r.complete ? 'complete' : `INCOMPLETE (${r.missing} missing)`} in ${r.totalSec.toFixed(1)} s (first after ${r.firstSec?.toFixed(1)} s), ` +
            `${r.pointsPerSec.toFixed(1)} points/s, ${r.bytesPerPoint} B/point, 24 h ≈ ${r.hours24h.toFixed(1)} h`,
        );
      }
    });
    results.load.catchUp = loadavg()[0] ?? 0;
    for (const p of pairs) {
      if (p.cfg.id !== 'plain') continue;
      results.tap[kbit(p.rateBps)] = [...p.tap.rows.values()].filter((r) => r.phase !== 'other' && r.phase !== 'setup').sort((x, y) => x.phase.localeCompare(y.phase) || y.bytes - x.bytes);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    say('stopping');
    await Promise.allSettled(pairs.map(stopPair));
  }
  results.durationSec = Math.round((Date.now() - t0) / 1000);
  return results;
}

/** The commit the measured app/ code is at, and a digest of uncommitted changes to it (read-only git queries). */
function appVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown';
  // Neither writes the index (unlike `git status`, which may refresh it).
  const changed = [git('--no-optional-locks', 'diff', 'HEAD', '--name-only', '--', 'app'), git('--no-optional-locks', 'ls-files', '--others', '--exclude-standard', '--', 'app')].filter(Boolean).join('\n');
  if (!changed) return head;
  const digest = createHash('sha256').update(git('--no-optional-locks', 'diff', 'HEAD', '--', 'app')).digest('hex').slice(0, 12);
  const files = changed.split('\n').map((l) => l.replace(/^app\//, '')).join(', ');
  return `${head} + uncommitted changes to app/ (diff sha256 ${digest}: ${files})`;
}

// ---------------------------------------------------------------- report

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (x: number) => `${fmt(x * 100)} %`;
const hours = (h: number) => (!Number.isFinite(h) ? '∞' : h >= 48 ? `${fmt(h, 0)} h (${fmt(h / 24, 1)} days)` : `${fmt(h, 1)} h`);

const DISCUSSION_START = '<!-- discussion:start (kept when the report is regenerated) -->';
const DISCUSSION_END = '<!-- discussion:end -->';

export function toMarkdown(r: LinkReportResults, discussion = ''): string {
  const o: string[] = [];
  const rows = [...r.pairs].sort((a, b) => a.rateBps - b.rateBps || CONFIGS.findIndex((c) => c.id === a.config) - CONFIGS.findIndex((c) => c.id === b.config));
  const payload = r.payload.pointBytes;
  const so = r.syncOptions as Partial<Record<string, number>>;
  const secs = (ms: number | undefined) => (ms === undefined ? '?' : `${fmt(ms / 1000, ms % 1000 ? 1 : 0)} s`);
  o.push('# Leaf protocol over a Cat-M-like serial link');
  o.push('');
  o.push('Answers the open question of the Simple IoT design: is the NATS leaf protocol efficient enough for Cat-M');
  o.push('cellular links of 20-100 kbit/s? Measured over the real serial path of app/link (not estimated), with the line shaped');
  o.push('like Cat-M. Regenerate with the command below; the discussion at the end is kept across runs.');
  o.push('');
  o.push('```');
  o.push(r.command);
  o.push('```');
  o.push('');
  o.push(`- Run ${r.startedAt}, ${fmt(r.durationSec)} s${r.quick ? ', **--quick** (shorter windows, N/5)' : ''}; code at ${r.appVersion}.`);
  o.push(`- Machine: ${r.machine}; Node ${r.node}; nats-server ${r.serverVersion}. All servers, bridges and socat share these cores.`);
  o.push(
    `- Load average (1 min, whole machine) at the end of each phase: ${Object.entries(r.load)
      .map(([k, v]) => `${k} ${fmt(v, 2)}`)
      .join(', ')}.`,
  );
  o.push('');
  o.push('## Summary');
  o.push('');
  o.push(`A float point is **${payload} B** of SIOT payload. "B/point" counts every byte on the serial line, both directions, over the points`);
  o.push('that crossed. The 24 h figure (30 nodes at 1 Hz, ' + fmt(POINTS_24H) + ' points) is **extrapolated** from the measured catch-up rate;');
  o.push('"rounds" marks a catch-up whose replicator started over (what was in flight crossed again). The answer, and what behaved');
  o.push('badly on slow links, are in the Discussion at the end.');
  o.push('');
  o.push('| link | configuration | idle B/min | live B/point | live: keeps up with 30 points/s? | catch-up B/point | catch-up points/s (measured) | 24 h upload (extrapolated) |');
  o.push('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const p of rows) {
    const l = p.live;
    const c = p.catchUp;
    const keeps = !l ? '-' : l.upUtilization > 1 || !l.complete ? `**no** (needs ${pct(l.upUtilization)} of the line)` : `yes (${pct(l.upUtilization)} of the line)`;
    o.push(
      `| ${kbit(p.rateBps)} | ${p.label} | ${p.idle ? fmt(p.idle.perMin.total) : '-'} | ${l ? fmt(l.bytesPerPoint) : '-'} | ${keeps} | ${c ? `${fmt(c.bytesPerPoint)}${c.consumersCreated > 1 ? ` (${c.consumersCreated} rounds)` : ''}` : '-'} | ${c ? `${fmt(c.pointsPerSec, 1)}${c.complete ? '' : ' (incomplete)'}` : '-'} | ${c ? `**${hours(c.hours24h)}**` : '-'} |`,
    );
  }
  o.push('');
  o.push('## Setup');
  o.push('');
  o.push('- Path per pair: device nats-server (leaf listener) → TCP tap (counts leaf protocol by kind, changes nothing) → device');
  o.push('  `SerialBridge` (dial) → socat pty pair (a null-modem cable; real serialport binding) → laptop `SerialBridge` (listen),');
  o.push('  started by `LinkManager` → relay slot → laptop nats-server leaf remote. Real instances (app/instance) on both ends.');
  o.push(`- Both bridges cap what they write to the line (\`rateBps\`, 8 bits per byte) and add ${r.latencyMs} ms one-way latency: each`);
  o.push(`  direction is a 20 or 100 kbit/s line and a round trip takes at least ${2 * r.latencyMs} ms, like Cat-M.`);
  o.push('- Byte counts are line bytes (`lineBytesIn/Out` of the device bridge): bridge framing, its keep-alive PINGs and compression');
  o.push('  included. "Up" is device → laptop, "down" laptop → device.');
  o.push(
    `- Sync with the product's defaults (not the tests' FAST_SYNC): hello every ${secs(so.helloIntervalMs)}, re-check every ${secs(so.scanIntervalMs)}, ` +
      `pull batch ${so.batch ?? '?'} (two requests open during a backlog), at most ${so.maxInFlight ?? '?'} appends in flight, pull expiry ${secs(so.pullExpiresMs)}, heartbeat ${secs(so.heartbeatMs)}.`,
  );
  o.push('- Instance and node ids are generated UUIDs, as on a real device; the device is the simulator\'s 30 `modbusIO` inputs (app/sim).');
  o.push(`- All ${rows.length} pairs ran side by side and in step (the link, not the CPU, is the bottleneck at these rates).`);
  o.push('- Configurations:');
  for (const c of CONFIGS) {
    if (!rows.some((x) => x.config === c.id)) continue;
    o.push(`  - **${c.label}**: bridge compression ${c.compress ? 'on (deflate, one stream per session, sync flush per TCP chunk)' : 'off'}; leaf remote \`compression\` ${c.leafCompression ? `\`${c.leafCompression}\`` : 'not set (nats-server\'s default)'}.`);
  }
  o.push('- Phases: initial sync, settle ' + fmt(r.settleSec) + ' s, idle window, live (the simulator writes for a while, then the laptop must catch');
  o.push('  up), catch-up (cable pulled, N points written, cable back). Each is described with its table.');
  o.push('');
  o.push('Leaf compression in effect, from each server\'s `/leafz` after the initial sync:');
  o.push('');
  o.push('| link | configuration | laptop side | device side | RTT nats-server measured |');
  o.push('| --- | --- | --- | --- | ---: |');
  for (const p of rows) o.push(`| ${kbit(p.rateBps)} | ${p.label} | ${p.leafCompression.laptop} | ${p.leafCompression.device} | ${p.leafCompression.rttLaptop} |`);
  o.push('');

  o.push('## Idle traffic');
  o.push('');
  o.push('Line bytes once the initial sync had settled, over the window, scaled to a minute. "Reply wait" is the round trip of one small');
  o.push('request from the laptop to the device\'s JetStream right after the window (the quiet line\'s latency).');
  o.push('');
  o.push('| link | configuration | window | up B/min | down B/min | **total B/min** | leaf protocol B/min (before the bridge) | bridge frames/min | MB/day | reply wait |');
  o.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of rows) {
    const i = p.idle;
    if (!i) continue;
    o.push(
      `| ${kbit(p.rateBps)} | ${p.label} | ${i.windowSec} s | ${fmt(i.perMin.up)} | ${fmt(i.perMin.down)} | **${fmt(i.perMin.total)}** | ${fmt(i.tcpPerMin.total)} | ${fmt(i.framesPerMin)} | ${fmt((i.perMin.total * 1440) / 1e6, 2)} | ${i.rttSec === null ? 'no answer' : `${fmt(i.rttSec, 2)} s`} |`,
    );
  }
  o.push('');
  o.push('## Bytes per replicated point, live');
  o.push('');
  o.push('The device simulator (30 inputs at 1 Hz, float `value` points) wrote while connected. "B/point": all line bytes from its first');
  o.push('write until the laptop held its last one (or the wait ended), over the points that reached the laptop; "net" takes away the idle');
  o.push('traffic of the same duration. "Line share": what 30 points/s need upstream at that B/point, as a share of the line rate; above');
  o.push('100 % the link cannot follow the device live. "Max lag": most points the laptop was behind, sampled each second while writing.');
  o.push('');
  o.push('| link | configuration | written | crossed | **B/point** (up + down) | net B/point | up B/point | vs payload | line share needed | max lag (points) | caught up after the writes stopped |');
  o.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const p of rows) {
    const l = p.live;
    if (!l) continue;
    const up = l.points ? l.line.up / l.points : 0;
    o.push(
      `| ${kbit(p.rateBps)} | ${p.label} | ${fmt(l.written)} | ${fmt(l.points)} | **${fmt(l.bytesPerPoint)}** | ${fmt(l.netBytesPerPoint)} | ${fmt(up)} | ${fmt(l.bytesPerPoint / payload, 1)}x | ${pct(l.upUtilization)} | ${fmt(l.maxLagPoints)} | ${l.complete ? `${fmt(l.drainSec, 1)} s` : `**not within ${fmt(l.drainSec, 0)} s**`} |`,
    );
  }
  o.push('');
  const wire = Object.values(r.tap)
    .flat()
    .find((t) => t.phase === 'live' && t.kind.startsWith('JetStream delivery'));
  if (wire) {
    o.push(`One live point as the plain leaf protocol carries it (${fmt(wire.bytes / wire.count)} B on average before the bridge's framing, for ${payload} B of payload`);
    o.push(`and a ${r.payload.subjectBytes} B subject): the pull's inbox, the JetStream ack subject (stream name, consumer, sequences,`);
    o.push('timestamp, pending count) and the original subject after `@`:');
    o.push('');
    o.push('```');
    o.push(wire.sample);
    o.push('```');
    o.push('');
  }

  o.push('## Catch-up after a pulled cable, and 24 h of 30 nodes at 1 Hz');
  o.push('');
  o.push('N points (30 nodes, 1 s apart, as the simulator writes them) were written on the device while the cable was out; then the cable');
  o.push('was plugged back in. **Measured**: time to the replicator\'s first pull (its consumer created on the device), to the first and to');
  o.push('the last point on the laptop, line bytes, and points/s from the first pull to the last point (the reconnect left out; the line');
  o.push(`busy share is over the same span). **Extrapolated**: 24 h of 30 nodes at 1 Hz (${fmt(POINTS_24H)} points) at the measured points/s; "at line rate" is`);
  o.push('the same from the upstream bytes per point alone, were the line busy all the time. "Reply wait" is the longest round trip of a small');
  o.push('laptop → device request sent every 15 s during the transfer: how long anything else waited behind the backlog on the line.');
  o.push('');
  o.push('| link | configuration | N | complete | first pull after | first point after | all after | **points/s** | B/point (up + down) | vs payload | line busy (up) | **24 h upload (extrapolated)** | 24 h at line rate | reply wait (max) | bridge queue (max) | leaf sessions | consumers created |');
  o.push('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of rows) {
    const c = p.catchUp;
    if (!c) continue;
    const waits = c.rtts.map(([, w]) => w);
    const maxWait = waits.length ? (waits.some((w) => w === null) ? 'no answer' : `${fmt(Math.max(...(waits as number[])), 1)} s`) : '-';
    const n = c.points === c.written ? fmt(c.points) : `${fmt(c.points)} (${fmt(c.written)} + ${fmt(c.points - c.written)} left from live)`;
    o.push(
      `| ${kbit(p.rateBps)} | ${p.label} | ${n} | ${c.complete ? 'yes' : `**no**, ${fmt(c.missing)} missing`} | ${c.pullStartSec === null ? '-' : `${fmt(c.pullStartSec, 1)} s`} | ${c.firstSec === null ? '-' : `${fmt(c.firstSec, 1)} s`} | ${fmt(c.totalSec, 1)} s | **${fmt(c.pointsPerSec, 1)}** | ${fmt(c.bytesPerPoint)} | ${fmt(c.bytesPerPoint / payload, 1)}x | ${pct(c.upUtilization)} | **${hours(c.hours24h)}** | ${hours(c.hours24hAtLineRate)} | ${maxWait} | ${fmt(c.maxQueuedBytes / 1024, 1)} KiB | ${c.sessions} | ${c.consumersCreated} |`,
    );
  }
  o.push('');
  o.push('Progress (seconds after the cable came back: points on the laptop) and reply waits (sent at: waited):');
  o.push('');
  for (const p of rows) {
    const c = p.catchUp;
    if (!c) continue;
    o.push(`- ${kbit(p.rateBps)} ${p.label}: ${c.progress.map(([t, n]) => `${t} s: ${fmt(n)}`).join(', ')}${c.complete ? `; all ${fmt(c.points)} at ${fmt(c.totalSec, 1)} s` : ''}`);
    if (c.rtts.length) o.push(`  - reply waits: ${c.rtts.map(([t, w]) => `${t} s: ${w === null ? 'none' : `${fmt(w, 1)} s`}`).join(', ')}`);
  }
  o.push('');
  const realTrouble = (c: CatchUpResult | undefined) => (c?.replicaTrouble ?? []).filter((x) => !/jetstream is not enabled/.test(x));
  const trouble = rows.filter((p) => p.errors.length || (p.catchUp && !p.catchUp.complete) || realTrouble(p.catchUp).length || (p.catchUp?.consumersCreated ?? 0) > 1);
  const clean = rows.filter((p) => p.catchUp && !trouble.includes(p));
  if (clean.length) {
    const ex = clean[0] as PairResult;
    o.push(`The other catch-ups ran one replicator round each. A typical reconnect (${kbit(ex.rateBps)} ${ex.label}):`);
    o.push('');
    o.push('```');
    for (const l of (ex.catchUp?.timeline ?? []).filter((x) => !/Error trying to connect as leafnode to remote server "127\.0\.0\.1:1"/.test(x)).slice(0, 20)) o.push(l.slice(0, 240));
    o.push('```');
    o.push('');
  }
  if (trouble.length) {
    o.push('Errors, and the timelines of catch-ups that had trouble (more than one replicator round, a stall, an error): replica states');
    o.push('and reachability as the laptop\'s sync saw them, consumers created and deleted on the device, server log lines of interest.');
    o.push('');
    for (const p of trouble) {
      for (const e of p.errors) o.push(`- ${kbit(p.rateBps)} ${p.label}: ${e}`);
      const tl = (p.catchUp?.timeline ?? []).filter((l) => !/Error trying to connect as leafnode to remote server "127\.0\.0\.1:1"/.test(l));
      if (tl.length) {
        o.push(`- ${kbit(p.rateBps)} ${p.label}:`);
        o.push('');
        o.push('  ```');
        for (const l of tl.slice(0, 40)) o.push(`  ${l.slice(0, 240)}`);
        o.push('  ```');
        o.push('');
      }
    }
    o.push('');
  }
  for (const n of r.notes) o.push(`- ${n}`);
  if (r.notes.length) o.push('');

  const taps = Object.entries(r.tap);
  if (taps.length) {
    o.push('## What crosses the link (plain configuration)');
    o.push('');
    o.push('Leaf protocol by kind, read on the TCP side of the device bridge (before its framing); "up" is device → laptop. Kinds under');
    o.push('100 B in a phase are left out, except when idle.');
    o.push('');
    for (const [link, ts] of taps) {
      o.push(`${link}:`);
      o.push('');
      o.push('| phase | direction | kind | count | bytes | B each | example |');
      o.push('| --- | --- | --- | ---: | ---: | ---: | --- |');
      for (const t of ts) {
        if (t.bytes < 100 && t.phase !== 'idle') continue;
        o.push(`| ${t.phase} | ${t.direction} | ${t.kind} | ${fmt(t.count)} | ${fmt(t.bytes)} | ${fmt(t.bytes / t.count)} | \`${t.sample.slice(0, 140).replace(/`/g, "'").replace(/\|/g, '\\|')}${t.sample.length > 140 ? '…' : ''}\` |`);
      }
      o.push('');
    }
  }
  o.push(`The device keeps ${fmt(r.maxMsgsPerSubject)} messages per subject by default (${fmt(r.maxMsgsPerSubject / 3600, 1)} h of one input at 1 Hz).`);
  o.push('');
  o.push(DISCUSSION_START);
  o.push(discussion.trim() ? discussion.trim() : '## Discussion\n\n(to be written from the numbers above)');
  o.push(DISCUSSION_END);
  o.push('');
  return o.join('\n');
}

/** The hand-written discussion of an existing report, so a new run keeps it. */
export function keptDiscussion(path: string): string {
  if (!existsSync(path)) return '';
  const t = readFileSync(path, 'utf8');
  const a = t.indexOf(DISCUSSION_START);
  const b = t.indexOf(DISCUSSION_END);
  return a >= 0 && b > a ? t.slice(a + DISCUSSION_START.length, b) : '';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  // --configs plain,bridge and --rates 20000 narrow a run (for trying things out; the report wants all).
  const configs = arg('--configs')?.split(',') as ConfigId[] | undefined;
  const rates = arg('--rates')?.split(',').map(Number);
  // --render results.json: writes the report again from the results a run printed with --json (no measuring).
  const saved = arg('--render');
  const r = saved ? (JSON.parse(readFileSync(saved, 'utf8')) as LinkReportResults) : await runLinkReport({ quick, ...(configs ? { configs } : {}), ...(rates ? { rates } : {}) });
  const out = fileURLToPath(new URL('../../docs/link-report.md', import.meta.url));
  const md = toMarkdown(r, keptDiscussion(out));
  if (!process.argv.includes('--no-write')) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, md);
    say(`wrote ${out}`);
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(md);
  process.exit(0);
}
