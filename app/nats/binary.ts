import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const exe = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';
const here = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(here, '..', '..');

/** The nearest folder at or above this module holding `rel`: the same code
 * runs from app/ (tsx), dist/app/ (compiled) and app.asar/dist/app/
 * (packaged), and each keeps the pin and the cache at a different depth. */
function findUp(rel: string): string | undefined {
  let dir = here;
  for (;;) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

interface Pin {
  minimum: string;
}

/** The minimum server version, from the one file that pins nats-server. */
export function minimumVersion(): string {
  const file = findUp(join('build', 'nats-server.json'));
  if (!file) throw new Error(`build/nats-server.json not found above ${here}; the app is incomplete (reinstall, or run from a full checkout)`);
  const pin = JSON.parse(readFileSync(file, 'utf8')) as Pin;
  return pin.minimum;
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Runs `nats-server --version`; null when the file does not run. */
export function binaryVersion(path: string): string | null {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /v(\d+\.\d+\.\d+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.status === 0 && m?.[1] ? m[1] : null;
}

export interface FindOptions {
  /** Electron's `process.resourcesPath` in a packaged app. */
  resourcesPath?: string;
  env?: NodeJS.ProcessEnv;
  /** Folder `npm run setup` fills; defaults to the project's `.cache/nats-server/bin`. */
  cacheDir?: string;
}

export interface FoundBinary {
  path: string;
  version: string;
  /** Where it was found: packaged, env, cache or path. */
  source: 'packaged' | 'env' | 'cache' | 'path';
}

/** Finds a nats-server >= the pinned minimum: the packaged resource, then
 * `SIOT_NATS_SERVER`, then the project cache that `npm run setup` fills,
 * then PATH. Fails with an error that says how to get one. */
export function findNatsServer(opts: FindOptions = {}): FoundBinary {
  const env = opts.env ?? process.env;
  const min = minimumVersion();
  const candidates: Array<{ path: string; source: FoundBinary['source'] }> = [];
  if (opts.resourcesPath) candidates.push({ path: join(opts.resourcesPath, 'nats-server', exe), source: 'packaged' });
  if (env.SIOT_NATS_SERVER) candidates.push({ path: env.SIOT_NATS_SERVER, source: 'env' });
  const cached = join('.cache', 'nats-server', 'bin', exe);
  candidates.push({ path: opts.cacheDir ? join(opts.cacheDir, exe) : (findUp(cached) ?? join(projectRoot, cached)), source: 'cache' });
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir) candidates.push({ path: join(dir, exe), source: 'path' });
  }
  const rejected: string[] = [];
  for (const c of candidates) {
    const explicit = c.source === 'env';
    if (!existsSync(c.path)) {
      // A path the user named must not be silently replaced by another binary.
      if (explicit) throw new Error(`SIOT_NATS_SERVER=${c.path} does not exist; fix or unset it`);
      continue;
    }
    const version = binaryVersion(c.path);
    if (explicit && (!version || compareVersions(version, min) < 0)) {
      throw new Error(`SIOT_NATS_SERVER=${c.path} is ${version ?? 'not runnable'}; need nats-server >= ${min}`);
    }
    if (!version) {
      rejected.push(`${c.path} does not run`);
      continue;
    }
    if (compareVersions(version, min) < 0) {
      rejected.push(`${c.path} is ${version}`);
      continue;
    }
    return { path: c.path, version, source: c.source };
  }
  const seen = rejected.length ? ` (rejected: ${rejected.join('; ')})` : '';
  throw new Error(
    `no nats-server >= ${min} found${seen}. Run \`npm run setup\` to fetch the pinned one, ` +
      `or install nats-server >= ${min} and set SIOT_NATS_SERVER to its path.`,
  );
}
