import { afterEach, describe, expect, it } from 'vitest';
import type { Instance } from '../../../app/instance/index.ts';
import { floatPoint, pointFloat, pointString, stringPoint, type Point } from '../../../app/siot/index.ts';
import { streamLog, Topology, waitFor } from '../../helpers/topology.ts';

let topo = new Topology();
afterEach(async () => {
  await topo.dispose();
  topo = new Topology();
});

const value = (i: Instance, node: string, type: string, key = '0') => i.store.state.nodePoint(node, type, key);
const lastSeq = async (i: Instance, stream: string) => {
  const log = await streamLog(i, stream);
  return log.length ? (log[log.length - 1]?.originSeq as number) : 0;
};
const replica = (i: Instance, stream: string) => i.sync?.status().replicas.find((r) => r.stream === stream);

/** Writes n points with up to 64 in flight. */
async function writeMany(i: Instance, node: string, n: number, from = 0): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < n) {
        const k = from + next++;
        await i.store.writeNodePoints(node, [floatPoint('value', k, { key: String(k % 7) })]);
      }
    }),
  );
}

/** The replica holds exactly the origin's log: same messages, same order, once each. */
/** A device and a laptop that synced once, then 10,000 points written on
 * the device while the link was cut (still cut on return). */
async function pairWithBacklog(): Promise<{ dev: Instance; lap: Instance; link: Awaited<ReturnType<Topology['proxyTo']>>; n: string; target: number; startSeq: number }> {
  const dev = await topo.start('dev', 'device');
  const link = await topo.proxyTo(dev);
  const lap = await topo.start('lap', 'laptop', [{ to: dev, proxy: link }]);
  const n = await dev.store.createNode('dev', 'modbusIO');
  await waitFor('first sync', () => replica(lap, 'inst_dev_dev')?.state === 'idle');
  link.cut();
  await writeMany(dev, n, 10_000);
  const target = await lastSeq(dev, 'inst_dev_dev');
  return { dev, lap, link, n, target, startSeq: replica(lap, 'inst_dev_dev')?.lastOriginSeq ?? 0 };
}

/** The merged state of one node, comparable across instances. */
const tips = (i: Instance, n: string) =>
  i.store.state
    .nodePoints(n)
    .map((op) => `${op.point.type}.${op.point.key}=${pointFloat(op.point as Point)}@${op.instance}`)
    .sort();

async function expectSameLog(origin: Instance, copy: Instance, stream: string): Promise<void> {
  const a = await streamLog(origin, stream);
  const b = await streamLog(copy, stream);
  const seqs = b.map((m) => m.originSeq);
  expect(seqs.every((s, k) => k === 0 || s > (seqs[k - 1] as number))).toBe(true);
  expect(b).toEqual(a);
}

