// Sync over slow links: our pull replicator (app/sync) against nats-server's
// own cross-domain JetStream sourcing, on real device/laptop instances whose
// leaf link runs through a throttled proxy (loopback, 100 kbit/s, 20 kbit/s).
//
//   cd /work/main && npx tsx test/bench/sync-links.ts [--quick] [--breakdown] [--json]
//       [--compression off|s2_fast|…] [--latency-ms N] [--idle-s N]
//       [--mechanisms pull,pull-b50,pull-tuned,pull-quiet,pull-cellular,source]
//
// Default mechanisms: pull (the product's defaults), pull-b50 (a 50-message
// pull window) and source (JetStream sourcing); see PULL_OPTIONS.
//
// Without --compression the leaf runs nats-server's default (s2_auto: it
// compresses only when it measures a round trip above 10 ms, so whether a
// slow link is compressed depends on when it measured).
//
// Measures, per link rate and mechanism:
//   a. idle link bytes per minute (both directions) once the initial sync
//      has settled;
//   b. catch-up of N points written on the device while the link was cut:
//      time from the link's return to the last point stored on the laptop,
//      first point's arrival, bytes on the link per point;
//   c. at 20 kbit/s, a silent outage (blackhole 25 s, then restore) during a
//      catch-up: total time and bytes ("drop": the proxy discards bytes, as
//      specified; "stall": it holds them, as TCP over a dead radio would).
// Every catch-up is verified: the laptop's copy holds exactly the device's
// messages, in origin order, none twice.
//
// Link-bound runs of different mechanisms share the machine (each on its own
// link and its own pair of servers): at these rates the CPU is idle, and
// running them side by side keeps the whole run within ~15 minutes.
// Loopback catch-ups, which are CPU-bound, run one at a time.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Instance } from '../../app/instance/index.ts';
import { floatPoint } from '../../app/siot/index.ts';
import { ORIGIN_SEQ_HEADER } from '../../app/store/index.ts';
import { CELLULAR_SYNC, type ReplicaState, type SyncOptions } from '../../app/sync/index.ts';
import { removeDir, tempDir } from '../helpers/server.ts';
import { ThrottledProxy, type BlackholeMode, type Direction, type ThrottledProxyOptions } from './throttled-proxy.ts';

export type Mechanism = 'pull' | 'pull-b50' | 'pull-tuned' | 'pull-quiet' | 'pull-cellular' | 'source';
export const MECHANISMS: Mechanism[] = ['pull', 'pull-b50', 'pull-tuned', 'pull-quiet', 'pull-cellular', 'source'];

export interface LinkSpec {
  label: string;
  /** bits/s; 0 = no cap */
  rateBps: number;
}

export interface IdleResult {
  mechanism: Mechanism;
  link: string;
  windowSec: number;
  upPerMin: number;
  downPerMin: number;
  totalPerMin: number;
}

export interface CatchUpResult {
  mechanism: Mechanism;
  link: string;
  scenario: 'cut' | 'blackhole-drop' | 'blackhole-stall';
  points: number;
  complete: boolean;
  /** Restore of the link to the first new message stored on the laptop. */
  firstMs: number | null;
  /** Restore of the link to the last message stored on the laptop (or the
   * time given up after). */
  totalMs: number;
  bytesUp: number;
  bytesDown: number;
  bytesPerPoint: number;
  /** Messages still missing when given up (0 when complete; negative when
   * the copy holds more than the origin). */
  missing: number;
  /** Leaf connections the proxy accepted during the run (1 = no reconnect). */
  leafConnections: number;
  /** Consumers created on the device's stream during the run (a new one
   * per replicator round or per sourcing restart). */
  consumersCreated: number;
  /** Messages the laptop still lacked from earlier runs when this one
   * started (an earlier run that did not finish); they cross too. Negative
   * when the copy holds more messages than the origin (duplicates). */
  backlogBefore: number;
  /** Pull replicator: distinct reasons its rounds ended (status events are
   * coalesced, so this is not a count). */
  failureReasons: string[];
  /** Laptop/device server log lines of interest (sourcing, slow consumer). */
  serverLog: string[];
  verified: Verified;
  /** With compression off: what the bytes on the link carried, largest first. */
  byKind?: Array<{ direction: Direction; what: string; n: number; bytes: number }>;
}

export interface Verified {
  /** The laptop's copy is exactly the device's log. */
  ok: boolean;
  /** Origin sequences strictly rising: nothing twice, nothing reordered
   * (holds for an unfinished copy too). */
  ordered: boolean;
  messages: number;
  deviceMessages: number;
  lastOrigin: number;
  deviceLast: number;
  detail: string;
}

export interface SyncLinksResults {
  quick: boolean;
  startedAt: string;
  durationSec: number;
  serverVersion: string;
  /** Leaf compression asked for on the laptop's remote. */
  compression: string;
  /** Commit of the measured code, and whether app/ differed from it. */
  appVersion: string;
  cores: number;
  idle: IdleResult[];
  catchUp: CatchUpResult[];
  breakdown: BreakdownRow[];
  notes: string[];
}

