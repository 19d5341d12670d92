#!/usr/bin/env node
// Puts the pinned nats-server into .cache/nats-server/ for development,
// tests and the headless runner. Plain JavaScript with no dependencies so it
// runs before anything is built.
//
// Debian 12 ships only nats-server 2.9.10, but the packages of Debian's
// testing/unstable suites (2.15.x, static but for libc) and of Debian 13
// (2.10.27) run on it. On Debian we fetch the newest testing/unstable package
// at or above the pin with apt-get through a private sources list and lists
// dir (the system's apt configuration is never touched), so apt's signed
// chain vouches for it; failing that, Debian 13's package with its pinned
// SHA-256. Elsewhere we download the pinned official release and check its
// SHA-256. `--peer` also fetches Debian 13's 2.10.27 for the mixed-version
// tests.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const pin = JSON.parse(readFileSync(join(root, 'build', 'nats-server.json'), 'utf8'));
export const cacheDir = join(root, '.cache', 'nats-server');
const exe = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';
export const cachedBinary = join(cacheDir, 'bin', exe);

const log = (msg) => process.stderr.write(`setup-nats: ${msg}\n`);

/** `nats-server --version` → "2.10.27", or null if it does not run. */
export function binaryVersion(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const m = /v(\d+\.\d+\.\d+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return r.status === 0 && m ? m[1] : null;
}

export function versionAtLeast(v, min) {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

function sha256File(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Debian sources of this machine, as [{ uri, signedBy }]: deb822 `.sources`
 * files and one-line `.list` files, main archive only (not security). */
export function debianSources(files) {
  const out = [];
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
        const uris = field('URIs');
        const suites = field('Suites') ?? '';
        if (!uris || !/\bdeb\b/.test(field('Types') ?? '')) continue;
        for (const uri of uris.split(/\s+/)) {
          if (/\/debian\/?$/.test(uri) && !/security/.test(suites)) {
            out.push({ uri, signedBy: field('Signed-By') });
          }
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (!m || !/\/debian\/?$/.test(m[2]) || /security/.test(m[3])) continue;
        out.push({ uri: m[2], signedBy: /signed-by=(\S+)/.exec(m[1] ?? '')?.[1] });
      }
    }
  }
  return out;
}

function readAptSources() {
  const files = [];
  const main = '/etc/apt/sources.list';
  if (existsSync(main)) files.push({ name: main, text: readFileSync(main, 'utf8') });
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) {
    for (const f of readdirSync(dir)) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push({ name: f, text: readFileSync(join(dir, f), 'utf8') });
    }
  }
  return files;
}

/** Private apt options for `suites`: its own sources list, lists and cache
 * under .cache/ (the system's apt configuration is never touched). */
