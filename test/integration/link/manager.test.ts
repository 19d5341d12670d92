// The whole path a technician's serial cable takes: device nats-server,
// device-side bridge, a real pty pair (socat) and the real serialport
// binding, the app-side bridge started by the link manager, the laptop's
// nats-server, replication. And the Ethernet path through the same slot.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkManager, SerialBridge, serialEndpoint, type LinkStatus } from '../../../app/link/index.ts';
import { floatPoint, pointFloat, type Point } from '../../../app/siot/index.ts';
import { killProcess, ptyPair, requireSocat } from '../../helpers/pty.ts';
import { FAST_SYNC, Topology, waitFor } from '../../helpers/topology.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function setup() {
  const topo = new Topology();
  cleanups.push(() => topo.dispose());
  const dev = await topo.start('ldev', 'device');
  const links = new LinkManager();
  cleanups.push(() => links.stop());
  const url = await links.addSlot('device');
  const lap = await topo.instances.start({ instanceId: 'llap', peers: [{ url, credentials: dev.credentials.leaf }], sync: { ...FAST_SYNC, role: 'laptop' } });
  const n = await dev.store.createNode('ldev', 'modbusIO', [floatPoint('pollPeriod', 1000)]);
  const replica = () => lap.sync?.status().replicas.find((r) => r.stream === 'inst_ldev_ldev');
  const valueOn = (i: typeof dev, type: string) => {
    const p = i.store.state.nodePoint(n, type, '0')?.point;
    return p === undefined ? undefined : pointFloat(p as Point);
  };
  return { dev, lap, links, n, replica, valueOn };
}

describe('LinkManager', () => {
  it('links a laptop to a device over a serial line and survives a pulled cable', async () => {
    requireSocat();
    const dir = await mkdtemp(join(tmpdir(), 'siot-link-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const { dev, lap, links, n, replica, valueOn } = await setup();
    let cable: ChildProcess = await ptyPair(dir, 'laptop', 'device');
    cleanups.push(() => killProcess(cable));
    // The device runs its side of the bridge between its serial port and its leaf port.
    const deviceBridge = new SerialBridge({
      mode: 'dial',
      line: serialEndpoint({ path: join(dir, 'device'), baudRate: 115200 }),
      dialPort: dev.server.ports.leaf as number,
      reopenMinMs: 50,
      reopenMaxMs: 300,
      keepaliveMs: 300,
    });
    await deviceBridge.start();
    cleanups.push(() => deviceBridge.stop());

    const seen: LinkStatus[] = [];
    links.on('status', (s) => seen.push(s));
    await links.connect('device', { kind: 'serial', path: join(dir, 'laptop'), baudRate: 115200, compress: true });
    await waitFor('history over the serial line', () => valueOn(lap, 'pollPeriod') === 1000);
    await lap.store.writeNodePoints(n, [floatPoint('pollPeriod', 200)]);
    await waitFor('configuration over the serial line', () => valueOn(dev, 'pollPeriod') === 200);
    expect(links.status('device')).toMatchObject({ state: 'connected', config: { kind: 'serial' } });
    expect(links.status('device').bytesIn).toBeGreaterThan(0);

    // Pull the cable, write on the device meanwhile, plug it back in.
    await killProcess(cable);
    await waitFor('the laptop to notice', () => replica()?.state === 'offline' || links.status('device').state !== 'connected');
    await dev.store.writeNodePoints(n, [floatPoint('value', 42)]);
    cable = await ptyPair(dir, 'laptop', 'device');
    await waitFor('catch-up after the cable is back', () => valueOn(lap, 'value') === 42, 60_000);
    expect(seen.some((s) => s.state === 'error' || s.state === 'connecting')).toBe(true);

    await links.disconnect('device');
    expect(links.status('device').state).toBe('disconnected');
  });

  it('says clearly when the serial port is missing, and links over Ethernet through the same slot', async () => {
    const { dev, lap, links, valueOn } = await setup();
    await links.connect('device', { kind: 'serial', path: '/dev/does-not-exist', baudRate: 115200 });
    await waitFor('the port error', () => links.status('device').state === 'error');
    expect(links.status('device').error).toMatch(/does-not-exist/);
    await expect(links.connect('device', { kind: 'ethernet', host: '127.0.0.1', port: 0 })).rejects.toThrow(/leaf port \(1-65535\)/);
    await links.connect('device', { kind: 'ethernet', host: '127.0.0.1', port: dev.server.ports.leaf as number });
    await waitFor('history over Ethernet', () => valueOn(lap, 'pollPeriod') === 1000);
    expect(links.status('device').state).toBe('connected');
  });
});
