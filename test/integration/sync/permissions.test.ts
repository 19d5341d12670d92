import { afterEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Hello } from '../../../app/sync/index.ts';
import { floatPoint } from '../../../app/siot/index.ts';
import { hubWithLimitedDevice } from '../../helpers/limited-device.ts';
import { FAST_SYNC, Topology, waitFor } from '../../helpers/topology.ts';

/** The next hello `from` sends, as heard on `nc`. */
async function nextHello(nc: NatsConnection, from: string): Promise<Hello> {
  const sub = nc.subscribe(`siot.sync.hello.${from}`, { max: 1 });
  for await (const m of sub) return JSON.parse(new TextDecoder().decode(m.data)) as Hello;
  throw new Error(`no hello from ${from}`);
}

let topo = new Topology();
afterEach(async () => {
  await topo.dispose();
  topo = new Topology();
});

describe('sync: what a peer may reach', () => {
  it('lets a device read only its own boundaries at the hub, and never change the hub', async () => {
    // The hub's tree holds two customers' devices with configuration for
    // each; device A gets its own.
    const { hub, devA } = await hubWithLimitedDevice(topo, ['devB']);
    await devA.store.writeNodePoints('devA', [floatPoint('temperature', 21.5)]);
    await waitFor('the hub to collect device A history', () => hub.store.state.nodePoint('devA', 'temperature', '0') !== undefined);

    // The hub's hellos name only A's streams: not B's, nor the hub's own.
    const heard = await nextHello(devA.peersNc, 'hub');
    expect(Object.keys(heard.seqs).sort()).toEqual(['inst_devA_devA', 'inst_devA_hub']);

    // Through its leaf, device A reaches A's streams at the hub and nothing else.
    const atHub = await jetstreamManager(devA.peersNc, { domain: 'siot_hub', checkAPI: false, timeout: 1_500 });
    await waitFor('A to read its stream at the hub', () => atHub.streams.info('inst_devA_hub').then((i) => i.state.messages > 0, () => false));
    await expect(atHub.streams.info('inst_devB_hub')).rejects.toThrow();
    await expect(atHub.consumers.add('inst_devB_hub', {})).rejects.toThrow();
    await expect(atHub.direct.getMessage('inst_devB_hub', { seq: 1 })).rejects.toThrow();
    await expect(atHub.streams.info('inst_hub_hub')).rejects.toThrow();
    await expect(atHub.streams.purge('inst_devA_hub')).rejects.toThrow();
    await expect(atHub.streams.delete('inst_devA_hub')).rejects.toThrow();
    expect((await (await jetstreamManager(hub.nc)).streams.info('inst_devA_hub')).state.messages).toBeGreaterThan(0);
    // Control: the hub's own leaf user (a trusted laptop) reads B's stream, so
    // the refusals above come from device A's permissions.
    const lap = await topo.instances.start({ instanceId: 'lap', peers: [{ url: (await topo.proxyTo(hub)).url, credentials: hub.credentials.leaf }], sync: false });
    const lapAtHub = await jetstreamManager(lap.peersNc, { domain: 'siot_hub', checkAPI: false, timeout: 1_500 });
    await waitFor('the laptop link', () => lapAtHub.streams.info('inst_devB_hub').then(() => true, () => false));

    // A stream created for A's boundary after A connected (a device nested
    // under A) is granted at once, and readable over the link A already has.
    const leafLinks = async () => {
      const z = (await (await fetch(`http://127.0.0.1:${hub.server.ports.monitor}/leafz`)).json()) as { leafs?: Array<{ account: string; ip: string; port: number }> };
      // A reconnect would come from another source port.
      return (z.leafs ?? []).filter((l) => l.account === 'leaf_devA').map((l) => `${l.ip}:${l.port}`);
    };
    const linkBefore = await leafLinks();
    expect(linkBefore).toHaveLength(1);
    await hub.store.createNode('devA', 'device', [floatPoint('pollPeriod', 1_000)], 'ioA');
    expect(hub.store.streamRefs().some((r) => r.name === 'inst_ioA_hub')).toBe(true);
    await waitFor('device A to get the nested device', () => devA.store.state.nodePoint('ioA', 'pollPeriod', '0') !== undefined);
    expect(devA.store.state.nodePoint('devB', 'pollPeriod', '0')).toBeUndefined();
    expect(await leafLinks()).toEqual(linkBefore);
    // Granting changed no configuration: a reload that changes accounts
    // briefly leaves the hub's own JetStream API without responders.
    expect(hub.server.recentLog.filter((l) => /Reloaded/.test(l))).toEqual([]);
  });
});