const STREAM = 'inst_dev_dev';
const INITIAL_POINTS = 100;
const OUTAGE_MS = 25_000;

/** Sync options of the pull variants, all existing knobs of app/sync:
 * - `pull`: the product's defaults (SyncOptions in app/sync/sync.ts: pull
 *   batch 1,000, 4,000 appends in flight, pull expiry 30 s, heartbeat 5 s);
 * - `pull-b50`: only the pull window made small (50 messages, 200 in flight);
 * - `pull-tuned`: the small window, and hellos and replicator updates every
 *   30 s. Up to commit a85acc3 the defaults were 5 s and 2 s and every
 *   update listed the peer's streams over the link; since aa6b1aa updates
 *   are local and hellos default to 30 s, so this equals `pull-b50` there;
 * - `pull-quiet`: the small window, and hellos and updates every 10 min:
 *   after the first discovery the control plane stays off the link, so this
 *   is what the replicator alone does (not a setting to ship: peers and new
 *   streams would be noticed late);
 * - `pull-cellular`: app/sync's CELLULAR_SYNC (longer heartbeats, pull
 *   expiry and hello interval), what an instance on a metered link uses. */
export const PULL_OPTIONS: Record<Exclude<Mechanism, 'source'>, SyncOptions> = {
  pull: {},
  'pull-b50': { batch: 50, maxInFlight: 200 },
  'pull-tuned': { batch: 50, maxInFlight: 200, scanIntervalMs: 30_000, helloIntervalMs: 30_000 },
  'pull-quiet': { batch: 50, maxInFlight: 200, scanIntervalMs: 600_000, helloIntervalMs: 600_000 },
  'pull-cellular': CELLULAR_SYNC,
};

export interface Pair {
  mechanism: Mechanism;
  link: LinkSpec;
  proxy: ThrottledProxy;
  dev: Instance;
  lap: Instance;
  devJsm: JetStreamManager;
  lapJsm: JetStreamManager;
  dirs: string[];
  node: string;
  written: number;
  /** Replica states seen (pull), with reasons. */
  states: Array<{ at: number; state: ReplicaState; error?: string }>;
  log: Array<{ at: number; who: string; line: string }>;
  /** Reads the leaf protocol when it is not compressed. */
  tap?: LeafTap;
}

let say: (s: string) => void = (s) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export async function startPair(
  mechanism: Mechanism,
  link: LinkSpec,
  extra: { proxy?: ThrottledProxyOptions; compression?: string; sync?: SyncOptions } = {},
): Promise<Pair> {
  // With compression off the protocol can be read: classify every byte.
  const tap = extra.compression === 'off' && !extra.proxy?.tap ? new LeafTap() : undefined;
  const proxy = new ThrottledProxy({ rateBps: link.rateBps, ...(tap ? { tap: (d: Direction, b: Buffer) => tap.feed(d, b) } : {}), ...extra.proxy });
  await proxy.start();
  const tag = `${mechanism}-${link.rateBps}`;
  const dirs = [tempDir(`links-dev-${tag}`), tempDir(`links-lap-${tag}`)];
  const pull = mechanism === 'source' ? undefined : { ...PULL_OPTIONS[mechanism], ...extra.sync };
  let dev: Instance | undefined;
  try {
    dev = await Instance.start({
      dataDir: dirs[0] as string,
      instanceId: 'dev',
      leafPort: -1,
      leafAdvertise: proxy.address,
      sync: pull ? { ...pull, role: 'device', want: 'own' } : false,
    });
    proxy.target(dev.server.ports.leaf as number);
    const node = await dev.store.createNode('dev', 'modbusIO');
    await writeMany(dev, node, 0, INITIAL_POINTS);
    const lap = await Instance.start({
      dataDir: dirs[1] as string,
      instanceId: 'lap',
      peers: [{ url: proxy.url, credentials: dev.credentials.leaf, ...(extra.compression ? { compression: extra.compression } : {}) }],
      sync: pull ? { ...pull, role: 'laptop', want: 'all' } : false,
    });
    const pair: Pair = {
      mechanism,
      link,
      proxy,
      dev,
      lap,
      devJsm: await jetstreamManager(dev.nc),
      lapJsm: await jetstreamManager(lap.nc),
      dirs,
      node,
      written: INITIAL_POINTS,
      states: [],
      log: [],
      ...(tap ? { tap } : {}),
    };
    lap.sync?.on('status', (s) => {
      const r = s.replicas.find((x) => x.stream === STREAM);
      if (!r) return;
      const last = pair.states[pair.states.length - 1];
      if (last?.state !== r.state || last.error !== r.lastError) pair.states.push({ at: Date.now(), state: r.state, ...(r.lastError ? { error: r.lastError } : {}) });
    });
    const keep = /source|stall|slow consumer|consumer|leafnode|write deadline|error|warn/i;
    for (const [who, inst] of [
      ['lap', lap],
      ['dev', dev],
    ] as const) {
      inst.server.on('log', (line) => {
        if (keep.test(line)) pair.log.push({ at: Date.now(), who, line: line.replace(/^\[\d+\]\s+\S+\s+\S+\s+/, '') });
        if (pair.log.length > 5_000) pair.log.splice(0, 1_000);
      });
    }
    if (mechanism === 'source') {
      // What sync-spike.md found to work: a stream on the laptop sourcing
      // the device's stream through the device's JetStream domain.
      await pair.lapJsm.streams.add({
        name: STREAM,
        sources: [{ name: STREAM, external: { api: '$JS.siot_dev.API', deliver: '' } }],
      });
    }
    return pair;
  } catch (e) {
    await dev?.stop().catch(() => undefined);
    await proxy.close();
    for (const d of dirs) removeDir(d);
    throw e;
  }
}

