// `npm start` without Electron: runs this laptop's SIOT instance (its own
// nats-server, the store and sync). With no device given it also runs a
// simulated device and a hub (demo), so a newcomer sees a live system.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Instance, type PeerLink } from '../instance/index.ts';
import { jetStreamDomain } from '../nats/index.ts';
import { DeviceSim } from '../sim/index.ts';
import type { SyncStatus } from '../sync/index.ts';
import { intArg, onShutdown } from './args.ts';
import { defaultDataDir } from './data-dir.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    device: { type: 'string' },
    'device-user': { type: 'string', default: 'leaf' },
    'device-password': { type: 'string' },
    hub: { type: 'string' },
    'hub-user': { type: 'string', default: 'leaf' },
    'hub-password': { type: 'string' },
    demo: { type: 'boolean' },
    'client-port': { type: 'string' },
    'disk-budget-mb': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm start -- [--device URL --device-password P] [--hub URL --hub-password P] [--demo] [options]
  --device URL      a device's leaf listener, e.g. nats-leaf://192.168.1.20:7422
  --hub URL         the hub's leaf listener
  --demo            also run a simulated device and hub (the default when no --device is given)
  --data-dir DIR    where the store lives (default ${defaultDataDir()}; env SIOT_DATA_DIR)
  --client-port N   nats-server client port on 127.0.0.1 (default: any free port)
  --disk-budget-mb  cap on JetStream storage; history is thinned above 90 %
`);
  process.exit(0);
}

const dataDir = values['data-dir'] ?? defaultDataDir();
const clientPort = intArg('client-port', values['client-port']);
const budgetMb = intArg('disk-budget-mb', values['disk-budget-mb']);
const demo = values.demo ?? !values.device;
const started: Array<{ stop: () => Promise<void> | void }> = [];

function peer(url: string | undefined, user: string, password: string | undefined, what: string): PeerLink | undefined {
  if (!url) return undefined;
  if (!password) {
    process.stderr.write(`--${what} needs --${what}-password (the ${what}'s leaf password; \`npm run sim\` prints it)\n`);
    process.exit(2);
  }
  return { url, credentials: { user, password } };
}

try {
  const peers: PeerLink[] = [];
  const given = [peer(values.device, values['device-user'] ?? 'leaf', values['device-password'], 'device'), peer(values.hub, values['hub-user'] ?? 'leaf', values['hub-password'], 'hub')];
  for (const p of given) if (p) peers.push(p);
  if (demo) {
    const demoDir = join(dataDir, 'demo');
    mkdirSync(demoDir, { recursive: true });
    const hub = await Instance.start({ dataDir: join(demoDir, 'hub'), leafPort: -1, description: 'demo hub', sync: { role: 'hub' } });
    started.unshift(hub);
    const device = await Instance.start({ dataDir: join(demoDir, 'device'), leafPort: -1, description: 'simulated device', sync: { role: 'device', want: 'own' } });
    started.unshift(device);
    const sim = new DeviceSim(device, { nodes: 30, pollPeriodMs: 1_000 });
    await sim.start();
    started.unshift({ stop: () => sim.stop() });
    peers.push({ url: device.leafUrl, credentials: device.credentials.leaf }, { url: hub.leafUrl, credentials: hub.credentials.leaf });
    process.stdout.write(`demo: simulated device ${device.id} (30 inputs at 1 Hz) and hub ${hub.id}\n`);
  }
  const laptop = await Instance.start({
    dataDir,
    peers,
    sync: { role: 'laptop' },
    ...(clientPort !== undefined ? { clientPort } : {}),
    ...(budgetMb !== undefined ? { diskBudgetBytes: budgetMb * 1024 * 1024 } : {}),
  });
  started.unshift(laptop);
  const { server } = laptop;
  process.stdout.write(
    [
      `SIOT instance ${laptop.id} running (nats-server ${server.status.version}, JetStream domain ${jetStreamDomain(laptop.id)})`,
      `  data dir:   ${dataDir}`,
      `  NATS:       ${server.url}  (user "${laptop.credentials.client.user}", password in ${dataDir}/credentials.json)`,
      `  monitor:    http://127.0.0.1:${server.ports.monitor}/jsz`,
      `  peers:      ${peers.map((p) => p.url).join(', ') || 'none (give --device or --hub)'}`,
      'Press Ctrl-C to stop.',
    ].join('\n') + '\n',
  );
  server.on('crash', (e) => process.stderr.write(`siot: ${e.message.split('\n')[0]}; restarting\n`));
  server.on('restarted', () => process.stderr.write('siot: nats-server is back\n'));
  let last = '';
  const report = (s: SyncStatus) => {
    const line =
      s.replicas.map((r) => `${r.stream} ${r.state} ${r.pendingMessages ? `${r.pendingMessages} pending` : `@${r.lastOriginSeq}`}`).join('; ') +
      ` | safe to disconnect: ${s.safeToDisconnect ? 'yes' : 'no'}`;
    if (line !== last) process.stdout.write(`sync: ${line}\n`);
    last = line;
  };
  const timer = setInterval(() => laptop.sync && report(laptop.sync.status()), 5_000);
  timer.unref();
} catch (e) {
  process.stderr.write(`siot: could not start: ${(e as Error).message}\n`);
  for (const s of started) await s.stop();
  process.exit(1);
}

onShutdown(async () => {
  for (const s of started) await s.stop();
});
