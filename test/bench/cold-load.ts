// Cold load of merged state for 100,000 subjects over two origin streams:
// the store's bulk read vs one get per subject, each in a fresh process.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Instance } from '../../app/instance/index.ts';
import { encodePoints, floatPoint, instPointSubject, instStreamName, instStreamSubjects } from '../../app/siot/index.ts';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./cold-load-child.mjs', import.meta.url));

export interface ColdLoadResult {
  subjects: number;
  bulkSec: number;
  bulkRunsSec: number[];
  bulkPoints: number;
  perSubjectSec: number;
  perSubjectWindow: number;
  perSubjectSequentialSec: number;
  speedup: number;
}

async function publishAll(js: ReturnType<typeof jetstream>, msgs: Array<[string, Uint8Array]>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < msgs.length) {
        const [s, d] = msgs[next++] as [string, Uint8Array];
        await js.publish(s, d);
      }
    }),
  );
}

export async function benchColdLoad(dataDir: string, subjects = 100_000): Promise<ColdLoadResult> {
  const inst = await Instance.start({ dataDir, instanceId: 'benchc' });
  try {
    const js = jetstream(inst.nc);
    const jsm = await jetstreamManager(inst.nc);
    const other = 'benchother';
    await jsm.streams.add({ name: instStreamName('benchc', other), subjects: [instStreamSubjects('benchc', other)], allow_direct: true });
    const half = subjects / 2;
    const bySteam: Array<[string, string[]]> = [
      ['inst_benchc_benchc', []],
      [instStreamName('benchc', other), []],
    ];
    const msgs: Array<[string, Uint8Array]> = [];
    // 10 points per node; each origin holds half of the subjects, and both
    // write a second sample of some so the per-subject tip matters.
    for (let i = 0; i < subjects; i++) {
      const origin = i < half ? 'benchc' : other;
      const node = `n${Math.floor((i % half) / 10)}${i < half ? 'a' : 'b'}`;
      const p = floatPoint('value', i, { key: String(i % 10) });
      const s = instPointSubject('benchc', origin, node, p.type, p.key);
      msgs.push([s, encodePoints([p])]);
      if (i % 5 === 0) msgs.push([s, encodePoints([floatPoint('value', i + 0.5, { key: String(i % 10) })])]);
      (bySteam[i < half ? 0 : 1] as [string, string[]])[1].push(s);
    }
    await publishAll(js, msgs);
    const base = { url: inst.server.url, user: inst.credentials.client.user, pass: inst.credentials.client.password, instanceId: 'benchc' };
    let argN = 0;
    const measure = async (extra: object): Promise<{ seconds: number; points: number }> => {
      // The subject lists are too large for a command line: pass a file.
      const argFile = join(dataDir, `cold-load-args-${argN++}.json`);
      writeFileSync(argFile, JSON.stringify({ ...base, ...extra }));
      const { stdout } = await run(process.execPath, [child, argFile], { maxBuffer: 64 * 1024 * 1024 });
      return JSON.parse(stdout.trim().split('\n').pop() as string) as { seconds: number; points: number };
    };
    // Three fresh processes; the median is reported (the machine is shared and noisy).
    const bulkRuns: Array<{ seconds: number; points: number }> = [];
    for (let i = 0; i < 3; i++) bulkRuns.push(await measure({ mode: 'bulk' }));
    bulkRuns.sort((x, y) => x.seconds - y.seconds);
    const bulk = bulkRuns[1] as { seconds: number; points: number };
    const windowSize = 256;
    const per = await measure({ mode: 'per-subject', subjects: bySteam, window: windowSize });
    const seq = await measure({ mode: 'per-subject', subjects: bySteam.map(([n, s]) => [n, s.slice(0, 5_000)]), window: 1 });
    const seqSec = seq.seconds * (subjects / 10_000);
    return {
      subjects,
      bulkSec: bulk.seconds,
      bulkRunsSec: bulkRuns.map((r) => r.seconds),
      bulkPoints: bulk.points,
      perSubjectSec: per.seconds,
      perSubjectWindow: windowSize,
      perSubjectSequentialSec: seqSec,
      speedup: per.seconds / bulk.seconds,
    };
  } finally {
    await inst.stop();
  }
}
