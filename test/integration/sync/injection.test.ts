import { afterEach, describe, expect, it } from 'vitest';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connectToServer } from '../../../app/nats/index.ts';
import { floatPoint, pointFloat, type Point } from '../../../app/siot/index.ts';
import { hubWithLimitedDevice } from '../../helpers/limited-device.ts';
import { FAST_SYNC, Topology, waitFor } from '../../helpers/topology.ts';

let topo = new Topology();
afterEach(async () => {
  await topo.dispose();
  topo = new Topology();
});

describe('sync: a limited device cannot make the hub store anything', () => {
  it('pull replies and push deliveries aimed at hub stream or write-API subjects leave the hub streams unchanged', async () => {
    const { hub, devA } = await hubWithLimitedDevice(topo);
    const hubJsm = await jetstreamManager(hub.nc);
    const before = await Promise.all(['inst_hub_hub', 'inst_devA_hub'].map((s) => hubJsm.streams.info(s).then((i) => i.state.messages)));

    // Device A, acting on purpose: consumers on the stream it may read, and
    // pull requests whose reply is a subject the hub itself stores or serves.
    const onDevA = await connectToServer(devA.server, 'devA-acting-on-purpose', { peers: true });
    const atHub = await jetstreamManager(onDevA, { domain: 'siot_hub', checkAPI: false, timeout: 2_000 });
    const consumer = () => atHub.consumers.add('inst_devA_hub', { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: 30_000_000_000 });
    const next = (name: string) => `$JS.siot_hub.API.CONSUMER.MSG.NEXT.inst_devA_hub.${name}`;
    const req = new TextEncoder().encode(JSON.stringify({ batch: 10, expires: 2_000_000_000 }));
    // Control: with an inbox reply the same request is answered with a delivery.
    const answered = await onDevA.request(next((await consumer()).name), req, { timeout: 3_000, noMux: true }).then(
      (m) => m.subject === 'inst.devA.hub.devA.p.pollPeriod.0',
      () => false,
    );
    expect(answered).toBe(true);
    for (const reply of ['inst.hub.hub.hub.p.injected.0', 'inst.devA.hub.devA.p.injected.0', 'p.hub.injected.0', 'p.devA.injected.0']) {
      const ci = await consumer();
      expect(ci.num_pending).toBeGreaterThan(0);
      onDevA.publish(next(ci.name), req, { reply });
    }
    await onDevA.flush();
    // A push consumer delivers to a subject of its creator's choosing (it is
    // created, but delivers into device A's account, not the hub's).
    for (const deliver of ['inst.hub.hub.hub.p.pushed.0', 'p.hub.pushed.0']) {
      await atHub.consumers.add('inst_devA_hub', { ack_policy: AckPolicy.None, deliver_subject: deliver, mem_storage: true }).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    await onDevA.close();

    const after = await Promise.all(['inst_hub_hub', 'inst_devA_hub'].map((s) => hubJsm.streams.info(s).then((i) => i.state.messages)));
    expect(after).toEqual(before);
    expect(hub.store.state.nodePoint('hub', 'injected', '0')).toBeUndefined();
    expect(hub.store.state.nodePoint('devA', 'injected', '0')).toBeUndefined();
  });
});

describe('sync: a trusted peer cannot make the hub store anything either', () => {
  it('pull replies aimed at hub stream or write-API subjects by a peer on the hub’s own leaf user leave the hub streams unchanged', async () => {
    const hub = await topo.instances.start({ instanceId: 'hub', leafPort: -1, sync: { ...FAST_SYNC, role: 'hub' } });
    await hub.store.createNode('hub', 'device', [], 'devA');
    await hub.store.writeNodePoints('devA', [floatPoint('pollPeriod', 250)]);
    await hub.store.writeNodePoints('hub', [floatPoint('pollPeriod', 500)]);
    const hubJsm = await jetstreamManager(hub.nc);
    const link = await topo.proxyTo(hub);
    // A laptop (or another full peer) with the hub's own leaf user: it syncs
    // everything, both ways.
    const lap = await topo.instances.start({
      instanceId: 'lap',
      leafPort: -1,
      peers: [{ url: link.url, credentials: hub.credentials.leaf }],
      sync: { ...FAST_SYNC, role: 'laptop' },
    });
    await waitFor('the laptop to get the hub configuration', () => {
      const p = lap.store.state.nodePoint('devA', 'pollPeriod', '0')?.point;
      return p !== undefined && pointFloat(p as Point) === 250 && lap.store.state.nodePoint('hub', 'pollPeriod', '0') !== undefined;
    });
    await lap.store.writeNodePoints('devA', [floatPoint('offset', 7)]);
    await waitFor('the hub to get the laptop write', () => hub.store.state.nodePoint('devA', 'offset', '0')?.instance === 'lap');
    await waitFor('the laptop to be safe to disconnect', () => lap.sync?.status().safeToDisconnect === true);
    const streams = ['inst_hub_hub', 'inst_devA_hub', 'inst_devA_lap'];
    const before = await Promise.all(streams.map((s) => hubJsm.streams.info(s).then((i) => i.state.messages)));

    // The laptop, acting on purpose: consumers on the hub's streams (all of
    // which it may read) and pull requests whose reply is a subject the hub
    // itself stores or serves.
    // Its calls to the hub leave from the account its remote is bound to.
    const onLap = await connectToServer(lap.server, 'lap-acting-on-purpose', { peers: true });
    const atHub = await jetstreamManager(onLap, { domain: 'siot_hub', checkAPI: false, timeout: 2_000 });
    const consumer = (stream: string) => atHub.consumers.add(stream, { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: 30_000_000_000 });
    const next = (stream: string, name: string) => `$JS.siot_hub.API.CONSUMER.MSG.NEXT.${stream}.${name}`;
    const req = new TextEncoder().encode(JSON.stringify({ batch: 10, expires: 2_000_000_000 }));
    // Control 1: with an inbox reply the same request is answered with a delivery.
    const control = await consumer('inst_hub_hub');
    const answered = await onLap.request(next('inst_hub_hub', control.name), req, { timeout: 3_000, noMux: true }).then(
      (m) => m.subject.startsWith('inst.hub.hub.'),
      () => false,
    );
    expect(answered).toBe(true);
    const sent: Array<{ stream: string; name: string }> = [];
    for (const stream of ['inst_hub_hub', 'inst_devA_hub']) {
      for (const reply of ['inst.hub.hub.hub.p.injected.0', 'inst.devA.hub.devA.p.injected.0', 'p.hub.injected.0', 'p.devA.injected.0']) {
        const ci = await consumer(stream);
        expect(ci.num_pending).toBeGreaterThan(0);
        onLap.publish(next(stream, ci.name), req, { reply });
        sent.push({ stream, name: ci.name });
      }
    }
    await onLap.flush();
    for (const deliver of ['inst.hub.hub.hub.p.pushed.0', 'p.hub.pushed.0']) {
      await atHub.consumers.add('inst_hub_hub', { ack_policy: AckPolicy.None, deliver_subject: deliver, mem_storage: true }).catch(() => undefined);
    }
    // Control 2: every one of those requests reached the hub's JetStream,
    // which delivered (to the reply subject the laptop chose).
    await waitFor('the hub JetStream to deliver to every injected reply', async () => {
      const infos = await Promise.all(sent.map((c) => hubJsm.consumers.info(c.stream, c.name)));
      return infos.every((i) => i.delivered.consumer_seq > 0);
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await onLap.close();

    const after = await Promise.all(streams.map((s) => hubJsm.streams.info(s).then((i) => i.state.messages)));
    expect(after).toEqual(before);
    expect(hub.store.state.nodePoint('hub', 'injected', '0')).toBeUndefined();
    expect(hub.store.state.nodePoint('devA', 'injected', '0')).toBeUndefined();
    expect(hub.store.state.nodePoint('hub', 'pushed', '0')).toBeUndefined();
    // The link still syncs afterwards.
    await lap.store.writeNodePoints('devA', [floatPoint('offset', 8)]);
    await waitFor('the hub to get the next laptop write', () => {
      const p = hub.store.state.nodePoint('devA', 'offset', '0')?.point;
      return p !== undefined && pointFloat(p as Point) === 8;
    });
  });
});

describe('sync: the instance we dial cannot make us store anything', () => {
  it('pull replies aimed at laptop stream or write-API subjects by the device the laptop dialled leave the laptop streams unchanged', async () => {
    // The laptop dials the device's leaf listener (the usual field set-up);
    // the device is the one acting on purpose this time.
    const dev = await topo.instances.start({ instanceId: 'dev', leafPort: -1, sync: { ...FAST_SYNC, role: 'device', want: 'own' } });
    await dev.store.writeNodePoints('dev', [floatPoint('temp', 20)]);
    const link = await topo.proxyTo(dev);
    const lap = await topo.instances.start({
      instanceId: 'lap',
      peers: [{ url: link.url, credentials: dev.credentials.leaf }],
      sync: { ...FAST_SYNC, role: 'laptop' },
    });
    await waitFor('the laptop to capture the device history', () => lap.store.state.nodePoint('dev', 'temp', '0') !== undefined);
    await lap.store.writeNodePoints('dev', [floatPoint('pollPeriod', 250)]);
    await waitFor('the device to get the laptop configuration', () => dev.store.state.nodePoint('dev', 'pollPeriod', '0')?.instance === 'lap');
    const lapJsm = await jetstreamManager(lap.nc);
    const streams = ['inst_dev_lap', 'inst_dev_dev'];
    const before = await Promise.all(streams.map((s) => lapJsm.streams.info(s).then((i) => i.state.messages)));

    // The device's side of the link: the account the laptop's connection
    // lands in there, which is where the device's own sync calls it from.
    const onDev = await connectToServer(dev.server, 'dev-acting-on-purpose', { peers: true });
    try {
      const atLap = await jetstreamManager(onDev, { domain: 'siot_lap', checkAPI: false, timeout: 2_000 });
      const consumer = (stream: string) => atLap.consumers.add(stream, { ack_policy: AckPolicy.None, mem_storage: true, inactive_threshold: 30_000_000_000 });
      const next = (stream: string, name: string) => `$JS.siot_lap.API.CONSUMER.MSG.NEXT.${stream}.${name}`;
      const req = new TextEncoder().encode(JSON.stringify({ batch: 10, expires: 2_000_000_000 }));
      // Control 1: with an inbox reply the same request is answered.
      const control = await consumer('inst_dev_lap');
      const answered = await onDev.request(next('inst_dev_lap', control.name), req, { timeout: 3_000, noMux: true }).then(
        (m) => m.subject.startsWith('inst.dev.lap.'),
        () => false,
      );
      expect(answered).toBe(true);
      const sent: Array<{ stream: string; name: string }> = [];
      for (const stream of streams) {
        for (const reply of ['inst.dev.lap.dev.p.injected.0', 'inst.lap.lap.lap.p.injected.0', 'p.dev.injected.0', 'p.lap.injected.0']) {
          const ci = await consumer(stream);
          expect(ci.num_pending).toBeGreaterThan(0);
          onDev.publish(next(stream, ci.name), req, { reply });
          sent.push({ stream, name: ci.name });
        }
      }
      // Writes through the laptop's JetStream API are refused outright.
      const purge = await atLap.streams.purge('inst_dev_lap').then(
        () => 'purged',
        (e: Error) => e.message,
      );
      expect(purge).not.toBe('purged');
      await onDev.flush();
      // Control 2: every request reached the laptop's JetStream, which
      // delivered (to the reply subject the device chose).
      await waitFor('the laptop JetStream to deliver to every injected reply', async () => {
        const infos = await Promise.all(sent.map((c) => lapJsm.consumers.info(c.stream, c.name)));
        return infos.every((i) => i.delivered.consumer_seq > 0);
      });
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      await onDev.close();
    }
    const after = await Promise.all(streams.map((s) => lapJsm.streams.info(s).then((i) => i.state.messages)));
    expect(after).toEqual(before);
    expect(lap.store.state.nodePoint('dev', 'injected', '0')).toBeUndefined();
    expect(lap.store.state.nodePoint('lap', 'injected', '0')).toBeUndefined();
    // The link still syncs both ways afterwards.
    await lap.store.writeNodePoints('dev', [floatPoint('pollPeriod', 500)]);
    await dev.store.writeNodePoints('dev', [floatPoint('temp', 21)]);
    await waitFor('the next configuration and reading to cross', () => {
      const c = dev.store.state.nodePoint('dev', 'pollPeriod', '0')?.point;
      const r = lap.store.state.nodePoint('dev', 'temp', '0')?.point;
      return c !== undefined && pointFloat(c as Point) === 500 && r !== undefined && pointFloat(r as Point) === 21;
    });
  });
});
