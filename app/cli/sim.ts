// `npm run sim -- --role device|hub`: a simulated device or hub from the
// command line. Both are real instances of our store with a leaf listener;
// print what a laptop needs to connect to them.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Instance } from '../instance/index.ts';
import { DeviceSim } from '../sim/index.ts';
import { CELLULAR_SYNC } from '../sync/index.ts';
import { intArg, onShutdown } from './args.ts';
import { defaultDataDir } from '../service/index.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'device' },
    'data-dir': { type: 'string' },
    'leaf-port': { type: 'string', default: '7422' },
    nodes: { type: 'string', default: '30' },
    period: { type: 'string', default: '1000' },
    cellular: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || (values.role !== 'device' && values.role !== 'hub')) {
  process.stdout.write(`usage: npm run sim -- --role device|hub [--data-dir DIR] [--leaf-port N] [--nodes N] [--period MS] [--cellular]
  --role       device: a simulated device with --nodes inputs sampling every --period ms (default 30, 1000)
               hub:    a hub that collects what laptops and devices upload
  --leaf-port  where laptops connect (default 7422; 0 = any free port)
  --cellular   sync timing for a metered link: fewer idle bytes, a silent link noticed later
`);
  process.exit(values.help ? 0 : 2);
}
const role = values.role;
const dataDir = values['data-dir'] ?? join(defaultDataDir(), 'sim', role);
const leafPort = intArg('leaf-port', values['leaf-port']) ?? 7422;
const inst = await Instance.start({
  dataDir,
  leafPort: leafPort === 0 ? -1 : leafPort,
  description: role === 'device' ? 'simulated device' : 'hub',
  sync: { ...(values.cellular ? CELLULAR_SYNC : {}), role, want: role === 'device' ? 'own' : 'all' },
});
let sim: DeviceSim | undefined;
if (role === 'device') {
  sim = new DeviceSim(inst, { nodes: intArg('nodes', values.nodes) ?? 30, pollPeriodMs: intArg('period', values.period) ?? 1_000 });
  await sim.start();
}
process.stdout.write(
  `simulated ${role} ${inst.id} running\n` +
    `  leaf URL:  ${inst.leafUrl}\n` +
    `  leaf user: ${inst.credentials.leaf.user}, password: ${inst.credentials.leaf.password}\n` +
    `  data dir:  ${dataDir}\n` +
    `connect a laptop with: npm start -- --${role} ${inst.leafUrl} --${role}-password ${inst.credentials.leaf.password}\n`,
);
onShutdown(async () => {
  sim?.stop();
  await inst.stop();
});