describe('sync: device <-> laptop', () => {
  it('captures device history, delivers laptop configuration to the device, follows live, reports progress', async () => {
    const dev = await topo.start('dev', 'device');
    const lap = await topo.start('lap', 'laptop', [{ to: dev, proxy: await topo.proxyTo(dev) }]);
    const n = await dev.store.createNode('dev', 'modbusIO', [stringPoint('description', 'pump'), floatPoint('pollPeriod', 1000)]);
    await writeMany(dev, n, 500);
    await waitFor('laptop to capture the device history', async () => (replica(lap, 'inst_dev_dev')?.lastOriginSeq ?? 0) === (await lastSeq(dev, 'inst_dev_dev')));
    await expectSameLog(dev, lap, 'inst_dev_dev');
    expect(pointString(value(lap, n, 'description')?.point as Point)).toBe('pump');

    // Configuration written on the laptop for the device's node.
    await lap.store.writeNodePoints(n, [floatPoint('pollPeriod', 250)]);
    await waitFor('device to apply the laptop configuration', () => pointFloat(value(dev, n, 'pollPeriod')?.point as Point) === 250);
    expect(value(dev, n, 'pollPeriod')?.instance).toBe('lap');
    expect(dev.store.streamRefs().map((r) => r.name).sort()).toEqual(['inst_dev_dev', 'inst_dev_lap']);
    // The laptop's own root boundary is not the device's business.
    expect(dev.store.streamRefs().some((r) => r.name === 'inst_lap_lap')).toBe(false);

    // Live: a new device point shows on the laptop while connected.
    await dev.store.writeNodePoints(n, [floatPoint('value', -1)]);
    await waitFor('a live point on the laptop', () => pointFloat(value(lap, n, 'value')?.point as Point) === -1, 5_000);

    await waitFor('the laptop to see the device has its writes', () => lap.sync?.status().safeToDisconnect === true);
    const st = lap.sync?.status();
    expect(st?.replicas.find((r) => r.stream === 'inst_dev_dev')).toMatchObject({ state: 'idle', pendingMessages: 0, source: 'dev' });
    expect(st?.peers.find((p) => p.id === 'dev')).toMatchObject({ reachable: true, upstreamComplete: true });
  });

  it('delivers 10,000 points written while the laptop was away, in origin order, and resumes a catch-up cut in the middle', async () => {
    const { dev, lap, link, n, target, startSeq } = await pairWithBacklog();

    // Cut again once the catch-up is under way.
    let cutMidway = false;
    lap.store.onPoint((c) => {
      if (!cutMidway && c.nodeId === n && (replica(lap, 'inst_dev_dev')?.delivered ?? 0) > 0 && c.current.instance === 'dev') {
        const seq = replica(lap, 'inst_dev_dev')?.lastOriginSeq ?? 0;
        if (seq > startSeq + 1_000) {
          cutMidway = true;
          link.cut();
          setTimeout(() => link.restore(), 1_500);
        }
      }
    });
    link.restore();
    await waitFor('the laptop to hold all 10,000', () => (replica(lap, 'inst_dev_dev')?.lastOriginSeq ?? 0) === target, 60_000);
    expect(cutMidway).toBe(true);
    await expectSameLog(dev, lap, 'inst_dev_dev');
    // The merged state too: most appends of a catch-up are settled by a
    // later acknowledged one (app/store/unconfirmed.ts), across the cut.
    expect(tips(lap, n)).toEqual(tips(dev, n));
    expect(tips(lap, n)).toHaveLength(7);
    expect(pointFloat(value(lap, n, 'value', String(9_999 % 7))?.point as Point)).toBe(9_999);
  });

  it('loses nothing and stores nothing twice when the laptop’s nats-server is killed mid catch-up', async () => {
    const { dev, lap, link, n, target, startSeq } = await pairWithBacklog();
    const firstPid = lap.server.pid;
    // Killed while appends are in flight, most of them sent without asking
    // for an answer (app/store/unconfirmed.ts): the supervisor restarts it on
    // the same ports, the store reads back what it cannot know, sync resumes.
    // (From a point listener: a 10,000-point catch-up on loopback takes a
    // fraction of a second, too short to aim at by polling.)
    let killedAt = 0;
    const off = lap.store.onPoint((c) => {
      if (!killedAt && c.nodeId === n && lap.store.lastOriginSeq('inst_dev_dev') > startSeq + 2_000) {
        killedAt = lap.store.lastOriginSeq('inst_dev_dev');
        process.kill(firstPid as number, 'SIGKILL');
      }
    });
    link.restore();
    await waitFor('the kill', () => killedAt > 0, 60_000);
    off();
    expect(killedAt).toBeLessThan(target);
    await waitFor('the restarted laptop to hold all 10,000', () => lap.server.pid !== firstPid && (replica(lap, 'inst_dev_dev')?.lastOriginSeq ?? 0) === target, 90_000);
    await expectSameLog(dev, lap, 'inst_dev_dev');
    await waitFor('the merged state to match the device', () => JSON.stringify(tips(lap, n)) === JSON.stringify(tips(dev, n)), 10_000);
    expect(tips(lap, n)).toHaveLength(7);
  });

  it('converges after offline edits on both sides, with the same winner everywhere', async () => {
    const dev = await topo.start('dev', 'device');
    const link = await topo.proxyTo(dev);
    const lap = await topo.start('lap', 'laptop', [{ to: dev, proxy: link }]);
    const n = await dev.store.createNode('dev', 'modbusIO');
    await waitFor('the node on the laptop', () => lap.store.state.hasEdge(n, 'dev'));
    link.cut();
    await waitFor('the laptop to see the link down', () => replica(lap, 'inst_dev_dev')?.state === 'offline');
    await dev.store.writeNodePoints(n, [floatPoint('setpoint', 1, { time: 1_000n }), stringPoint('fromDevice', 'd'), floatPoint('tie', 1, { time: 5_000n })]);
    await lap.store.writeNodePoints(n, [floatPoint('setpoint', 2, { time: 2_000n }), stringPoint('fromLaptop', 'l'), floatPoint('tie', 2, { time: 5_000n })]);
    link.restore();
    const snapshot = (i: Instance) =>
      i.store.state
        .nodePoints(n)
        .map((op) => [op.point.type, op.instance, String(op.point.time), Buffer.from(op.point.data).toString('hex')])
        .sort();
    await waitFor('both sides to agree', () => JSON.stringify(snapshot(dev)) === JSON.stringify(snapshot(lap)) && snapshot(dev).length === 4);
    expect(pointFloat(value(dev, n, 'setpoint')?.point as Point)).toBe(2); // newer time wins
    expect(value(dev, n, 'tie')?.instance).toBe('lap'); // equal time: greater instance id
    expect(pointString(value(dev, n, 'fromLaptop')?.point as Point)).toBe('l');
    expect(pointString(value(lap, n, 'fromDevice')?.point as Point)).toBe('d');
  });

  it('re-syncs a laptop whose data dir was reset (new instance id) without stalling', async () => {
    const dev = await topo.start('dev', 'device');
    const link = await topo.proxyTo(dev);
    const lap1 = await topo.start('lap1', 'laptop', [{ to: dev, proxy: link }]);
    const n = await dev.store.createNode('dev', 'modbusIO');
    await writeMany(dev, n, 300);
    // The laptop edits nodes it has seen: their boundary says where edits go.
    await waitFor('lap1 to see the node', () => lap1.store.state.hasEdge(n, 'dev'));
    await lap1.store.writeNodePoints(n, [floatPoint('pollPeriod', 500)]);
    await waitFor('device to get lap1 config', () => value(dev, n, 'pollPeriod')?.instance === 'lap1');
    await topo.instances.stop(lap1);
    const lap2 = await topo.start('lap2', 'laptop', [{ to: dev, proxy: link }]);
    await waitFor('lap2 to capture everything', async () =>
      (replica(lap2, 'inst_dev_dev')?.lastOriginSeq ?? 0) === (await lastSeq(dev, 'inst_dev_dev')) && replica(lap2, 'inst_dev_lap1')?.state === 'idle',
    );
    // The old laptop's configuration comes along, as a copy the device holds.
    expect(replica(lap2, 'inst_dev_lap1')?.source).toBe('dev');
    expect(pointFloat(value(lap2, n, 'pollPeriod')?.point as Point)).toBe(500);
    await expectSameLog(dev, lap2, 'inst_dev_dev');
  });
});

