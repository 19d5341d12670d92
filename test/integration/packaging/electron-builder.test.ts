// Packs the desktop app with `electron-builder --dir` for this machine
// (Linux) using a stand-in Electron distribution (the real binary cannot be
// downloaded here), then checks what a technician's install would run: the
// asar holds the built main, preload and renderer and everything they
// import, and nats-server and serialport's native addon are where the
// runtime looks for them. Offline: electronDist + electronVersion mean no
// Electron download, npmRebuild false means no headers download, and the
// dir target needs none of the tools AppImage/deb/NSIS fetch.
import * as asar from '@electron/asar';
import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElectron, rendererIndex, root } from '../../../build/scripts/build-electron.mjs';
import { copyDevBinary, currentTarget } from '../../../build/scripts/fetch-nats-release.mjs';
import type { findNatsServer } from '../../../app/nats/binary.ts';

const ELECTRON_VERSION = (JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version;
const exe = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';
let work: string;
let unpacked: string;
let resources: string;
let archive: string;
let files: Set<string>;
let rendererBuilt: boolean;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'siot-pack-'));
  // The renderer (the UI issue) is built only when it is not yet and the UI
  // has a build configured; its absence then fails one test, clearly.
  buildElectron({ renderer: !existsSync(rendererIndex) });
  rendererBuilt = existsSync(rendererIndex);
  // Packaging ships the pinned release; offline, this machine's target gets
  // the binary `npm run setup` fetched instead (fetch-nats-release --dev).
  if (!existsSync(join(root, 'build', 'nats-server', currentTarget(), exe))) return copyDevBinary();
}, 120_000);

