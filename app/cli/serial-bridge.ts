// The device end of a serial link: runs on the device between its serial
// port and its nats-server leaf port, so a laptop on the other end of the
// cable can join as a leaf. `--listen` runs the app end instead, for trying
// a link by hand without the app.
import { parseArgs } from 'node:util';
import { SerialBridge, listSerialPorts, serialEndpoint, type BridgeStatus } from '../link/index.ts';
import { intArg, onShutdown } from './args.ts';

const usage = `usage: npx tsx app/cli/serial-bridge.ts --port PATH [--baud N] (--leaf HOST:PORT | --listen PORT) [options]
  --port        serial port, e.g. /dev/ttyUSB0 (--list shows what is present)
  --baud        baud rate (default 115200)
  --leaf        device side: nats-server leaf listener to dial for each session (e.g. 127.0.0.1:7422)
  --listen      app side: loopback TCP port for the leaf remote to dial (0 = any free port)
  --compress    app side: compress sessions; the device side follows what the app side asks for
  --rate-bps    cap on what this side sends down the line, bits/s
  --latency-ms  one-way latency added to what this side sends, ms
  --stats-s     seconds between stats lines (default 10, 0 = never)
  --list        list serial ports and exit
`;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    baud: { type: 'string', default: '115200' },
    leaf: { type: 'string' },
    listen: { type: 'string' },
    compress: { type: 'boolean', default: false },
    'rate-bps': { type: 'string' },
    'latency-ms': { type: 'string' },
    'stats-s': { type: 'string', default: '10' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});

function fail(msg: string): never {
  process.stderr.write(`serial-bridge: ${msg}\n${usage}`);
  process.exit(2);
}

if (values.help) {
  process.stdout.write(usage);
  process.exit(0);
}
if (values.list) {
  const ports = await listSerialPorts();
  if (!ports.length) process.stdout.write('no serial ports found\n');
  for (const p of ports) {
    const ids = p.vendorId ? ` ${p.vendorId}:${p.productId ?? '????'}` : '';
    process.stdout.write(`${p.path}${ids}${p.manufacturer ? ` ${p.manufacturer}` : ''}${p.serialNumber ? ` s/n ${p.serialNumber}` : ''}${p.stablePath ? ` (${p.stablePath})` : ''}\n`);
  }
  process.exit(0);
}
if (!values.port) fail('--port is required');
if (!values.leaf === (values.listen === undefined)) fail('give exactly one of --leaf HOST:PORT (device side) or --listen PORT (app side)');

let dialHost: string | undefined;
let dialPort: number | undefined;
if (values.leaf) {
  const m = /^(.*):(\d+)$/.exec(values.leaf);
  if (!m) fail(`--leaf must be HOST:PORT, got "${values.leaf}"`);
  dialHost = (m[1] as string).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  dialPort = Number(m[2]);
}
if (values.leaf && values.compress) process.stderr.write('serial-bridge: --compress has no effect on the device side: the app side decides per session\n');

const path = values.port;
const bridge = new SerialBridge({
  mode: values.leaf ? 'dial' : 'listen',
  line: serialEndpoint({ path, baudRate: intArg('baud', values.baud) ?? 115200 }),
  listenPort: intArg('listen', values.listen),
  dialHost,
  dialPort,
  compress: values.compress,
  rateBps: intArg('rate-bps', values['rate-bps']),
  latencyMs: intArg('latency-ms', values['latency-ms']),
});

const log = (msg: string) => process.stderr.write(`${new Date().toISOString()} serial-bridge: ${msg}\n`);
let lastError = '';
bridge.on('line-error', (e) => {
  // A missing port is retried every few seconds; say so once, not every time.
  if (e.message !== lastError) log(`${e.message} (retrying)`);
  lastError = e.message;
});
bridge.on('state', (s) => {
  if (s.line === 'open' && lastError) {
    log(`${path} open`);
    lastError = '';
  }
});
bridge.on('session', (e) => log(`session ${e.id} ${e.event}${e.reason ? `: ${e.reason}` : ''}`));
bridge.on('corrupt', (e) => log(`line damage: ${e.reason}, ${e.skipped} bytes discarded${e.session !== undefined ? `; ending session ${e.session}` : ''}`));

await bridge.start();
const st = bridge.status();
if (st.line === 'open') log(`${path} open`);
if (values.listen !== undefined) log(`listening on 127.0.0.1:${bridge.port}: point the leaf remote at nats-leaf://127.0.0.1:${bridge.port}`);
else log(`sessions dial ${dialHost}:${dialPort}`);

function statsLine(s: BridgeStatus): string {
  const t = s.stats;
  return (
    `line ${s.line}${s.session !== undefined ? `, session ${s.session}` : ''}; ` +
    `wire out ${t.lineBytesOut} in ${t.lineBytesIn} B; tcp in ${t.tcpBytesIn} out ${t.tcpBytesOut} B; ` +
    `frames out ${t.framesOut} in ${t.framesIn}; sessions ${t.sessions}; damage ${t.corruptEvents}; queued ${t.queuedBytes} B`
  );
}
const every = intArg('stats-s', values['stats-s']) ?? 10;
const timer = every > 0 ? setInterval(() => log(statsLine(bridge.status())), every * 1000) : undefined;
onShutdown(async () => {
  clearInterval(timer);
  await bridge.stop();
  log(statsLine(bridge.status()));
});