describe('sync: multi-hop device -> laptop -> hub, then device -> hub', () => {
  it('ends with the hub holding exactly the origin log, once each, in order', async () => {
    const hub = await topo.start('hub', 'hub');
    const devHub = await topo.proxyTo(hub);
    devHub.cut();
    const dev = await topo.start('dev', 'device', [{ to: hub, proxy: devHub }]);
    const lapDev = await topo.proxyTo(dev);
    const lapHub = await topo.proxyTo(hub);
    lapHub.cut();
    const lap = await topo.start('lap', 'laptop', [
      { to: dev, proxy: lapDev },
      { to: hub, proxy: lapHub },
    ]);
    const n = await dev.store.createNode('dev', 'modbusIO');
    await writeMany(dev, n, 3_000);
    await waitFor('laptop to see the node', () => lap.store.state.hasEdge(n, 'dev'));
    await lap.store.writeNodePoints(n, [floatPoint('pollPeriod', 100)]);
    const phase1 = await lastSeq(dev, 'inst_dev_dev');
    await waitFor('laptop capture', () => replica(lap, 'inst_dev_dev')?.lastOriginSeq === phase1);
    await waitFor('device to get the laptop config', () => value(dev, n, 'pollPeriod')?.instance === 'lap');

    // Drive to the hub: the laptop uploads the captured history and its own writes.
    lapDev.cut();
    lapHub.restore();
    await waitFor('hub to get the device history from the laptop', () => replica(hub, 'inst_dev_dev')?.lastOriginSeq === phase1);
    expect(replica(hub, 'inst_dev_dev')?.source).toBe('lap');
    await waitFor('hub to get the laptop writes', () => replica(hub, 'inst_dev_lap')?.state === 'idle' && value(hub, n, 'pollPeriod')?.instance === 'lap');
    await waitFor('laptop: safe to disconnect', () => lap.sync?.status().peers.find((p) => p.id === 'hub')?.upstreamComplete === true);
    lapHub.cut();

    // Later the device reaches the hub directly and continues from there.
    await writeMany(dev, n, 2_000, 3_000);
    const phase2 = await lastSeq(dev, 'inst_dev_dev');
    devHub.restore();
    await waitFor('hub to continue from the device itself', () => replica(hub, 'inst_dev_dev')?.lastOriginSeq === phase2, 60_000);
    expect(replica(hub, 'inst_dev_dev')?.source).toBe('dev');
    await expectSameLog(dev, hub, 'inst_dev_dev');
    expect(pointFloat(value(hub, n, 'value', String(4_999 % 7))?.point as Point)).toBe(4_999);
  });
});
