// The headless runner serves dist/renderer; from a source checkout it is
// (re)built first when missing or older than renderer/, so `npm start`
// always shows the UI the sources describe.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Returns the folder to serve; builds it with vite when stale. */
export function ensureRendererBuilt(root: string, log: (s: string) => void): string {
  const out = join(root, 'dist', 'renderer');
  const index = join(out, 'index.html');
  const src = join(root, 'renderer');
  if (!existsSync(src)) return out;
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(src)) return out;
  log('building the UI (renderer/ → dist/renderer)…');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(src, 'vite.config.ts'), '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the UI failed (see above); fix it or run `npm run build:renderer` to see why');
  return out;
}
