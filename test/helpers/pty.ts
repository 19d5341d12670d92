import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Fails early, with the fix, where socat is missing. */
export function requireSocat(): void {
  if (spawnSync('socat', ['-V']).error) throw new Error('these tests need socat to make pseudo-terminal pairs: install it (apt-get install socat)');
}

/** A real pseudo-terminal pair (socat) whose ends appear at `dir/a` and
 * `dir/b`, like the two ends of a null-modem cable. Killing it pulls the cable. */
export async function ptyPair(dir: string, a: string, b: string): Promise<ChildProcess> {
  const [pa, pb] = [join(dir, a), join(dir, b)];
  // Links left by a killed socat point at pty numbers the next one may reuse in another order.
  await Promise.all([rm(pa, { force: true }), rm(pb, { force: true })]);
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${pa}`, `pty,raw,echo=0,link=${pb}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const t0 = Date.now();
  while (!(existsSync(pa) && existsSync(pb)) && proc.exitCode === null) {
    if (Date.now() - t0 > 10_000) throw new Error(`socat did not create ${pa} and ${pb} within 10 s: ${log}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  if (proc.exitCode !== null) throw new Error(`socat exited with ${proc.exitCode}: ${log}`);
  return proc;
}

export async function killProcess(p: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = once(p, 'exit');
  p.kill(signal);
  await exited;
}
