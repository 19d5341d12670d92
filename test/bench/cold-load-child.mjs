// Runs in a fresh process on the compiled app (dist/, what ships; `npm run
// bench` builds it first): measures loading merged state from a running
// server (a) with the store's bulk read (Store.open) and (b) with one direct
// get per subject, and prints JSON. Process start-up is excluded.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Store } from '../../dist/app/store/index.js';
import { decodePoints, parseInstSubject } from '../../dist/app/siot/index.js';

const args = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const nc = await connect({ servers: args.url, user: args.user, pass: args.pass });
const t0 = performance.now();
let points = 0;
if (args.mode === 'bulk') {
  const store = await Store.open({ nc, instanceId: args.instanceId, serveApi: false });
  points = store.state.pointCount;
  await store.close();
} else {
  const jsm = await jetstreamManager(nc);
  const merged = new Map();
  const window = args.window ?? 1;
  for (const [stream, subjects] of args.subjects ?? []) {
    let next = 0;
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (next < subjects.length) {
          const subject = subjects[next++];
          const m = await jsm.direct.getMessage(stream, { last_by_subj: subject });
          if (!m) continue;
          const s = parseInstSubject(subject);
          for (const p of decodePoints(m.data)) {
            const id = s.kind === 'point' ? `${s.nodeId}.${p.type}.${p.key}` : subject;
            const cur = merged.get(id);
            if (cur === undefined || p.time > cur) merged.set(id, p.time);
          }
        }
      }),
    );
  }
  points = merged.size;
}
const seconds = (performance.now() - t0) / 1000;
await nc.close();
process.stdout.write(JSON.stringify({ seconds, points }) + '\n');
