#!/usr/bin/env node
// The system programs the test suite drives for real: socat (pseudo-terminal
// pairs for the serial tests) and Chromium (the UI's end-to-end tests; no
// browser is downloaded, Debian's is used). Installs the missing ones with
// apt-get when it can (root or sudo on Debian), else says what to install.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = [
  { pkg: 'socat', present: () => !spawnSync('socat', ['-V']).error },
  { pkg: 'chromium', present: () => existsSync(process.env.SIOT_CHROMIUM ?? '/usr/bin/chromium') },
];

const missing = wanted.filter((w) => !w.present()).map((w) => w.pkg);
if (missing.length === 0) process.exit(0);

const hasApt = !spawnSync('apt-get', ['--version']).error;
const root = process.getuid?.() === 0;
const sudo = !root && !spawnSync('sudo', ['-n', 'true']).error && spawnSync('sudo', ['-n', 'true']).status === 0;
if (!hasApt || (!root && !sudo)) {
  console.error(`setup: the tests need ${missing.join(' and ')}; install ${missing.length > 1 ? 'them' : 'it'} (e.g. \`sudo apt-get install -y ${missing.join(' ')}\`) and run again`);
  process.exit(1);
}
console.log(`setup: installing ${missing.join(', ')} with apt-get (once)`);
const run = (args) => {
  const cmd = root ? args[0] : 'sudo';
  const r = spawnSync(cmd, root ? args.slice(1) : ['-n', ...args], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.error(`setup: \`${args.join(' ')}\` failed; install ${missing.join(' ')} by hand and run again`);
    process.exit(1);
  }
};
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