function privateApt(name, suites) {
  const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
  const sources = debianSources(readAptSources());
  if (sources.length === 0) throw new Error('no Debian archive found in /etc/apt/sources.list{,.d}');
  const aptDir = join(root, '.cache', `apt-${name}`);
  mkdirSync(join(aptDir, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const list = [...new Set(sources.flatMap((s) => {
    const signedBy = s.signedBy && existsSync(s.signedBy) ? s.signedBy : keyring;
    return suites.map((suite) => `deb [signed-by=${signedBy}] ${s.uri} ${suite} main`);
  }))].join('\n');
  writeFileSync(join(aptDir, 'sources.list'), list + '\n');
  const opts = [
    '-o', `Dir::Etc::SourceList=${join(aptDir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(aptDir, 'lists')}`,
    '-o', `Dir::Cache=${join(aptDir, 'cache')}`,
    '-o', `APT::Architecture=${arch}`,
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Debug::NoLocking=1',
  ];
  execFileSync('apt-get', [...opts, '-qq', 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { arch, aptDir, opts };
}

/** Every version of `pkg` the private lists offer, newest first (apt-cache madison). */
export function madisonVersions(text) {
  return text.split('\n').map((l) => l.split('|').map((f) => f.trim())).filter((f) => f.length >= 3 && f[1]).map((f) => f[1]);
}

/** Debian's package version "2.15.1-1+b2" → the server's "2.15.1". */
export const upstreamOf = (debVersion) => debVersion.replace(/^\d+:/, '').replace(/[-+~].*$/, '');

/** Downloads `pkg=version` with the private apt and extracts the binary to
 * `dest`; checks `sha256` when given. Returns the .deb's SHA-256. */
function downloadDeb({ aptDir, opts }, pkg, version, dest, sha256) {
  const work = join(aptDir, 'download');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  execFileSync('apt-get', [...opts, '-qq', 'download', `${pkg}=${version}`], { cwd: work, stdio: ['ignore', 'ignore', 'inherit'] });
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download produced no .deb for ${pkg}=${version}`);
  const got = sha256File(join(work, deb));
  if (sha256 && got !== sha256) throw new Error(`${deb}: SHA-256 ${got} does not match the pin ${sha256}`);
  execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(join(work, 'x', 'usr', 'sbin', 'nats-server'), dest);
  chmodSync(dest, 0o755);
  rmSync(work, { recursive: true, force: true });
  return got;
}

/** The newest nats-server Debian's testing/unstable carry, if it is at or
 * above the pin. Those suites drop a version when a newer one lands, so an
 * exact pin would break the next fresh machine; apt's signed chain vouches
 * for whatever they carry. */
function fromDebianSuites(dest) {
  const { package: pkg, suites, atLeast } = pin.debian;
  const apt = privateApt('nats', suites);
  const out = execFileSync('apt-cache', [...apt.opts, 'madison', pkg], { encoding: 'utf8' });
  const candidates = madisonVersions(out).filter((v) => versionAtLeast(upstreamOf(v), atLeast));
  candidates.sort((a, b) => (versionAtLeast(upstreamOf(a), upstreamOf(b)) ? -1 : 1));
  const version = candidates[0];
  if (!version) throw new Error(`Debian ${suites.join('/')} carry no ${pkg} >= ${atLeast} (offered: ${madisonVersions(out).join(', ') || 'none'})`);
  log(`fetching ${pkg} ${version} from Debian ${suites.join('/')} (pin: >= ${atLeast}; private apt lists in ${apt.aptDir})`);
  const sha = downloadDeb(apt, pkg, version, dest);
  log(`${pkg}_${version}_${apt.arch}.deb SHA-256 ${sha} (signed Release chain checked by apt)`);
}

/** Debian 13's package, SHA-256 pinned: the fallback, and the 2.10 peer of
 * the mixed-version tests. */
function fromDebianFallback(dest) {
  const { package: pkg } = pin.debian;
  const { suite, version, sha256 } = pin.debian.fallback;
  const apt = privateApt(suite, [suite]);
  log(`fetching ${pkg} ${version} from Debian ${suite} (private apt lists in ${apt.aptDir})`);
  downloadDeb(apt, pkg, version, dest, sha256[apt.arch]);
}

/** The official release's platform name for this machine, e.g. linux-amd64. */
export function releasePlatform(platform = process.platform, arch = process.arch) {
  const os = { linux: 'linux', win32: 'windows', darwin: 'darwin' }[platform];
  const cpu = { x64: 'amd64', arm64: 'arm64', arm: 'arm7' }[arch];
  return os && cpu ? `${os}-${cpu}` : null;
}

/** Downloads and verifies the pinned release archive for `platform` into
 * `destDir`, returning the binary's path. Shared with the packaging script. */
export async function fetchRelease(platform, destDir) {
  const { version, url, sha256 } = pin.release;
  const want = sha256[platform];
  if (!want) {
    throw new Error(`no pinned SHA-256 for nats-server ${version} on ${platform}; install nats-server >= ${pin.minimum} yourself and set SIOT_NATS_SERVER to its path`);
  }
  const ext = platform.startsWith('windows') ? 'zip' : 'tar.gz';
  const href = url.replaceAll('{version}', version).replaceAll('{platform}', platform).replaceAll('{ext}', ext);
  log(`downloading ${href}`);
  let res;
  try {
    res = await fetch(href);
  } catch (e) {
    throw new Error(`cannot download ${href} (${e.cause?.code ?? e.message}); are you offline? Install nats-server >= ${pin.minimum} and set SIOT_NATS_SERVER`);
  }
  if (!res.ok) throw new Error(`download of ${href} failed: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(body).digest('hex');
  if (got !== want) throw new Error(`${href}: SHA-256 ${got} does not match the pin ${want}; not using it`);
  const work = join(destDir, '.download');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const archive = join(work, `nats.${ext}`);
  writeFileSync(archive, body);
  // bsdtar (Windows 10+, macOS) and GNU tar both unpack these archives.
  execFileSync('tar', ['-xf', archive, '-C', work]);
  const name = platform.startsWith('windows') ? 'nats-server.exe' : 'nats-server';
  const out = join(destDir, name);
  mkdirSync(destDir, { recursive: true });
  copyFileSync(join(work, `nats-server-v${version}-${platform}`, name), out);
  chmodSync(out, 0o755);
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** Where the mixed-version tests find the 2.10 peer (`npm run setup -- --peer`). */
export const peerBinary = join(cacheDir, 'peer', 'bin', exe);

function acceptable(path, min) {
  const v = existsSync(path) ? binaryVersion(path) : null;
  return v && versionAtLeast(v, min) ? v : null;
}

const debianLike = () => process.platform === 'linux' && have('apt-get') && have('dpkg-deb') && existsSync('/etc/debian_version');

export async function setup() {
  const min = pin.minimum;
  const env = process.env.SIOT_NATS_SERVER;
  if (env) {
    const v = binaryVersion(env);
    if (!v || !versionAtLeast(v, min)) throw new Error(`SIOT_NATS_SERVER=${env} is ${v ? `version ${v}` : 'not runnable'}; need >= ${min}`);
    return { path: env, version: v };
  }
  const current = acceptable(cachedBinary, pin.debian.atLeast);
  if (current) return { path: cachedBinary, version: current };

  const errors = [];
  if (debianLike()) {
    try {
      fromDebianSuites(cachedBinary);
    } catch (e) {
      errors.push(e.message);
      log(`Debian testing/unstable route failed: ${e.message}; falling back to Debian ${pin.debian.fallback.suite}'s ${pin.debian.fallback.serverVersion}`);
      try {
        fromDebianFallback(cachedBinary);
      } catch (e2) {
        errors.push(e2.message);
        log(`Debian ${pin.debian.fallback.suite} route failed: ${e2.message}; trying the official release`);
      }
    }
  }
  if (!acceptable(cachedBinary, min)) {
    const platform = releasePlatform();
    if (!platform) throw new Error(`unsupported platform ${process.platform}/${process.arch}: install nats-server >= ${min} and set SIOT_NATS_SERVER`);
    try {
      await fetchRelease(platform, dirname(cachedBinary));
    } catch (e) {
      throw new Error([...errors, e.message].join('; then: '));
    }
  }
  const v = binaryVersion(cachedBinary);
  if (!v || !versionAtLeast(v, min)) throw new Error(`${cachedBinary} reports ${v ?? 'nothing'}; need >= ${min}`);
  if (!versionAtLeast(v, pin.debian.atLeast)) log(`note: running on nats-server ${v}, below the pinned ${pin.debian.atLeast} (fallback)`);
  return { path: cachedBinary, version: v };
}

/** The 2.10 peer for the mixed-version tests (Debian 13's package); null
 * when it cannot be had here (those tests then say so and fail). */
export function setupPeer() {
  const want = pin.debian.fallback.serverVersion;
  if (existsSync(peerBinary) && binaryVersion(peerBinary) === want) return { path: peerBinary, version: want };
  if (!debianLike()) throw new Error(`the ${want} peer comes from Debian ${pin.debian.fallback.suite}'s package; this machine has no apt-get/dpkg-deb`);
  fromDebianFallback(peerBinary);
  return { path: peerBinary, version: binaryVersion(peerBinary) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  setup().then(
    ({ path, version }) => {
      log(`nats-server ${version} at ${path}`);
      if (process.argv.includes('--peer')) {
        const peer = setupPeer();
        log(`peer nats-server ${peer.version} at ${peer.path} (mixed-version tests)`);
      }
    },
    (e) => {
      log(`FAILED: ${e.message}`);
      process.exit(1);
    },
  );
}
