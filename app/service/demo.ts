// The demo: a simulated device and a hub, each a real instance of our store
// with its own nats-server, so `npm start` with nothing plugged in shows a
// live system.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Instance } from '../instance/index.ts';
import { DeviceSim } from '../sim/index.ts';
import type { SyncOptions } from '../sync/index.ts';
import type { ActiveConnection } from './connections.ts';

export interface Demo {
  device: Instance;
  hub: Instance;
  sim: DeviceSim;
  deviceConnection: ActiveConnection;
  hubConnection: ActiveConnection;
  stop(): Promise<void>;
}

export interface DemoOptions {
  dir: string;
  nodes?: number;
  periodMs?: number;
  binary?: string;
  resourcesPath?: string;
  syncOptions?: Omit<SyncOptions, 'role' | 'want'>;
}

function connectionTo(inst: Instance): ActiveConnection {
  const port = inst.server.ports.leaf;
  if (port === undefined) throw new Error(`demo instance ${inst.id} has no leaf listener`);
  return { link: { kind: 'ethernet', host: '127.0.0.1', port }, user: inst.credentials.leaf.user, password: inst.credentials.leaf.password };
}

export async function startDemo(opts: DemoOptions): Promise<Demo> {
  mkdirSync(opts.dir, { recursive: true });
  const common = { ...(opts.binary ? { binary: opts.binary } : {}), ...(opts.resourcesPath ? { resourcesPath: opts.resourcesPath } : {}), leafPort: -1 };
  const hub = await Instance.start({ ...common, dataDir: join(opts.dir, 'hub'), description: 'demo hub', sync: { ...opts.syncOptions, role: 'hub' } });
  let device: Instance | undefined;
  try {
    device = await Instance.start({ ...common, dataDir: join(opts.dir, 'device'), description: 'simulated device', sync: { ...opts.syncOptions, role: 'device', want: 'own' } });
    const sim = new DeviceSim(device, { nodes: opts.nodes ?? 30, pollPeriodMs: opts.periodMs ?? 1_000 });
    await sim.start();
    const dev = device;
    return {
      device: dev,
      hub,
      sim,
      deviceConnection: connectionTo(dev),
      hubConnection: connectionTo(hub),
      async stop() {
        sim.stop();
        await Promise.allSettled([dev.stop(), hub.stop()]);
      },
    };
  } catch (e) {
    await device?.stop().catch(() => undefined);
    await hub.stop().catch(() => undefined);
    throw e;
  }
}
