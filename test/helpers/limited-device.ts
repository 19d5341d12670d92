import type { Instance } from '../../app/instance/index.ts';
import { floatPoint, pointFloat, type Point } from '../../app/siot/index.ts';
import { FAST_SYNC, type Topology, waitFor } from './topology.ts';

/**
 * A hub with one boundary-limited leaf user, `devA` (password `secret-a`),
 * and device A dialling it through a proxy with that user, once A has its
 * configuration (`pollPeriod` 250) from the hub. `otherDevices` are created
 * at the hub first, each with `pollPeriod` 750: another customer's data.
 */
export async function hubWithLimitedDevice(topo: Topology, otherDevices: string[] = []): Promise<{ hub: Instance; devA: Instance }> {
  const hub = await topo.instances.start({
    instanceId: 'hub',
    leafPort: -1,
    leafUsers: [{ user: 'devA', password: 'secret-a', boundaries: ['devA'] }],
    sync: { ...FAST_SYNC, role: 'hub' },
  });
  await hub.store.createNode('hub', 'device', [], 'devA');
  for (const id of otherDevices) await hub.store.createNode('hub', 'device', [], id);
  await hub.store.writeNodePoints('devA', [floatPoint('pollPeriod', 250)]);
  for (const id of otherDevices) await hub.store.writeNodePoints(id, [floatPoint('pollPeriod', 750)]);
  const link = await topo.proxyTo(hub);
  const devA = await topo.instances.start({
    instanceId: 'devA',
    peers: [{ url: link.url, credentials: { user: 'devA', password: 'secret-a' } }],
    sync: { ...FAST_SYNC, role: 'device', want: 'own' },
  });
  await waitFor('device A to get its configuration from the hub', () => {
    const p = devA.store.state.nodePoint('devA', 'pollPeriod', '0')?.point;
    return p !== undefined && pointFloat(p as Point) === 250;
  });
  return { hub, devA };
}
