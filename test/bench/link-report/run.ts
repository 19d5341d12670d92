// Link report: a whole run, every pair side by side through every phase.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { findNatsServer } from '../../../app/nats/index.ts';
import { encodePoints, floatPoint } from '../../../app/siot/index.ts';
import { DEFAULT_MAX_MSGS_PER_SUBJECT } from '../../../app/store/index.ts';
import { requireSocat } from '../../helpers/pty.ts';
import { say, setSay } from './log.ts';
import { cutCable, measureCatchUp, measureIdle, measureLive, settled, waitSynced, writeBacklog } from './measure.ts';
import { leafz, startPair, stopPair, tag, type Pair } from './pair.ts';
import { CONFIGS, kbit, LATENCY_MS, type LinkReportOptions, type LinkReportResults } from './types.ts';

export async function runLinkReport(opts: LinkReportOptions = {}): Promise<LinkReportResults> {
  if (opts.log) setSay(opts.log);
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