export async function stopPair(p: Pair): Promise<void> {
  p.proxy.restore();
  for (const inst of [p.lap, p.dev]) {
    await withTimeout(inst.stop(), 30_000, `stopping ${inst.id}`).catch(async () => {
      await inst.server.stop(2_000).catch(() => undefined);
    });
  }
  await p.proxy.close();
  for (const d of p.dirs) removeDir(d);
}

/** Writes points [from, from+n) on the device, 64 in flight. */
export async function writeMany(dev: Instance, node: string, from: number, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const k = from + next++;
        await dev.store.writeNodePoints(node, [floatPoint('value', k, { key: String(k % 7) })]);
      }
    }),
  );
}

/** Origin sequence of a laptop message: `Siot-Seq` (ours) or the sequence
 * in `Nats-Stream-Source` (sourcing, which renumbers). */
function originOf(mechanism: Mechanism, h: { get(k: string): string } | undefined, seq: number): number {
  if (mechanism === 'source') {
    const src = h?.get('Nats-Stream-Source') ?? '';
    const n = Number(src.trim().split(/\s+/)[1]);
    return Number.isSafeInteger(n) && n > 0 ? n : -1;
  }
  const v = Number(h?.get(ORIGIN_SEQ_HEADER) ?? '');
  return Number.isSafeInteger(v) && v > 0 ? v : seq;
}

async function deviceState(p: Pair): Promise<{ messages: number; last: number }> {
  const si = await p.devJsm.streams.info(STREAM);
  return { messages: si.state.messages, last: si.state.last_seq };
}

/** What the laptop holds: message count and the origin seq of its last message. */
async function laptopState(p: Pair): Promise<{ messages: number; lastOrigin: number }> {
  const si = await p.lapJsm.streams.info(STREAM).catch(() => null);
  if (!si || si.state.messages === 0) return { messages: 0, lastOrigin: 0 };
  const m = await p.lapJsm.streams.getMessage(STREAM, { seq: si.state.last_seq }).catch(() => null);
  return { messages: si.state.messages, lastOrigin: m ? originOf(p.mechanism, m.header, m.seq) : 0 };
}

export async function inSync(p: Pair): Promise<boolean> {
  const [d, l] = await Promise.all([deviceState(p), laptopState(p)]);
  return l.messages === d.messages && l.lastOrigin === d.last;
}

export async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return true;
    if (Date.now() > until) return false;
    await sleep(stepMs);
  }
}

/** Reads the laptop's whole copy and checks it is exactly the device's log:
 * origin sequences strictly rising, as many messages as the device holds,
 * ending at the device's last sequence. */
async function verify(p: Pair): Promise<Verified> {
  const d = await deviceState(p);
  const si = await p.lapJsm.streams.info(STREAM);
  let count = 0;
  let prev = 0;
  let bad = '';
  if (si.state.messages > 0) {
    const c = await jetstream(p.lap.nc).consumers.get(STREAM);
    const it = await c.consume({ max_messages: 5_000 });
    const until = Date.now() + 60_000;
    for await (const m of it) {
      const o = originOf(p.mechanism, m.headers, m.seq);
      if (!bad && o <= prev) bad = `origin seq ${o} after ${prev} at laptop seq ${m.seq}`;
      prev = o;
      count++;
      if (m.info.pending === 0 || Date.now() > until) break;
    }
    await c.delete().catch(() => undefined);
  }
  const ok = !bad && count === d.messages && count === si.state.messages && prev === d.last;
  return {
    ok,
    ordered: !bad,
    messages: count,
    deviceMessages: d.messages,
    lastOrigin: prev,
    deviceLast: d.last,
    detail: bad || (ok ? 'same messages, in order, once each' : `laptop holds ${count}, device ${d.messages}; last origin seq ${prev} vs ${d.last}`),
  };
}

/** Counts consumers created on the device's stream (JetStream advisories;
 * sourcing's consumers are not listed by the consumer API): a new one per
 * replicator round, or per sourcing (re)start. */
