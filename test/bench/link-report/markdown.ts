// Link report: the results as docs/link-report.md, keeping its hand-written discussion.
import { existsSync, readFileSync } from 'node:fs';
import { CONFIGS, kbit, POINTS_24H, type CatchUpResult, type LinkReportResults, type PairResult } from './types.ts';

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
