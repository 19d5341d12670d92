// The headless runner: the main-process service without Electron. Runs this
// laptop's SIOT instance (its own nats-server, the store and sync), serves
// the UI on 127.0.0.1 and prints the URL. With no device given it also runs
// a simulated device and a hub (the demo), so a newcomer sees a live system.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ConnectRequest, LinkConfig, SyncStatus } from '../client/index.ts';
import { startHeadless } from '../headless/index.ts';
import { listSerialPorts } from '../link/index.ts';
import { jetStreamDomain } from '../nats/index.ts';
import { defaultDataDir, startService } from '../service/index.ts';
import { intArg, onShutdown } from './args.ts';
import { ensureRendererBuilt } from './renderer-build.ts';

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
    'no-demo': { type: 'boolean' },
    'demo-hub': { type: 'string', default: 'auto' },
    'demo-device': { type: 'string', default: 'auto' },
    'demo-nodes': { type: 'string' },
    'demo-period-ms': { type: 'string' },
    'ui-port': { type: 'string' },
    'client-port': { type: 'string' },
    'disk-budget-mb': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm start -- [--device HOST:PORT | --serial PATH] [--device-password P] [--hub HOST:PORT --hub-password P] [--demo] [options]
  --device HOST:PORT  a device's leaf listener over Ethernet, e.g. 192.168.1.20:7422
  --serial PATH       a device on a serial line (it runs app/cli/serial-bridge.ts); --baud N (default 115200),
                      --compress, --rate-bps N and --latency-ms N to share or rehearse a slow link
  --list-ports        list serial ports and exit
  --hub HOST:PORT     the hub's leaf listener
  --demo              also run a simulated device and hub (the default when no device is given or saved)
  --no-demo           never run the demo
  --demo-hub MODE     auto (connect the demo hub at start, default) or manual (saved, connect it in the UI)
  --demo-device MODE  the same for the simulated device
  --demo-nodes N, --demo-period-ms N   size and rate of the simulated device (default 30 inputs at 1000 ms)
  --ui-port N         port of the UI on 127.0.0.1 (default: any free port)
  --data-dir DIR      where the store lives (default ${defaultDataDir()}; env SIOT_DATA_DIR)
  --client-port N     nats-server client port on 127.0.0.1 (default: any free port)
  --disk-budget-mb N  cap on JetStream storage; history is thinned above 90 %
  --quiet             print the URL and errors only
Connections made in the UI are saved in the data dir and made again at the next start.
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

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dataDir = values['data-dir'] ?? defaultDataDir();

function hostPort(what: string, v: string): { host: string; port: number } {
  const m = /^(?:nats-leaf:\/\/)?([^:/]+):(\d+)\/?$/.exec(v);
  if (!m) {
    process.stderr.write(`--${what} wants HOST:PORT (its leaf listener), got "${v}"\n`);
    process.exit(2);
  }
  return { host: m[1] as string, port: Number(m[2]) };
}

function password(what: string, given: string | undefined): string {
  if (!given) {
    process.stderr.write(`connecting to the ${what} needs --${what}-password (its leaf password; \`npm run sim\` prints it)\n`);
    process.exit(2);
  }
  return given;
}

function deviceRequest(): ConnectRequest | undefined {
  let link: LinkConfig | undefined;
  if (values.serial) {
    link = { kind: 'serial', path: values.serial, baudRate: intArg('baud', values.baud) ?? 115200 };
    if (values.compress) link.compress = true;
    const rate = intArg('rate-bps', values['rate-bps']);
    const latency = intArg('latency-ms', values['latency-ms']);
    if (rate) link.rateBps = rate;
    if (latency) link.latencyMs = latency;
  } else if (values.device) {
    link = { kind: 'ethernet', ...hostPort('device', values.device) };
  }
  if (!link) return undefined;
  return { role: 'device', link, user: values['device-user'] ?? 'leaf', password: password('device', values['device-password']) };
}

const device = deviceRequest();
const hub: ConnectRequest | undefined = values.hub
  ? { role: 'hub', link: { kind: 'ethernet', ...hostPort('hub', values.hub) }, user: values['hub-user'] ?? 'leaf', password: password('hub', values['hub-password']) }
  : undefined;
