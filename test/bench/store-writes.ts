// Acknowledged writes per second: through the store vs raw @nats-io/jetstream
// async publishes on the same server in the same run. Both keep the same
// number of publishes in flight and store the same bytes per message.
import { performance } from 'node:perf_hooks';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Instance } from '../../app/instance/index.ts';
import { AckPublisher } from '../../app/store/publisher.ts';
import { encodePoints, floatPoint, instPointSubject } from '../../app/siot/index.ts';

export interface WriteBenchResult {
  points: number;
  window: number;
  storePerSec: number[];
  rawPerSec: number[];
  /** The store's own publish path (one reply subscription) without the store around it. */
  publisherPerSec: number[];
  /** Median store rate / median raw rate. */
  ratio: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

/** Runs `op(i)` for i < n with at most `window` in flight. */
async function windowed(n: number, window: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

export async function benchWrites(dataDir: string, opts: { points?: number; window?: number; rounds?: number } = {}): Promise<WriteBenchResult> {
  const points = opts.points ?? 20_000;
  const window = opts.window ?? 256;
  const rounds = opts.rounds ?? 3;
  const inst = await Instance.start({ dataDir, instanceId: 'benchw' });
  try {
    const dev = await inst.store.createNode('benchw', 'device');
    const nodes: string[] = [];
    for (let i = 0; i < 100; i++) nodes.push(await inst.store.createNode(dev, 'modbusIO'));
    const js = jetstream(inst.nc);
    const jsm = await jetstreamManager(inst.nc);
    await jsm.streams.add({ name: 'rawbench', subjects: ['rawbench.>'], max_msgs_per_subject: 20_000 });
    const storeRates: number[] = [];
    const rawRates: number[] = [];
    const pubRates: number[] = [];
    const publisher = new AckPublisher(inst.nc);
    publisher.start();
    for (let r = 0; r < rounds; r++) {
      // Raw: what the store must do at minimum — encode and publish with ack.
      rawRates.push(
        await windowed(points, window, (i) => {
          const p = floatPoint('value', i, { key: String(i % 10) });
          return js.publish(instPointSubject('raw', 'bench', nodes[i % 100] as string, p.type, p.key).replace(/^inst/, 'rawbench'), encodePoints([p]));
        }),
      );
      pubRates.push(
        await windowed(points, window, (i) => {
          const p = floatPoint('value', i, { key: String(i % 10) });
          return publisher.publish(instPointSubject('raw', 'bench', nodes[i % 100] as string, p.type, p.key).replace(/^inst/, 'rawbench'), encodePoints([p]));
        }),
      );
      storeRates.push(
        await windowed(points, window, (i) => inst.store.writeNodePoints(nodes[i % 100] as string, [floatPoint('value', i, { key: String(i % 10) })])),
      );
    }
    publisher.close();
    return { points, window, storePerSec: storeRates, rawPerSec: rawRates, publisherPerSec: pubRates, ratio: median(storeRates) / median(rawRates) };
  } finally {
    await inst.stop();
  }
}