function trackConsumers(p: Pair): { stop: () => number } {
  let created = 0;
  const sub = p.dev.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${STREAM}.>`, {
    callback: (_e, m) => {
      // Advisories cross the leaf: count only the device's own consumers.
      try {
        if ((JSON.parse(m.string()) as { domain?: string }).domain === 'siot_dev') created++;
      } catch {
        // not an advisory we know
      }
    },
  });
  return {
    stop: () => {
      sub.unsubscribe();
      return created;
    },
  };
}

async function waitLinkDown(p: Pair): Promise<void> {
  // The laptop's server sees the leaf gone at once (the proxy closes it);
  // the pull replicator notices on its next scan.
  await waitUntil(async () => {
    const res = await fetch(`http://127.0.0.1:${p.lap.server.ports.monitor}/leafz`, { signal: AbortSignal.timeout(2_000) });
    const j = (await res.json()) as { leafnodes?: number };
    return (j.leafnodes ?? 0) === 0;
  }, 10_000);
  if (p.mechanism !== 'source') {
    await waitUntil(async () => {
      const r = p.lap.sync?.status().replicas.find((x) => x.stream === STREAM);
      return r?.state === 'offline' || r?.state === 'error';
    }, 20_000);
  }
  await sleep(1_000);
}

/**
 * Cuts the link, writes `n` points on the device, restores the link and
 * measures until the laptop holds everything (or `timeoutMs` passes). With
 * `outage`, blackholes the link for 25 s once a quarter of the points have
 * arrived or `outageAfterBytes` have crossed towards the laptop, whichever
 * comes first (sourcing may store a window only once it is all there).
 */
export async function catchUp(p: Pair, n: number, timeoutMs: number, outage?: BlackholeMode, outageAfterBytes = Infinity): Promise<CatchUpResult> {
  const scenario: CatchUpResult['scenario'] = outage ? `blackhole-${outage}` : 'cut';
  const tag = `${p.mechanism} @ ${p.link.label} ${scenario}`;
  if (!(await waitUntil(() => inSync(p), 60_000, 250))) say(`${tag}: not in sync before the run; measuring anyway (backlog counted)`);
  p.proxy.cut();
  await waitLinkDown(p);
  const backlog = await Promise.all([deviceState(p), laptopState(p)]);
  await writeMany(p.dev, p.node, p.written, n);
  p.written += n;
  const target = await deviceState(p);
  const before = await laptopState(p);
  const states0 = p.states.length;
  const log0 = p.log.length;
  const conns0 = p.proxy.connections;
  const consumers = trackConsumers(p);
  await p.dev.nc.flush();
  const b0 = p.proxy.counters();
  const kinds0 = new Map([...(p.tap?.bytes ?? [])].map(([k, v]) => [k, { ...v }]));
  const t0 = Date.now();
  p.proxy.restore();
  say(`${tag}: ${n} points to move (laptop ${before.messages}, device ${target.messages})`);

  let firstMs: number | null = null;
  let outageDone = !outage;
  let complete = false;
  let lastReport = Date.now();
  let lastHeld = before.messages;
  while (Date.now() - t0 < timeoutMs) {
    const l = await laptopState(p).catch(() => before);
    lastHeld = l.messages;
    if (firstMs === null && l.messages > before.messages) firstMs = Date.now() - t0;
    if (l.messages === target.messages && l.lastOrigin === target.last) {
      complete = true;
      break;
    }
    if (!outageDone && (l.messages - before.messages >= n / 4 || p.proxy.bytesDown - b0.down >= outageAfterBytes)) {
      outageDone = true;
      say(`${tag}: blackhole (${outage}) for ${OUTAGE_MS / 1000} s at ${l.messages - before.messages}/${n}`);
      p.proxy.blackhole(outage);
      await sleep(OUTAGE_MS);
      const reset = p.proxy.restore();
      say(`${tag}: link back${reset ? ` (${reset} connection(s) that lived through the drop reset)` : ''}`);
    }
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      say(`${tag}: ${l.messages - before.messages}/${n} after ${((Date.now() - t0) / 1000).toFixed(0)} s, ${p.proxy.bytesTotal - b0.total} bytes`);
    }
    await sleep(100);
  }
  const totalMs = Date.now() - t0;
  const b1 = p.proxy.counters();
  const consumersCreated = consumers.stop();
  const failures = p.states.slice(states0).filter((s) => s.state === 'offline' || s.state === 'error');
  const backlogBefore = backlog[0].messages - backlog[1].messages;
  const bytesUp = b1.up - b0.up;
  const bytesDown = b1.down - b0.down;
  const verified = await verify(p);
  const res: CatchUpResult = {
    mechanism: p.mechanism,
    link: p.link.label,
    scenario,
    points: n,
    complete,
    firstMs,
    totalMs,
    bytesUp,
    bytesDown,
    // A copy holding more than its origin (duplicates) has no backlog.
    bytesPerPoint: Math.round((bytesUp + bytesDown) / (n + Math.max(0, backlogBefore))),
    missing: complete ? 0 : target.messages - lastHeld,
    leafConnections: p.proxy.connections - conns0,
    consumersCreated,
    backlogBefore,
    failureReasons: [...new Set(failures.map((f) => (f.error ?? f.state).replace(/\d+ ms/, 'N ms').replace(/_INBOX\.\S+/, '_INBOX')))].slice(0, 6),
    serverLog: p.log.slice(log0).map((l) => `+${((l.at - t0) / 1000).toFixed(1)}s ${l.who}: ${l.line}`).slice(0, 40),
    verified,
  };
  if (p.tap) {
    res.byKind = [...p.tap.bytes]
      .map(([k, v]) => {
        const [dir, ...what] = k.split(' ');
        const before = kinds0.get(k) ?? { n: 0, bytes: 0 };
        return { direction: dir as Direction, what: what.join(' '), n: v.n - before.n, bytes: v.bytes - before.bytes };
      })
      .filter((x) => x.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 12);
  }
  say(
    `${tag}: ${complete ? 'complete' : `INCOMPLETE (${res.missing} missing)`} in ${(totalMs / 1000).toFixed(1)} s, ` +
      `${bytesUp + bytesDown} bytes (${res.bytesPerPoint} B/point), verified: ${verified.detail}`,
  );
  // Each result as it comes, so a run cut short still leaves its numbers.
  say(`RESULT ${JSON.stringify({ ...res, serverLog: undefined })}`);
  return res;
}

