import { afterEach, describe, expect, it } from 'vitest';
import { APPLIED_POINT, DeviceSim } from '../../../app/sim/index.ts';
import { floatPoint, pointString } from '../../../app/siot/index.ts';
import { Topology, waitFor } from '../../helpers/topology.ts';

let topo = new Topology();
const sims: DeviceSim[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) s.stop();
  await topo.dispose();
  topo = new Topology();
});

describe('simulated device', () => {
  it('samples its inputs and applies a pollPeriod written on the laptop', async () => {
    const dev = await topo.start('simdev', 'device');
    const sim = new DeviceSim(dev, { nodes: 3, pollPeriodMs: 1_000 });
    sims.push(sim);
    await sim.start();
    const lap = await topo.start('simlap', 'laptop', [{ to: dev, proxy: await topo.proxyTo(dev) }]);
    const [first] = [...sim.periods().keys()];
    const input = first as string;
    await waitFor('laptop to see the input', () => lap.store.state.hasEdge(input, 'simdev'));
    const edit = floatPoint('pollPeriod', 50);
    await lap.store.writeNodePoints(input, [edit]);
    await waitFor('the device to sample faster', () => sim.periods().get(input) === 50);
    // It acknowledges with an `applied` point carrying the edit's time, which
    // comes back to the laptop.
    await waitFor('the applied report on the laptop', () => {
      const p = lap.store.state.nodePoint(input, APPLIED_POINT, 'pollPeriod');
      return p !== undefined && p.instance === 'simdev' && pointString(p.point) === edit.time.toString();
    });
    const before = sim.stats.writes;
    await waitFor('samples at the new rate', () => sim.stats.writes - before >= 10, 10_000);
    // The laptop sees the new samples arrive through replication.
    const seen = lap.store.state.nodePoint(input, 'value', '0')?.point.time ?? 0n;
    await waitFor('new samples on the laptop', () => (lap.store.state.nodePoint(input, 'value', '0')?.point.time ?? 0n) > seen);
    expect(sim.stats.errors).toBe(0);

    // Restarted on the same data dir, the simulator finds its inputs again.
    sim.stop();
    const again = new DeviceSim(dev, { nodes: 3 });
    sims.push(again);
    await again.start();
    expect([...again.periods().keys()].sort()).toEqual([...sim.periods().keys()].sort());
    expect(again.periods().get(input)).toBe(50);
  });
});
