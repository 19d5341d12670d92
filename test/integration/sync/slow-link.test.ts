import { afterEach, describe, expect, it } from 'vitest';
import type { Instance } from '../../../app/instance/index.ts';
import { connectToServer } from '../../../app/nats/index.ts';
import { floatPoint } from '../../../app/siot/index.ts';
import { ThrottledProxy } from '../../bench/throttled-proxy.ts';
import { FAST_SYNC, streamLog, Topology, waitFor } from '../../helpers/topology.ts';

let topo = new Topology();
const proxies: ThrottledProxy[] = [];
afterEach(async () => {
  await topo.dispose();
  topo = new Topology();
  for (const p of proxies.splice(0)) await p.close();
});

const STREAM = 'inst_dev_dev';

async function writeMany(i: Instance, node: string, n: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < n) {
        const k = next++;
        await i.store.writeNodePoints(node, [floatPoint('value', k, { key: String(k % 7) })]);
      }
    }),
  );
}

/** Device and laptop over a 100 kbit/s link without leaf compression. */
async function slowPair(): Promise<{ dev: Instance; lap: Instance; link: ThrottledProxy; node: string }> {
  const dev = await topo.instances.start({ instanceId: 'dev', leafPort: -1, sync: { ...FAST_SYNC, role: 'device', want: 'own' } });
  const link = new ThrottledProxy({ rateBps: 100_000 });
  proxies.push(link);
  await link.start();
  link.target(dev.server.ports.leaf as number);
  const lap = await topo.instances.start({
    instanceId: 'lap',
    peers: [{ url: link.url, credentials: dev.credentials.leaf, compression: 'off' }],
    sync: { ...FAST_SYNC, role: 'laptop' },
  });
  const node = await dev.store.createNode('dev', 'modbusIO');
  await waitFor('the first sync', () => lap.sync?.status().replicas.find((r) => r.stream === STREAM)?.state === 'idle');
  return { dev, lap, link, node };
}

describe('sync over a slow link', () => {
  it('rides out a silent outage during a catch-up without restarting it or sending data twice', async () => {
    const { dev, lap, link, node } = await slowPair();
    const created: string[] = [];
    dev.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${STREAM}.>`, { callback: (_e, m) => void created.push(m.subject) });
    link.cut();
    const n = 1_200; // ~250 kB uncompressed: ~20 s of this link
    await writeMany(dev, node, n);
    const target = dev.store.lastOriginSeq(STREAM);
    const copied = () => lap.sync?.status().replicas.find((r) => r.stream === STREAM)?.lastOriginSeq ?? 0;
    const start = copied();
    const bytesBefore = link.bytesDown;
    link.restore();
    // A quarter in, the link goes silent for 8 s and then delivers what it
    // held (TCP over a dead radio link).
    await waitFor('a quarter of the catch-up', () => copied() >= start + n / 4, 60_000);
    link.blackhole('stall');
    await new Promise((r) => setTimeout(r, 8_000));
    link.restore();
    await waitFor('the laptop to hold everything', () => copied() === target, 90_000);

    // The round in progress was kept: only a few seconds of the link were
    // asked for at any time, and the watchdog allows those to arrive. With
    // the window counted in messages (2 × 1,000) the whole backlog was in
    // the line, the round restarted after 3 s of silence, and the backlog
    // crossed again.
    expect(created).toHaveLength(1);
    const perPoint = (link.bytesDown - bytesBefore) / n;
    expect(perPoint).toBeLessThan(300); // ~210 B/point uncompressed, nothing twice
    const a = await streamLog(dev, STREAM);
    const b = await streamLog(lap, STREAM);
    expect(b).toEqual(a);
  }, 150_000);

  it('probes a silent peer one call at a time, backing off, instead of every 500 ms', async () => {
    const { lap, link } = await slowPair();
    // Every call of the laptop’s to the device’s JetStream, as published in
    // the peers’ account its remote is bound to (a silent link may be reset
    // before what it held crosses).
    const watcher = await connectToServer(lap.server, 'watcher', { peers: true });
    const calls = new Map<string, number>();
    watcher.subscribe('$JS.siot_dev.API.>', {
      callback: (_e, m) => {
        const kind = /^\$JS\.siot_dev\.API\.([A-Z.]+?)(?:\.inst_|$)/.exec(m.subject)?.[1] ?? m.subject;
        calls.set(kind, (calls.get(kind) ?? 0) + 1);
      },
    });
    await watcher.flush();
    link.blackhole('stall');
    await waitFor('the laptop to see the link down', () => lap.sync?.status().peers.find((p) => p.id === 'dev')?.reachable === false);
    const atDown = new Map(calls);
    await new Promise((r) => setTimeout(r, 20_000));
    const during = (kind: string) => (calls.get(kind) ?? 0) - (atDown.get(kind) ?? 0);
    const probes = during('INFO');
    link.restore();
    await waitFor('the link back', () => lap.sync?.status().replicas.find((r) => r.stream === STREAM)?.state === 'idle', 60_000);
    await watcher.close();
    // One probe at a time, each waiting for the last to time out (5 s) and
    // then 1, 2, 4 s more: 3-4 in 20 s. One every 500 ms sent 40 (measured),
    // each crossing the link with its answer once it carries anything again.
    expect(probes).toBeGreaterThan(0);
    expect(probes).toBeLessThanOrEqual(5);
  }, 120_000);
});