async function idle(pairs: Pair[], windowMs: number): Promise<IdleResult[]> {
  const b0 = pairs.map((p) => p.proxy.counters());
  await sleep(windowMs);
  return pairs.map((p, i) => {
    const b1 = p.proxy.counters();
    const scale = 60_000 / windowMs;
    const up = Math.round((b1.up - (b0[i]?.up ?? 0)) * scale);
    const down = Math.round((b1.down - (b0[i]?.down ?? 0)) * scale);
    return { mechanism: p.mechanism, link: p.link.label, windowSec: windowMs / 1000, upPerMin: up, downPerMin: down, totalPerMin: up + down };
  });
}

/** Classifies the bytes of an uncompressed leaf connection by what they
 * carry (NATS leaf protocol: `LMSG subject [reply] size`, `LS+`, `PING`…),
 * for the idle breakdown. */
export class LeafTap {
  private readonly pending: Record<Direction, Buffer> = { up: Buffer.alloc(0), down: Buffer.alloc(0) };
  private readonly replyKind = new Map<string, string>();
  readonly bytes = new Map<string, { n: number; bytes: number }>();

  feed(dir: Direction, data: Buffer): void {
    let b = this.pending[dir].length ? Buffer.concat([this.pending[dir], data]) : data;
    for (;;) {
      const nl = b.indexOf('\r\n');
      if (nl < 0) break;
      const t = b.subarray(0, nl).toString('latin1').split(' ');
      const op = (t[0] ?? '').toUpperCase();
      // A line cut short by a dropped connection runs into the next one's
      // data: a message line whose size is not a sane number is counted as
      // unparsed and skipped, so the parser never waits forever.
      const size = Number(t[t.length - 1]);
      const isMsg = /^(H?LMSG|H?RMSG|H?MSG)$/.test(op) && Number.isSafeInteger(size) && size >= 0 && size <= 8 * 1024 * 1024;
      const total = nl + 2 + (isMsg ? size + 2 : 0);
      if (b.length < total) break;
      let key = `${dir} ${/^(INFO|CONNECT|PING|PONG|LS\+|LS-|LDS\+|-ERR|\+OK)$/.test(op) ? op : 'unparsed'}`;
      if (isMsg) {
        const subject = t[1] ?? '';
        const middle = t.slice(2, t.length - (op.startsWith('H') ? 2 : 1));
        const reply = middle[0] === '+' ? middle[1] : middle[0] !== '|' ? middle[0] : undefined;
        key = `${dir} ${this.kind(subject, reply)}`;
      }
      const e = this.bytes.get(key) ?? { n: 0, bytes: 0 };
      e.n++;
      e.bytes += total;
      this.bytes.set(key, e);
      b = b.subarray(total);
    }
    // No line end in 1 MiB: not the protocol we know; start afresh.
    this.pending[dir] = b.length > 1024 * 1024 ? Buffer.alloc(0) : Buffer.from(b);
  }

