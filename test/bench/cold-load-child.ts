// Runs in a fresh process: measures loading merged state from a running
// server, (a) with the store's bulk last-per-subject read and (b) with one
// direct get per subject, and prints JSON. Process start-up is excluded.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Store } from '../../app/store/index.ts';
import { decodePoints, parseInstSubject } from '../../app/siot/index.ts';

interface Args {
  url: string;
  user: string;
  pass: string;
  instanceId: string;
  mode: 'bulk' | 'per-subject';
  subjects?: Array<[string, string[]]>;
  window?: number;
}

const args = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as Args;
const nc = await connect({ servers: args.url, user: args.user, pass: args.pass });
const t0 = performance.now();
let points = 0;
if (args.mode === 'bulk') {
  const store = await Store.open({ nc, instanceId: args.instanceId, serveApi: false });
  points = store.state.pointCount;
  await store.close();
} else {
  const jsm = await jetstreamManager(nc);
  const merged = new Map<string, bigint>();
  const window = args.window ?? 1;
  for (const [stream, subjects] of args.subjects ?? []) {
    let next = 0;
    await Promise.all(
      Array.from({ length: window }, async () => {
        while (next < subjects.length) {
          const subject = subjects[next++] as string;
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
