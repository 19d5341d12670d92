// `npm start` without Electron: runs this laptop's SIOT instance (its own
// nats-server, the store and sync). With no device given it also runs a
// simulated device and a hub (demo), so a newcomer sees a live system.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Instance, type PeerLink } from '../instance/index.ts';
import { LinkManager, listSerialPorts, type LinkConfig } from '../link/index.ts';
import { jetStreamDomain } from '../nats/index.ts';
import { DeviceSim } from '../sim/index.ts';
import type { SyncStatus } from '../sync/index.ts';
import { intArg, onShutdown } from './args.ts';
import { defaultDataDir } from './data-dir.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    device: { type: 'string' },
    serial: { type: 'string' },
    baud: { type: 'string', default: '115200' },
    compress: { type: 'boolean' },
    'rate-bps': { type: 'string' },
    'latency-ms': { type: 'string' },
    'list-ports': { type: 'boolean' },
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
  process.stdout.write(`usage: npm start -- [--device HOST:PORT | --serial PATH] [--device-password P] [--hub URL --hub-password P] [--demo] [options]
  --device HOST:PORT  a device's leaf listener over Ethernet, e.g. 192.168.1.20:7422
  --serial PATH       a device on a serial line (it runs app/cli/serial-bridge.ts); --baud N (default 115200),
                      --compress, --rate-bps N and --latency-ms N to share or rehearse a slow link
  --list-ports        list serial ports and exit
  --hub URL         the hub's leaf listener
  --demo            also run a simulated device and hub (the default when no --device is given)
  --data-dir DIR    where the store lives (default ${defaultDataDir()}; env SIOT_DATA_DIR)
  --client-port N   nats-server client port on 127.0.0.1 (default: any free port)
  --disk-budget-mb  cap on JetStream storage; history is thinned above 90 %
`);
  process.exit(0);
}

if (values['list-ports']) {
  const ports = await listSerialPorts();
  if (ports.length === 0) process.stdout.write('no serial ports found\n');
  for (const p of ports) {
    const ids = p.vendorId ? ` [${p.vendorId}:${p.productId ?? '?'}]` : '';
    process.stdout.write(`${p.path}${p.manufacturer ? `  ${p.manufacturer}` : ''}${ids}${p.stablePath ? `  (${p.stablePath})` : ''}\n`);
  }
  process.exit(0);
}

const dataDir = values['data-dir'] ?? defaultDataDir();
const clientPort = intArg('client-port', values['client-port']);
const budgetMb = intArg('disk-budget-mb', values['disk-budget-mb']);
const demo = values.demo ?? !(values.device || values.serial);
const started: Array<{ stop: () => Promise<void> | void }> = [];

function password(what: string, given: string | undefined): string {
  if (!given) {
    process.stderr.write(`connecting to the ${what} needs --${what}-password (its leaf password; \`npm run sim\` prints it)\n`);
    process.exit(2);
  }
  return given;
}

/** The device link from the command line: Ethernet host:port or a serial port. */
function deviceLink(): LinkConfig | undefined {
  if (values.serial) {
    const cfg: LinkConfig = { kind: 'serial', path: values.serial, baudRate: intArg('baud', values.baud) ?? 115200 };
    if (values.compress) cfg.compress = true;
    const rate = intArg('rate-bps', values['rate-bps']);
    const latency = intArg('latency-ms', values['latency-ms']);
    if (rate) cfg.rateBps = rate;
    if (latency) cfg.latencyMs = latency;
    return cfg;
  }
  if (!values.device) return undefined;
  const m = /^(?:nats-leaf:\/\/)?([^:/]+):(\d+)\/?$/.exec(values.device);
  if (!m) {
    process.stderr.write(`--device wants HOST:PORT (the device's leaf listener), got "${values.device}"\n`);
    process.exit(2);
  }
  return { kind: 'ethernet', host: m[1] as string, port: Number(m[2]) };
}

try {
  const peers: PeerLink[] = [];
  // Links go through the link manager's slots, so a device can be plugged,
  // unplugged or moved from Ethernet to serial without restarting nats-server.
  const links = new LinkManager();
  started.unshift({ stop: () => links.stop() });
  const shown = new Map<string, string>();
  links.on('status', (st) => {
    const line = `link ${st.name}: ${st.state}${st.error ? ` (${st.error})` : ''}`;
    if (shown.get(st.name) !== line) process.stdout.write(line + '\n');
    shown.set(st.name, line);
  });
  const device = deviceLink();
  if (device) {
    const url = await links.addSlot('device');
    peers.push({ url, credentials: { user: values['device-user'] ?? 'leaf', password: password('device', values['device-password']) } });
    await links.connect('device', device);
  }
  if (values.hub) {
    peers.push({ url: values.hub, credentials: { user: values['hub-user'] ?? 'leaf', password: password('hub', values['hub-password']) } });
  }
  if (demo) {
    const demoDir = join(dataDir, 'demo');
    mkdirSync(demoDir, { recursive: true });
    const hub = await Instance.start({ dataDir: join(demoDir, 'hub'), leafPort: -1, description: 'demo hub', sync: { role: 'hub' } });
    started.unshift(hub);
    const demoDevice = await Instance.start({ dataDir: join(demoDir, 'device'), leafPort: -1, description: 'simulated device', sync: { role: 'device', want: 'own' } });
    started.unshift(demoDevice);
    const sim = new DeviceSim(demoDevice, { nodes: 30, pollPeriodMs: 1_000 });
    await sim.start();
    started.unshift({ stop: () => sim.stop() });
    const slot = await links.addSlot('demo-device');
    await links.connect('demo-device', { kind: 'ethernet', host: '127.0.0.1', port: demoDevice.server.ports.leaf as number });
    peers.push({ url: slot, credentials: demoDevice.credentials.leaf }, { url: hub.leafUrl, credentials: hub.credentials.leaf });
    process.stdout.write(`demo: simulated device ${demoDevice.id} (30 inputs at 1 Hz) and hub ${hub.id}\n`);
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