  private kind(subject: string, reply: string | undefined): string {
    const api = /^\$JS\.[^.]+\.API\.(.*)$/.exec(subject);
    if (api) {
      const parts = (api[1] ?? '').split('.');
      const what = parts[0] === 'CONSUMER' && parts[1] === 'MSG' ? 'CONSUMER.MSG.NEXT (pull request)' : parts[0] === 'INFO' ? 'INFO (account info)' : parts.slice(0, 2).join('.');
      if (reply) this.replyKind.set(reply, parts[1] === 'MSG' && parts[0] === 'CONSUMER' ? 'pull deliveries, heartbeats, 408s' : `reply to ${what}`);
      return `request ${what}`;
    }
    if (subject.startsWith('$JS.S.')) return 'source deliveries, heartbeats ($JS.S.*)';
    if (subject.startsWith('$JS.FC.')) return 'source flow control ($JS.FC.*)';
    if (subject === 'siot.sync.hello') {
      if (reply) this.replyKind.set(reply, 'hello answer');
      return 'hello';
    }
    return this.replyKind.get(subject) ?? (subject.startsWith('_INBOX.') ? 'pull inbox: delivery or heartbeat' : subject.split('.').slice(0, 2).join('.'));
  }

  reset(): void {
    this.bytes.clear();
  }
}

export interface BreakdownRow {
  mechanism: Mechanism;
  direction: Direction;
  what: string;
  perMin: number;
  bytesPerMin: number;
}

/** Idle bytes by kind, on loopback with leaf compression off (so the
 * protocol can be read), for `pull` and `source`. */
export async function idleBreakdown(windowMs: number): Promise<BreakdownRow[]> {
  const rows: BreakdownRow[] = [];
  const mechs: Mechanism[] = ['pull', 'source'];
  const taps = mechs.map(() => new LeafTap());
  const pairs: Pair[] = [];
  try {
    pairs.push(
      ...(await Promise.all(
        mechs.map((m, i) => startPair(m, { label: 'loopback', rateBps: 0 }, { compression: 'off', proxy: { tap: (d, b) => (taps[i] as LeafTap).feed(d, b) } })),
      )),
    );
    await Promise.all(pairs.map((p) => waitUntil(() => inSync(p), 60_000, 250)));
    await sleep(35_000); // past the pull expiry, as for the idle window
    for (const t of taps) t.reset();
    await sleep(windowMs);
    mechs.forEach((m, i) => {
      for (const [key, v] of (taps[i] as LeafTap).bytes) {
        const [dir, ...what] = key.split(' ');
        rows.push({ mechanism: m, direction: dir as Direction, what: what.join(' '), perMin: Math.round((v.n * 60_000) / windowMs), bytesPerMin: Math.round((v.bytes * 60_000) / windowMs) });
      }
    });
  } finally {
    await Promise.allSettled(pairs.map(stopPair));
  }
  return rows.sort((a, b) => a.mechanism.localeCompare(b.mechanism) || b.bytesPerMin - a.bytesPerMin);
}

