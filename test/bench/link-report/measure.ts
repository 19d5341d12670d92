// Link report: the phases measured on a pair (idle, live, cable pulled,
// backlog written, catch-up) and the waits they share.
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceSim, sample, signalFor } from '../../../app/sim/index.ts';
import { floatPoint } from '../../../app/siot/index.ts';
import { killProcess, ptyPair } from '../../helpers/pty.ts';
import { say } from './log.ts';
import { deviceLast, diff, laptopLast, replica, snap, tag, withTimeout, type Pair } from './pair.ts';
import { NODES, POINTS_24H, type Bytes, type CatchUpResult, type IdleResult, type LiveResult } from './types.ts';

/**
 * Round trip of one small request from the laptop to the device's
 * JetStream (account info, ~100 B down, ~500 B up) over the link: its
 * answer queues behind whatever the device is sending, so during a
 * catch-up it shows how long anything else waits on the line.
 */
function rttProbe(p: Pair, out: Array<[number, number | null]>, t0: number): Promise<void> {
  const sent = Date.now();
  return p.lap.peersNc.request(`$JS.siot_${p.dev.id}.API.INFO`, new Uint8Array(0), { timeout: 300_000 }).then(
    () => void out.push([Math.round((sent - t0) / 1000), (Date.now() - sent) / 1000]),
    () => void out.push([Math.round((sent - t0) / 1000), null]),
  );
}

/** Polls until the replica holds the device's last message; returns ms taken, or null after `timeoutMs`. */
export async function waitSynced(p: Pair, timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const last = await deviceLast(p).catch(() => -1);
    if (last > 0 && (await laptopLast(p)) >= last) return Date.now() - t0;
    await sleep(100);
  }
  return null;
}

export async function settled<T>(pairs: Pair[], what: string, fn: (p: Pair) => Promise<T>): Promise<Array<T | undefined>> {
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

export async function measureIdle(p: Pair, windowMs: number): Promise<IdleResult> {
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

export async function measureLive(p: Pair, windowMs: number, drainTimeoutMs: number): Promise<LiveResult> {
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

export async function cutCable(p: Pair): Promise<void> {
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
export async function writeBacklog(p: Pair, n: number): Promise<void> {
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

export async function measureCatchUp(p: Pair, written: number, timeoutMs: number): Promise<CatchUpResult> {
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