beforeAll(() => {
  // A stand-in Electron distribution: the executable electron-builder
  // renames to ours, plus the files a real one has beside it.
  const dist = join(work, 'electron-dist');
  mkdirSync(join(dist, 'resources'), { recursive: true });
  mkdirSync(join(dist, 'locales'), { recursive: true });
  writeFileSync(join(dist, 'electron'), '#!/bin/sh\necho "stand-in for Electron $0 $*"\n');
  chmodSync(join(dist, 'electron'), 0o755);
  writeFileSync(join(dist, 'version'), ELECTRON_VERSION);
  writeFileSync(join(dist, 'LICENSE'), 'stand-in');
  const out = join(work, 'out');
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'electron-builder', 'cli.js'),
      '--dir',
      '--linux',
      `--${process.arch}`,
      '--publish',
      'never',
      `-c.electronDist=${dist}`,
      `-c.electronVersion=${ELECTRON_VERSION}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${out}`,
    ],
    { cwd: root, encoding: 'utf8', timeout: 110_000, env: { ...process.env, CSC_IDENTITY_AUTO_DISCOVERY: 'false' } },
  );
  if (r.status !== 0) throw new Error(`electron-builder --dir failed (exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  unpacked = join(out, process.arch === 'x64' ? 'linux-unpacked' : `linux-${process.arch}-unpacked`);
  resources = join(unpacked, 'resources');
  archive = join(resources, 'app.asar');
  files = new Set(asar.listPackage(archive, { isPack: false }).map((f) => f.replaceAll('\\', '/')));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const text = (path: string) => asar.extractFile(archive, path.replace(/^\//, '')).toString('utf8');

/** Every module the file imports (static and dynamic), transitively, with
 * what did not resolve inside the asar. */
function importGraph(entry: string): { seen: string[]; missing: string[] } {
  const seen = new Set<string>();
  const missing: string[] = [];
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = text(file);
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const target = posix.join(posix.dirname(file), spec);
        if (files.has(target)) queue.push(target);
        else missing.push(`${file} → ${spec}`);
      } else if (!builtins.has(spec) && spec !== 'electron') {
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!files.has(`/node_modules/${pkg}/package.json`)) missing.push(`${file} → ${spec} (package not in the asar)`);
      }
    }
  }
  return { seen: [...seen], missing };
}

describe('electron-builder --dir with a stand-in Electron', () => {
  it('produces the app executable, its asar and its resources', () => {
    accessSync(join(unpacked, 'siot-field-commissioner'), constants.X_OK);
    expect(existsSync(archive)).toBe(true);
  });

  it('the asar holds the built main process, which package.json names', () => {
    const pkg = JSON.parse(text('/package.json')) as { main: string; type: string };
    expect(pkg.main).toBe('dist/app/main/main.js');
    expect(pkg.type).toBe('module');
    for (const f of ['main.js', 'desktop.js', 'ipc.js', 'security.js', 'menu.js']) expect(files.has(`/dist/app/main/${f}`), f).toBe(true);
    // What binary.js reads relative to itself (see build-electron.mjs).
    expect(JSON.parse(text('/dist/build/nats-server.json'))).toHaveProperty('minimum');
  });

  it('every module the main process imports is in the asar', () => {
    const { seen, missing } = importGraph('/dist/app/main/main.js');
    expect(missing).toEqual([]);
    expect(seen).toEqual(expect.arrayContaining(['/dist/app/service/index.js', '/dist/app/nats/binary.js']));
    // Development tools stay out of the installed app.
    for (const dev of ['electron', 'electron-builder', 'vitest', 'typescript', 'vite']) expect(files.has(`/node_modules/${dev}/package.json`), dev).toBe(false);
  });

  it('the asar holds the sandbox-ready preload', () => {
    const preload = text('/dist/app/main/preload.cjs');
    expect(preload).toMatch(/exposeInMainWorld\(['"]siot['"]/);
    expect(preload).not.toMatch(/^\s*(import|export)\s/m);
    expect([...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])).toEqual(['electron']);
  });

  it('the asar holds the built renderer, with relative asset URLs', () => {
    expect(rendererBuilt, `${rendererIndex} is missing: the renderer (UI issue) is not built yet. Add its vite config or a build:renderer script, then run npm run build:electron`).toBe(true);
    expect(files.has('/dist/renderer/index.html')).toBe(true);
    const html = text('/dist/renderer/index.html');
    // data: URLs (an empty favicon) are inline; everything else is a file.
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('data:'));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      // app://siot/ serves the folder: absolute or remote URLs would break or be blocked.
      expect(ref, `${ref} in index.html`).toMatch(/^\.\/|^[a-zA-Z0-9_-][^:]*$/);
      expect(files.has(posix.join('/dist/renderer', ref)), `${ref} is packed`).toBe(true);
    }
  });

  it('nats-server is where findNatsServer looks with resourcesPath, and the packed code finds it', () => {
    const bin = join(resources, 'nats-server', exe);
    accessSync(bin, constants.X_OK);
    // Run the packed binary.js (extracted) in plain Node, as the app would:
    // the packaged resource comes first.
    const extracted = join(work, 'extracted');
    asar.extractAll(archive, extracted);
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(extracted, 'dist', 'app', 'nats', 'binary.js')).href)});
      console.log(JSON.stringify(m.findNatsServer({ resourcesPath: ${JSON.stringify(resources)}, env: { PATH: '' } })));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const found = JSON.parse(r.stdout) as ReturnType<typeof findNatsServer>;
    expect(found).toMatchObject({ path: bin, source: 'packaged' });
    expect(found.version).toMatch(/^2\.(1\d|[2-9]\d)\.\d+$/);
  });

  it("serialport's native addon for this platform is unpacked from the asar and loads", () => {
    const pkgDir = 'node_modules/@serialport/bindings-cpp';
    const prebuilds = [...files].filter((f) => f.startsWith(`/${pkgDir}/prebuilds/linux-${process.arch}/`) && f.endsWith('.node'));
    expect(prebuilds.length).toBeGreaterThan(0);
    for (const f of prebuilds) {
      // Listed in the asar as unpacked (Electron redirects the load there) and really there.
      expect((asar.statFile(archive, f.slice(1)) as { unpacked?: boolean }).unpacked, f).toBe(true);
      expect(existsSync(join(resources, 'app.asar.unpacked', f)), f).toBe(true);
    }
    // node-gyp-build, as the packed bindings-cpp calls it, resolves and loads
    // the addon for this machine (N-API: the same file loads in Node and Electron).
    const dir = join(resources, 'app.asar.unpacked', pkgDir);
    const req = createRequire(join(work, 'extracted', pkgDir, 'package.json'));
    const nodeGypBuild = req('node-gyp-build') as { path(dir: string): string };
    const addon = nodeGypBuild.path(dir);
    expect(dirname(addon)).toBe(join(dir, 'prebuilds', `linux-${process.arch}`));
    expect(typeof (req(addon) as { open?: unknown }).open).toBe('function');
  });
});
