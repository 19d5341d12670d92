// `npm start`: the desktop app when Electron's binary is available, else the
// headless runner (app/cli/start.ts), saying why. Arguments pass through.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planLaunch } from '../main/index.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const plan = planLaunch({ root, args, env: process.env, platform: process.platform });

if (plan.mode === 'headless') {
  process.stderr.write(`siot: not starting the desktop app: ${plan.reason}. Running headless instead.\n`);
  // Same process, same argv: start.ts reads its options from process.argv.
  await import('./start.ts');
} else {
  if (plan.note) process.stderr.write(`siot: ${plan.note}\n`);
  // Electron runs the compiled main, preload and renderer from dist/.
  const built = spawnSync(process.execPath, [join(root, 'build', 'scripts', 'build-electron.mjs')], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    process.stderr.write('siot: the build failed (see above); fix it, or run headless with SIOT_HEADLESS=1 npm start\n');
    process.exit(1);
  }
  const child = spawn(plan.electron, [root, ...plan.args], { cwd: root, stdio: 'inherit' });
  // Ctrl-C reaches Electron too (same process group); SIGTERM we pass on, so
  // its graceful quit (stop nats-server) runs either way.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (e) => {
    process.stderr.write(`siot: could not start ${plan.electron}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