let savedDevice = false;
try {
  const c = JSON.parse(readFileSync(join(dataDir, 'connections.json'), 'utf8')) as { active?: { device?: unknown } };
  savedDevice = Boolean(c.active?.device) && !values.demo;
} catch {
  // No saved connections yet.
}
const demo = values['no-demo'] ? false : (values.demo ?? (!device && !savedDevice));
function mode(name: string, v: string | undefined): 'auto' | 'manual' {
  if (v !== 'auto' && v !== 'manual') {
    process.stderr.write(`--${name} is auto or manual, got "${v}"\n`);
    process.exit(2);
  }
  return v;
}
const demoHub = mode('demo-hub', values['demo-hub']);
const demoDevice = mode('demo-device', values['demo-device']);
const clientPort = intArg('client-port', values['client-port']);
const budgetMb = intArg('disk-budget-mb', values['disk-budget-mb']);
const demoNodes = intArg('demo-nodes', values['demo-nodes']);
const demoPeriod = intArg('demo-period-ms', values['demo-period-ms']);
const uiPort = intArg('ui-port', values['ui-port']);
const say = (s: string) => values.quiet || process.stdout.write(s + '\n');
const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

let stopAll: () => Promise<void> = async () => undefined;
onShutdown(() => stopAll());
try {
  const service = await startService({
    dataDir,
    mode: 'headless',
    appVersion: version,
    demo,
    demoHub,
    demoDevice,
    ...(device ? { device } : {}),
    ...(hub ? { hub } : {}),
    ...(demoNodes !== undefined ? { demoNodes } : {}),
    ...(demoPeriod !== undefined ? { demoPeriodMs: demoPeriod } : {}),
    ...(clientPort !== undefined ? { clientPort } : {}),
    ...(budgetMb !== undefined ? { diskBudgetBytes: budgetMb * 1024 * 1024 } : {}),
  });
  stopAll = () => service.stop();
  const rendererDir = process.env.SIOT_RENDERER_DIR ?? ensureRendererBuilt(root, say);
  const web = await startHeadless({ service, rendererDir, ...(uiPort !== undefined ? { port: uiPort } : {}) });
  stopAll = async () => {
    await web.close();
    await service.stop();
  };
  const { instance } = service;
  const { server } = instance;
  if (service.demo) say(`demo: simulated device ${service.demo.device.id} (${service.demo.sim.stats.inputs} inputs) and hub ${service.demo.hub.id}${demoHub === 'manual' || demoDevice === 'manual' ? ' (connect them in the UI: saved connections)' : ''}`);
  say(
    [
      `SIOT instance ${instance.id} running (nats-server ${server.status.version}, JetStream domain ${jetStreamDomain(instance.id)})`,
      `  data dir:   ${dataDir}`,
      `  NATS:       ${server.url}  (user "${instance.credentials.client.user}", password in ${dataDir}/credentials.json)`,
      `  monitor:    http://127.0.0.1:${server.ports.monitor}/jsz`,
    ].join('\n'),
  );
  // Always printed (also with --quiet): tests and scripts read this line.
  process.stdout.write(`UI: ${web.url}\n`);
  say('Open the UI link in a browser (it carries this launch\'s key). Press Ctrl-C to stop.');
  server.on('crash', (e: Error) => process.stderr.write(`siot: ${e.message.split('\n')[0]}; restarting\n`));
  server.on('restarted', () => process.stderr.write('siot: nats-server is back\n'));
  let last = '';
  const report = (s: SyncStatus) => {
    const line =
      // States and backlogs only: sequence numbers move every second.
      s.replicas.map((r) => `${r.stream} ${r.state}${r.pendingMessages ? ` (${r.pendingMessages} pending)` : ''}`).join('; ') +
      ` | safe to disconnect: ${s.safeToDisconnect ? 'yes' : 'no'}`;
    if (line !== last) say(`sync: ${line}`);
    last = line;
  };
  const timer = setInterval(() => instance.sync && report(instance.sync.status()), 5_000);
  timer.unref();
} catch (e) {
  process.stderr.write(`siot: could not start: ${(e as Error).message}\n`);
  await stopAll().catch(() => undefined);
  process.exit(1);
}
