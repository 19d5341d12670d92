// Decides what `npm start` runs: the desktop app when Electron's binary is
// there (and a display to show it on), else the headless runner. Kept apart
// from app/cli/launch.ts so a test can check every branch without starting
// anything.
//
// The electron npm package (45+) ships without its binary and downloads it
// on the first `require('electron')` from Node. That download cannot work
// offline and would hang `npm start`, so we never require it here: we read
// the same path.txt it writes once the binary is in place.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LaunchPlan = { mode: 'electron'; electron: string; args: string[]; note?: string } | { mode: 'headless'; reason: string };

export interface PlanInput {
  root: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  exists?: (path: string) => boolean;
  read?: (path: string) => string;
}

/** Options that only the headless runner has; with them we run it. */
const HEADLESS_ONLY = ['--help', '-h', '--list-ports'];
/** Device options of the headless runner: the desktop app connects from its UI. */
const CLI_CONNECTIONS = ['--device', '--serial', '--hub'];

/** The Electron executable, as the electron package would resolve it, or why not. */
export function locateElectron(input: Omit<PlanInput, 'args'>): { path: string } | { missing: string } {
  const exists = input.exists ?? existsSync;
  const read = input.read ?? ((p: string) => readFileSync(p, 'utf8'));
  const pkg = join(input.root, 'node_modules', 'electron');
  const pathTxt = join(pkg, 'path.txt');
  const rel = exists(pathTxt) ? read(pathTxt).trim() : undefined;
  const override = input.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const path = join(override, rel || (input.platform === 'win32' ? 'electron.exe' : 'electron'));
    return exists(path) ? { path } : { missing: `ELECTRON_OVERRIDE_DIST_PATH is set but ${path} does not exist` };
  }
  if (!exists(pkg)) return { missing: 'the electron package is not installed (run `npm ci`)' };
  if (!rel) return { missing: "Electron's binary is not installed (npm installs the electron package without it; `npx install-electron` downloads it where the network allows)" };
  const path = join(pkg, 'dist', rel);
  return exists(path) ? { path } : { missing: `Electron's binary ${path} is missing (\`npx install-electron\` downloads it)` };
}

export function planLaunch(input: PlanInput): LaunchPlan {
  const { args, env, platform } = input;
  if (env.SIOT_HEADLESS === '1') return { mode: 'headless', reason: 'SIOT_HEADLESS=1 asks for the headless runner' };
  const only = args.find((a) => HEADLESS_ONLY.includes(a));
  if (only) return { mode: 'headless', reason: `${only} is an option of the headless runner` };
  const found = locateElectron(input);
  if ('missing' in found) return { mode: 'headless', reason: found.missing };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { mode: 'headless', reason: 'there is no display (neither DISPLAY nor WAYLAND_DISPLAY is set) to show the desktop app on' };
  }
  const given = args.filter((a) => CLI_CONNECTIONS.some((c) => a === c || a.startsWith(`${c}=`)));
  // Like the headless runner, a bare `npm start` shows a simulated device.
  const electronArgs = args.length === 0 ? ['--demo'] : args;
  return {
    mode: 'electron',
    electron: found.path,
    args: electronArgs,
    ...(given.length ? { note: `${given.join(', ')}: the desktop app connects from its Connections screen; use SIOT_HEADLESS=1 for the command-line runner` } : {}),
  };
}
