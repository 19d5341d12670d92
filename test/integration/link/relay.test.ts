import { afterEach, describe, expect, it } from 'vitest';
import { createServer, connect, type Server } from 'node:net';
import { LinkRelay } from '../../../app/link/relay.ts';
import { floatPoint, pointFloat } from '../../../app/siot/index.ts';
import { FAST_SYNC, Topology, waitFor } from '../../helpers/topology.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res({ server, port: (server.address() as { port: number }).port })));
}

async function roundTrip(port: number, text: string): Promise<string> {
  const s = connect(port, '127.0.0.1');
  return new Promise((res, rej) => {
    s.once('data', (d) => {
      res(d.toString());
      s.destroy();
    });
    s.once('error', rej);
    s.once('close', () => res(''));
    s.write(text);
  });
}

describe('LinkRelay', () => {
  it('forwards to the current target, counts bytes, refuses when disconnected, and says why a dial failed', async () => {
    const { server, port } = await echoServer();
    closers.push(() => void server.close());
    const relay = new LinkRelay();
    await relay.start();
    closers.push(() => relay.stop());
    expect(await roundTrip(relay.port, 'x')).toBe(''); // no target yet: refused
    relay.setTarget({ host: '127.0.0.1', port });
    expect(await roundTrip(relay.port, 'hello')).toBe('hello');
    expect(relay.status).toMatchObject({ bytesOut: 5, bytesIn: 5, sessions: 1 });
    server.close();
    relay.setTarget({ host: '127.0.0.1', port });
    await roundTrip(relay.port, 'x');
    await waitFor('dial error', () => relay.status.state === 'error');
    expect(relay.status.error).toMatch(/refused the connection: is the device's nats-server .* running/);
    relay.setTarget(null);
    expect(relay.status.state).toBe('disconnected');
  });

  it('carries a leaf link: a laptop syncs with a device through it, across disconnect and reconnect', async () => {
    const topo = new Topology();
    closers.push(() => topo.dispose());
    const dev = await topo.start('reldev', 'device');
    const relay = new LinkRelay();
    await relay.start();
    closers.push(() => relay.stop());
    const lap = await topo.instances.start({
      instanceId: 'rellap',
      peers: [{ url: `nats-leaf://127.0.0.1:${relay.port}`, credentials: dev.credentials.leaf }],
      sync: { ...FAST_SYNC, role: 'laptop' },
    });
    const n = await dev.store.createNode('reldev', 'modbusIO', [floatPoint('value', 1)]);
    relay.setTarget({ host: '127.0.0.1', port: dev.server.ports.leaf as number });
    await waitFor('sync through the relay', () => lap.store.state.nodePoint(n, 'value', '0') !== undefined);
    expect(relay.status.state).toBe('connected');
    relay.setTarget(null);
    await waitFor('laptop sees the device go', () => lap.sync?.status().replicas.find((r) => r.stream === 'inst_reldev_reldev')?.state === 'offline');
    await dev.store.writeNodePoints(n, [floatPoint('value', 2)]);
    relay.setTarget({ host: '127.0.0.1', port: dev.server.ports.leaf as number });
    await waitFor('catch-up after reconnect', () => { const p = lap.store.state.nodePoint(n, 'value', '0')?.point; return p !== undefined && pointFloat(p) === 2; });
    expect(relay.status.bytesIn).toBeGreaterThan(0);
    expect(relay.status.sessions).toBeGreaterThanOrEqual(2);
  });
});

describe('Instance.setPeers', () => {
  it('restarts nats-server with new leaf remotes on the same ports; clients and sync carry on', async () => {
    const topo = new Topology();
    closers.push(() => topo.dispose());
    const dev = await topo.start('spdev', 'device');
    const lap = await topo.instances.start({ instanceId: 'splap', sync: { ...FAST_SYNC, role: 'laptop' } });
    const ports = { ...lap.server.ports };
    const n = await dev.store.createNode('spdev', 'modbusIO', [floatPoint('value', 7)]);
    await lap.setPeers([{ url: dev.leafUrl, credentials: dev.credentials.leaf }]);
    expect(lap.server.ports).toEqual(ports);
    await waitFor('sync after the restart', () => lap.store.state.nodePoint(n, 'value', '0') !== undefined);
    await lap.store.writeNodePoints('splap', [floatPoint('still', 1)]);
  });
});
