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
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { say } from './link-report/log.ts';
import { keptDiscussion, toMarkdown } from './link-report/markdown.ts';
import { runLinkReport } from './link-report/run.ts';
import type { ConfigId, LinkReportResults } from './link-report/types.ts';

// The parts, in test/bench/link-report/: types.ts (configurations, constants,
// result types), leaf-tap.ts (LeafTap), pair.ts (a device/laptop pair),
// measure.ts (the phases), run.ts (runLinkReport), markdown.ts (the report).
export { CONFIGS, POINTS_24H } from './link-report/types.ts';
export type { Bytes, CatchUpResult, ConfigId, ConfigSpec, IdleResult, LinkReportOptions, LinkReportResults, LiveResult, PairResult, TapRow } from './link-report/types.ts';
export { runLinkReport } from './link-report/run.ts';
export { keptDiscussion, toMarkdown } from './link-report/markdown.ts';

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