export async function runSyncLinks(
  opts: { quick?: boolean; breakdown?: boolean; compression?: string; latencyMs?: number; idleSec?: number; mechanisms?: Mechanism[]; log?: (s: string) => void } = {},
): Promise<SyncLinksResults> {
  if (opts.log) say = opts.log;
  const extra = { ...(opts.compression ? { compression: opts.compression } : {}), ...(opts.latencyMs ? { proxy: { latencyMs: opts.latencyMs } } : {}) };
  const quick = opts.quick ?? false;
  const t0 = Date.now();
  const div = quick ? 10 : 1;
  const links: Array<LinkSpec & { n: number }> = [
    { label: 'loopback', rateBps: 0, n: 20_000 / div },
    { label: '100 kbit/s', rateBps: 100_000, n: 5_000 / div },
    { label: '20 kbit/s', rateBps: 20_000, n: 2_000 / div },
  ];
  const idleWindowMs = opts.idleSec ? opts.idleSec * 1_000 : quick ? 15_000 : 60_000;
  const notes: string[] = [];
  if (opts.latencyMs) notes.push(`every link, loopback included, adds ${opts.latencyMs} ms one-way latency (${2 * opts.latencyMs} ms round trip)`);
  const pairs: Pair[] = [];
  const results: SyncLinksResults = {
    quick,
    startedAt: new Date(t0).toISOString(),
    durationSec: 0,
    serverVersion: '',
    compression: opts.compression ?? 'default (s2_auto)',
    appVersion: appVersion(),
    cores: cpus().length,
    idle: [],
    catchUp: [],
    breakdown: [],
    notes,
  };
  const onSignal = () => {
    say('interrupted: cleaning up');
    void Promise.allSettled(pairs.map(stopPair)).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  const chosen = opts.mechanisms ?? ['pull', 'pull-b50', 'source'];
  const mechsAt = (_rate: number): Mechanism[] => chosen;
  // Budget per catch-up: twice what the N points take at ~150 B/point
  // (sourcing's uncompressed cost in sync-spike.md), at least a minute.
  const budgetMs = (n: number, rate: number) => (rate === 0 ? 60_000 : Math.max(60_000, Math.round((2 * n * 150 * 8 * 1000) / rate)));
  const stopAll = async (ps: Pair[]) => {
    await Promise.allSettled(ps.map(stopPair));
    for (const p of ps) pairs.splice(pairs.indexOf(p), 1);
  };
  try {
    // One device/laptop pair per (link, mechanism), and a second set at
    // 20 kbit/s ("b") that repeats the cut catch-up and takes the "stall"
    // outage while the first set takes the "drop" one.
    const specs: Array<{ m: Mechanism; l: LinkSpec; set: 'a' | 'b' }> = [];
    for (const l of links) for (const m of mechsAt(l.rateBps)) specs.push({ m, l: { label: l.label, rateBps: l.rateBps }, set: 'a' });
    for (const m of mechsAt(20_000)) specs.push({ m, l: { label: '20 kbit/s', rateBps: 20_000 }, set: 'b' });
    say(`starting ${specs.length} device/laptop pairs`);
    const started = await Promise.allSettled(specs.map((sp) => startPair(sp.m, sp.l, extra)));
    for (const r of started) if (r.status === 'fulfilled') pairs.push(r.value);
    const bySpec = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const cutOf = new Map<Pair, CatchUpResult>();
    const pairOf = (m: Mechanism, rate: number, set: 'a' | 'b') => bySpec[specs.findIndex((sp) => sp.m === m && sp.l.rateBps === rate && sp.set === set)] as Pair;
    results.serverVersion = pairs[0]?.dev.server.status.version ?? '';

    // Initial sync of the node and 100 points, then settle.
    const synced = await Promise.all(pairs.map((p) => waitUntil(() => inSync(p), 180_000, 250)));
    pairs.forEach((p, i) => {
      if (!synced[i]) notes.push(`${p.mechanism} @ ${p.link.label}: initial sync did not complete in 180 s`);
    });
    // Settle past the pull expiry (30 s): requests opened during the initial
    // catch-up stay open (and send heartbeats) until they expire.
    say('initial sync done; settling 35 s');
    await sleep(35_000);

    // a. Idle, all pairs at once (nothing else moves on any link).
    say(`idle window ${idleWindowMs / 1000} s`);
    const idleAll = await idle(pairs, idleWindowMs);
    for (const r of idleAll) say(`IDLE ${JSON.stringify(r)}`);
    idleAll.forEach((r, i) => {
      if (specs[i]?.set === 'b') notes.push(`idle, second pair: ${r.mechanism} @ ${r.link}: ${r.totalPerMin} B/min (up ${r.upPerMin}, down ${r.downPerMin})`);
      else results.idle.push(r);
    });

    // b. Catch-up after a cut. Loopback one mechanism at a time (CPU-bound);
    // slow links with the mechanisms side by side (link-bound).
    for (const l of links) {
      const budget = budgetMs(l.n, l.rateBps);
      const group = mechsAt(l.rateBps).map((m) => pairOf(m, l.rateBps, 'a'));
      if (l.rateBps === 0) {
        for (const p of group) results.catchUp.push(await catchUp(p, l.n, budget));
      } else {
        if (l.rateBps === 20_000) group.push(...mechsAt(20_000).map((m) => pairOf(m, 20_000, 'b')));
        const rs = await Promise.all(group.map((p) => catchUp(p, l.n, budget)));
        rs.forEach((r, k) => cutOf.set(group[k] as Pair, r));
        results.catchUp.push(...rs);
      }
      if (l.rateBps !== 20_000) await stopAll(group);
    }

    // c. Silent outage during a catch-up at 20 kbit/s: "drop" on set a,
    // "stall" on set b, all side by side. The outage starts once a quarter
    // of the points arrived or a quarter of the bytes the same pair's cut
    // catch-up needed have crossed.
    {
      const l = links[2] as (typeof links)[number];
      const budget = budgetMs(l.n, l.rateBps) + OUTAGE_MS + 30_000;
      const runs: Array<Promise<CatchUpResult>> = [];
      for (const m of mechsAt(20_000)) {
        for (const [set, mode] of [
          ['a', 'drop'],
          ['b', 'stall'],
        ] as const) {
          const p = pairOf(m, 20_000, set);
          const prior = cutOf.get(p);
          const trigger = prior?.complete ? prior.bytesDown / 4 : (l.n * 40) / 4;
          runs.push(catchUp(p, l.n, budget, mode, trigger));
        }
      }
      results.catchUp.push(...(await Promise.all(runs)));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    say('stopping');
    await stopAll([...pairs]);
  }
  if (opts.breakdown) {
    say('idle breakdown (loopback, leaf compression off)');
    results.breakdown = await idleBreakdown(quick ? 15_000 : 30_000);
  }
  results.durationSec = Math.round((Date.now() - t0) / 1000);
  return results;
}

/** The commit the measured app/ code is at, the last commit that changed
 * app/sync, and any uncommitted change to tracked files of app/ (read-only
 * git queries; others may be editing app/ while this runs). */
function appVersion(): string {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const sync = git('log', '-1', '--format=%h', '--', 'app/sync');
  const dirty = (spawnSync('git', ['status', '--porcelain', '--untracked-files=no', '--', 'app'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => l.slice(3));
  return `${head} (app/sync last changed in ${sync})${dirty.length ? `, uncommitted: ${dirty.join(', ')}` : ''}`;
}

function fmtBytes(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} kB` : `${n} B`;
}

export function toMarkdown(r: SyncLinksResults): string {
  const out: string[] = [];
  out.push(`Run ${r.startedAt}, ${r.durationSec} s, ${r.cores} cores, nats-server ${r.serverVersion}, leaf compression ${r.compression}, app at ${r.appVersion}${r.quick ? ', --quick' : ''}`);
  out.push('');
  out.push('| link | mechanism | idle up B/min | idle down B/min | idle total B/min |');
  out.push('| --- | --- | ---: | ---: | ---: |');
  for (const i of r.idle) out.push(`| ${i.link} | ${i.mechanism} | ${i.upPerMin} | ${i.downPerMin} | ${i.totalPerMin} |`);
  out.push('');
  out.push('| link | mechanism | scenario | points | complete | first msg s | total s | bytes up | bytes down | B/point | leaf conns | consumers created | verified |');
  out.push('| --- | --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const c of r.catchUp) {
    const done = c.complete ? 'yes' : c.missing < 0 ? `**no**, ${-c.missing} more than the origin` : `**no**, ${c.missing} missing`;
    const first = c.firstMs === null ? '-' : (c.firstMs / 1000).toFixed(1);
    const v = c.verified.ok ? 'ok' : c.verified.ordered ? 'in order, no duplicates; incomplete' : `**${c.verified.detail}**`;
    const pts =
      c.backlogBefore > 0 ? `${c.points} + ${c.backlogBefore} backlog` : c.backlogBefore < 0 ? `${c.points} (copy held ${-c.backlogBefore} extra)` : String(c.points);
    out.push(
      `| ${c.link} | ${c.mechanism} | ${c.scenario} | ${pts} | ${done} | ${first} | ${(c.totalMs / 1000).toFixed(1)} | ${fmtBytes(c.bytesUp)} | ${fmtBytes(c.bytesDown)} | ${c.bytesPerPoint} | ${c.leafConnections} | ${c.consumersCreated} | ${v} |`,
    );
  }
  out.push('');
  for (const c of r.catchUp) {
    if (c.failureReasons.length) out.push(`- ${c.mechanism} @ ${c.link} ${c.scenario}: rounds ended with: ${c.failureReasons.join(' | ')}`);
    const slow = c.serverLog.filter((l) => /slow consumer|stall|write deadline/i.test(l));
    if (slow.length) out.push(`- ${c.mechanism} @ ${c.link} ${c.scenario}: server log: ${slow.slice(0, 3).join(' / ')}`);
  }
  const dirName = (d: Direction) => (d === 'up' ? 'laptop→device' : 'device→laptop');
  const kinds = r.catchUp.filter((c) => c.byKind?.length && c.link !== 'loopback');
  if (kinds.length) {
    out.push('');
    out.push('What crossed the link during each catch-up (compression off; largest kinds, bytes and messages):');
    out.push('');
    for (const c of kinds) {
      const top = (c.byKind ?? []).slice(0, 6).map((k) => `${k.what} ${dirName(k.direction)} ${fmtBytes(k.bytes)} (${k.n})`);
      out.push(`- ${c.mechanism} @ ${c.link} ${c.scenario}: ${top.join('; ')}`);
    }
  }
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.breakdown.length) {
    out.push('');
    out.push('Idle bytes by kind (loopback, leaf compression off, per minute):');
    out.push('');
    out.push('| mechanism | direction | what | messages/min | B/min |');
    out.push('| --- | --- | --- | ---: | ---: |');
    for (const b of r.breakdown) if (b.bytesPerMin > 0) out.push(`| ${b.mechanism} | ${b.direction === 'up' ? 'laptop→device' : 'device→laptop'} | ${b.what} | ${b.perMin} | ${b.bytesPerMin} |`);
  }
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const compression = arg('--compression');
  const latencyMs = Number(arg('--latency-ms') ?? 0);
  const idleSec = Number(arg('--idle-s') ?? 0);
  const mechanisms = arg('--mechanisms')?.split(',') as Mechanism[] | undefined;
  const unknown = mechanisms?.filter((m) => !MECHANISMS.includes(m));
  if (unknown?.length) throw new Error(`unknown mechanism(s) ${unknown.join(', ')}; known: ${MECHANISMS.join(', ')}`);
  const r = await runSyncLinks({
    quick: process.argv.includes('--quick'),
    breakdown: process.argv.includes('--breakdown'),
    ...(compression ? { compression } : {}),
    ...(latencyMs > 0 ? { latencyMs } : {}),
    ...(idleSec > 0 ? { idleSec } : {}),
    ...(mechanisms ? { mechanisms } : {}),
  });
  console.log(toMarkdown(r));
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  process.exit(0);
}
