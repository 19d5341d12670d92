// Builds the renderer once for the run, and checks that the browser is
// there with a message that says how to get it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export default function globalSetup(): void {
  const chromium = process.env.SIOT_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    throw new Error(`Chromium not found at ${chromium}: install it with \`apt-get install -y chromium\` (or set SIOT_CHROMIUM to a Chromium binary)`);
  }
  const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the renderer failed (see above)');
}
