// `npm start` without Electron: runs this laptop's SIOT instance (its own
// nats-server and the store) until Ctrl-C, then shuts down gracefully.
import { parseArgs } from 'node:util';
import { Instance } from '../instance/index.ts';
import { jetStreamDomain } from '../nats/index.ts';
import { defaultDataDir } from './data-dir.ts';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    'client-port': { type: 'string' },
    'leaf-port': { type: 'string' },
    'disk-budget-mb': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm start -- [--data-dir DIR] [--client-port N] [--leaf-port N] [--disk-budget-mb N]
  --data-dir        where the store lives (default ${defaultDataDir()}; env SIOT_DATA_DIR)
  --client-port     nats-server client port on 127.0.0.1 (default: any free port)
  --leaf-port       open a leaf listener for other instances on 127.0.0.1
  --disk-budget-mb  cap on JetStream storage; history is thinned above 90 %
`);
  process.exit(0);
}

function intArg(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`--${name} must be a whole number, got "${v}"\n`);
    process.exit(2);
  }
  return n;
}

const dataDir = values['data-dir'] ?? defaultDataDir();
const clientPort = intArg('client-port', values['client-port']);
const leafPort = intArg('leaf-port', values['leaf-port']);
const budgetMb = intArg('disk-budget-mb', values['disk-budget-mb']);
let instance: Instance;
try {
  instance = await Instance.start({
    dataDir,
    ...(clientPort !== undefined ? { clientPort } : {}),
    ...(leafPort !== undefined ? { leafPort } : {}),
    ...(budgetMb !== undefined ? { diskBudgetBytes: budgetMb * 1024 * 1024 } : {}),
  });
} catch (e) {
  process.stderr.write(`siot: could not start: ${(e as Error).message}\n`);
  process.exit(1);
}

const { server, store } = instance;
const stats = await store.streamStats();
process.stdout.write(
  [
    `SIOT instance ${instance.id} running (nats-server ${server.status.version}, JetStream domain ${jetStreamDomain(instance.id)})`,
    `  data dir:   ${dataDir}`,
    `  NATS:       ${server.url}  (user "${instance.credentials.client.user}", password in ${dataDir}/credentials.json)`,
    server.ports.leaf ? `  leaf port:  ${server.ports.leaf}` : '',
    `  monitor:    http://127.0.0.1:${server.ports.monitor}/jsz`,
    `  nodes:      ${store.state.nodeIds().length}, current points: ${store.state.pointCount}, streams: ${stats.map((s) => `${s.name} (${s.messages} msgs)`).join(', ')}`,
    'Press Ctrl-C to stop.',
  ]
    .filter(Boolean)
    .join('\n') + '\n',
);

server.on('crash', (e) => process.stderr.write(`siot: ${e.message.split('\n')[0]}; restarting\n`));
server.on('restarted', () => process.stderr.write('siot: nats-server is back\n'));

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`siot: ${signal}: stopping\n`);
  await instance.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
