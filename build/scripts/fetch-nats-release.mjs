#!/usr/bin/env node
// Puts the pinned nats-server release binary for each packaging target into
// build/nats-server/<os>-<arch>/, where electron-builder.yml's extraResources
// picks it up (→ resources/nats-server/, where app/nats/binary.ts looks with
// `resourcesPath`). Each archive's SHA-256 is checked against
// build/nats-server.json by setup-nats.mjs's fetchRelease.
//
//   node build/scripts/fetch-nats-release.mjs              this machine's target
//   node build/scripts/fetch-nats-release.mjs win-x64 ...  named targets
//   node build/scripts/fetch-nats-release.mjs --all        every target we ship
//   node build/scripts/fetch-nats-release.mjs --dev        this machine, from the
//       binary `npm run setup` fetched (offline; for local test packages only)
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { binaryVersion, cachedBinary, fetchRelease, pin, setup } from './setup-nats.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const outRoot = join(root, 'build', 'nats-server');
/** Targets electron-builder.yml builds, as electron-builder names them (`${os}-${arch}`). */
export const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'linux-armv7l', 'win-x64', 'mac-x64', 'mac-arm64'];
const log = (msg) => process.stderr.write(`fetch-nats: ${msg}\n`);

/** electron-builder's `${os}-${arch}` → the nats-server release's platform name. */
export function releasePlatformFor(target) {
  const [os, arch] = target.split('-');
  const o = { linux: 'linux', win: 'windows', mac: 'darwin' }[os];
  const a = { x64: 'amd64', arm64: 'arm64', armv7l: 'arm7' }[arch];
  if (!o || !a) throw new Error(`unknown target ${target}; expected one of ${ALL_TARGETS.join(', ')}`);
  return `${o}-${a}`;
}

/** This machine as an electron-builder target. */
export function currentTarget(platform = process.platform, arch = process.arch) {
  const os = { linux: 'linux', win32: 'win', darwin: 'mac' }[platform];
  const a = { x64: 'x64', arm64: 'arm64', arm: 'armv7l' }[arch];
  if (!os || !a) throw new Error(`cannot package on ${platform}/${arch}`);
  return `${os}-${a}`;
}

const exeFor = (target) => (target.startsWith('win-') ? 'nats-server.exe' : 'nats-server');
const stampPath = (target) => join(outRoot, `${target}.json`);

function readStamp(target) {
  try {
    return JSON.parse(readFileSync(stampPath(target), 'utf8'));
  } catch {
    return null;
  }
}

/** The pinned release for `target`; kept when already fetched. */
export async function fetchTarget(target) {
  const dir = join(outRoot, target);
  const bin = join(dir, exeFor(target));
  const stamp = readStamp(target);
  if (existsSync(bin) && stamp?.source === 'release' && stamp.version === pin.release.version) {
    log(`${target}: nats-server ${stamp.version} already in ${dir}`);
    return bin;
  }
  const platform = releasePlatformFor(target);
  rmSync(dir, { recursive: true, force: true });
  try {
    await fetchRelease(platform, dir);
  } catch (e) {
    throw new Error(
      `${target}: ${e.message}. Packaging ships the pinned release (build/nats-server.json): ` +
        (pin.release.sha256[platform]
          ? 'connect to the network and run this again; for a local test package of this machine only, `npm run build:nats -- --dev` uses the binary `npm run setup` fetched.'
          : `add the SHA-256 of nats-server-v${pin.release.version}-${platform} (from the release's SHA256SUMS) to release.sha256 in build/nats-server.json.`),
    );
  }
  if (target === currentTarget()) {
    const v = binaryVersion(bin);
    if (v !== pin.release.version) throw new Error(`${bin} reports ${v ?? 'nothing'}, expected ${pin.release.version}`);
  }
  writeFileSync(stampPath(target), JSON.stringify({ source: 'release', version: pin.release.version, platform }, null, 2) + '\n');
  log(`${target}: nats-server ${pin.release.version} (SHA-256 verified) in ${dir}`);
  return bin;
}

/** This machine's target from the development binary (no download when
 * `npm run setup` has run). Not for distribution: it may be Debian's build. */
export async function copyDevBinary() {
  const target = currentTarget();
  const { path, version } = await setup();
  const dir = join(outRoot, target);
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, exeFor(target));
  const stamp = readStamp(target);
  if (stamp?.source === 'release' && existsSync(bin)) {
    log(`${target}: keeping the pinned release already in ${dir}`);
    return bin;
  }
  copyFileSync(path, bin);
  chmodSync(bin, 0o755);
  writeFileSync(stampPath(target), JSON.stringify({ source: 'dev', version, from: path }, null, 2) + '\n');
  log(`${target}: copied the development nats-server ${version} from ${path === cachedBinary ? 'the setup cache' : path} (not for distribution)`);
  return bin;
}

async function main(argv) {
  if (argv.includes('--dev')) return void (await copyDevBinary());
  const named = argv.filter((a) => !a.startsWith('--'));
  const targets = argv.includes('--all') ? ALL_TARGETS : named.length ? named : [currentTarget()];
  const failed = [];
  for (const t of targets) {
    try {
      await fetchTarget(t);
    } catch (e) {
      failed.push(e.message);
    }
  }
  if (failed.length) throw new Error(failed.join('\n  '));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e) => {
    log(`FAILED:\n  ${e.message}`);
    process.exit(1);
  });
}
