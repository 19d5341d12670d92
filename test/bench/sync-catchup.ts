// Sync on loopback: time from the link coming up to the first replicated
// message, and catch-up throughput for 100,000 points written while the
// laptop was away. Real device and laptop instances, a proxy as the link.
import { performance } from 'node:perf_hooks';
import type { Instance } from '../../app/instance/index.ts';
import { floatPoint } from '../../app/siot/index.ts';
import { LinkProxy } from '../helpers/proxy.ts';
import { Topology, waitFor } from '../helpers/topology.ts';

export interface SyncBenchResult {
  points: number;
  firstMessageMs: number[];
  /** From the link coming up to the last point stored. */
  catchUpSec: number;
  /** From the first replicated point to the last: the transfer rate. */
  transferSec: number;
  pointsPerSec: number;
  /** Device write acknowledged → point in the laptop's merged state (ms). */
  liveMs: number[];
}

async function writeMany(i: Instance, node: string, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < n) {
        const k = next++;
        await i.store.writeNodePoints(node, [floatPoint('value', k, { key: String(k % 100) })]);
      }
    }),
  );
}

export async function benchSyncCatchUp(points = 100_000): Promise<SyncBenchResult> {
  const topo = new Topology();
  try {
    const dev = await topo.start('benchdev', 'device');
    const link: LinkProxy = await topo.proxyTo(dev);
    const lap = await topo.start('benchlap', 'laptop', [{ to: dev, proxy: link }]);
    const n = await dev.store.createNode('benchdev', 'modbusIO');
    const replica = () => lap.sync?.status().replicas.find((r) => r.stream === 'inst_benchdev_benchdev');
    await waitFor('initial sync', () => replica()?.state === 'idle');
    // waitFor polls every 25 ms, which bounds the resolution of these timings.

    // Live: a point written on the device, in the laptop's merged state.
    const liveMs: number[] = [];
    for (let k = 0; k < 20; k++) {
      const seen = new Promise<number>((res) => {
        const off = lap.store.onPoint((c) => {
          if (c.nodeId === n && c.current.point.type === 'live') {
            off();
            res(performance.now());
          }
        });
      });
      const t0 = performance.now();
      await dev.store.writeNodePoints(n, [floatPoint('live', k)]);
      liveMs.push((await seen) - t0);
    }

    // Link up → first replicated message, three times with a few points each.
    const firstMessageMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      link.cut();
      await waitFor('link down seen', () => replica()?.state === 'offline');
      const before = replica()?.lastOriginSeq ?? 0;
      await writeMany(dev, n, 10);
      const t0 = performance.now();
      link.restore();
      await waitFor('first message', () => (replica()?.lastOriginSeq ?? 0) > before, 60_000);
      firstMessageMs.push(performance.now() - t0);
      await waitFor('settled', () => replica()?.state === 'idle');
    }

    link.cut();
    await waitFor('link down seen', () => replica()?.state === 'offline');
    await writeMany(dev, n, points);
    const target = (await dev.store.streamStats()).find((s) => s.name === 'inst_benchdev_benchdev')?.lastSeq ?? 0;
    const start = replica()?.lastOriginSeq ?? 0;
    const t0 = performance.now();
    let tFirst = 0;
    link.restore();
    await waitFor('catch-up', () => {
      const seq = replica()?.lastOriginSeq ?? 0;
      if (!tFirst && seq > start) tFirst = performance.now();
      return seq === target;
    }, 300_000);
    const tEnd = performance.now();
    const transferSec = (tEnd - tFirst) / 1000;
    return { points: target - start, firstMessageMs, catchUpSec: (tEnd - t0) / 1000, transferSec, pointsPerSec: (target - start) / transferSec, liveMs };
  } finally {
    await topo.dispose();
  }
}