describe('sync: what a device the laptop dials may reach', () => {
  it('reads only its own boundaries of the laptop, not the sites the laptop visited before', async () => {
    const devA = await topo.instances.start({ instanceId: 'devA', leafPort: -1, sync: { ...FAST_SYNC, role: 'device', want: 'own' } });
    await devA.store.writeNodePoints('devA', [floatPoint('temperature', 20)]);
    const link = await topo.proxyTo(devA);
    const lap = await topo.instances.start({
      instanceId: 'lap',
      peers: [{ url: link.url, credentials: devA.credentials.leaf, limited: true }],
      sync: { ...FAST_SYNC, role: 'laptop' },
    });
    // Another customer's device, commissioned earlier: its data is on the laptop.
    await lap.store.createNode('lap', 'device', [floatPoint('pollPeriod', 750)], 'devB');
    await waitFor('the laptop to capture device A', () => lap.store.state.nodePoint('devA', 'temperature', '0') !== undefined);
    await lap.store.writeNodePoints('devA', [floatPoint('pollPeriod', 250)]);
    await waitFor('device A to get its configuration', () => devA.store.state.nodePoint('devA', 'pollPeriod', '0')?.instance === 'lap');

    // The laptop's hellos to it name only its own boundary's streams.
    const heard = await nextHello(devA.peersNc, 'lap');
    expect(Object.keys(heard.seqs).sort()).toEqual(['inst_devA_devA', 'inst_devA_lap']);

    // Device A, acting on purpose, from the account the laptop's link lands in.
    const atLap = await jetstreamManager(devA.peersNc, { domain: 'siot_lap', checkAPI: false, timeout: 2_000 });
    expect((await atLap.streams.info('inst_devA_lap')).state.messages).toBeGreaterThan(0);
    await expect(atLap.streams.info('inst_devB_lap')).rejects.toThrow(/not readable/);
    await expect(atLap.consumers.add('inst_devB_lap', {})).rejects.toThrow(/not readable/);
    await expect(atLap.direct.getMessage('inst_devB_lap', { seq: 1 })).rejects.toThrow();
    await expect(atLap.streams.info('inst_lap_lap')).rejects.toThrow(/not readable/);
    expect(devA.store.state.nodePoint('devB', 'pollPeriod', '0')).toBeUndefined();

    // Nor can it serve the laptop another boundary's streams: a hello that
    // offers device B's streams, further along than the laptop's copies,
    // starts no replicator from device A for them.
    const forged = { id: 'devA', domain: 'siot_devA', role: 'device', wants: ['devA'], seqs: { inst_devA_devA: 1, inst_devB_lap: 99, inst_devB_devB: 50 } };
    for (let i = 0; i < 3; i++) {
      devA.peersNc.publish('siot.sync.hello.devA', new TextEncoder().encode(JSON.stringify(forged)));
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const sources = () => (lap.sync?.status().replicas ?? []).filter((r) => r.source === 'devA').map((r) => r.stream);
    expect(sources()).toEqual(['inst_devA_devA']);
    // Control: the same laptop on a trusted link (a hub's view) reads devB.
    const hub = await topo.instances.start({ instanceId: 'hub', leafPort: -1, sync: false });
    await lap.setPeers([
      { url: link.url, credentials: devA.credentials.leaf, limited: true },
      { url: hub.leafUrl, credentials: hub.credentials.leaf },
    ]);
    const hubAtLap = await jetstreamManager(hub.peersNc, { domain: 'siot_lap', checkAPI: false, timeout: 2_000 });
    await waitFor('the hub to read device B’s stream at the laptop', () => hubAtLap.streams.info('inst_devB_lap').then(() => true, () => false));
    await expect(atLap.streams.info('inst_devB_lap')).rejects.toThrow(/not readable/);
  });
});
