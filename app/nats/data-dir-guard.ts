import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Data dirs with a server of this process, so two never share a store. */
export const dirsInUse = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // A zombie has exited; only its parent has not reaped it yet.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** The command line of a process (Linux), to tell our orphan from a stranger. */
function cmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return null;
  }
}

/**
 * A server left running by an app that was killed (SIGKILL, OOM, a crash)
 * still holds the store. If its pid file names a live nats-server started
 * with our config, stop it; if the pid is someone else's, refuse rather
 * than open the store twice.
 */
export function reclaimDataDir(dataDir: string): void {
  const pidFile = join(dataDir, 'nats-server.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const cmd = cmdline(pid);
  const confPath = join(dataDir, 'nats-server.conf.json');
  if (cmd === null || !cmd.includes(confPath)) {
    if (cmd !== null) return; // the pid was reused by an unrelated process
    throw new Error(`nats-server pid ${pid} from a previous run may still be using ${dataDir}; stop it, then start again`);
  }
  process.kill(pid, 'SIGKILL');
  const until = Date.now() + 5_000;
  while (alive(pid) && Date.now() < until) {
    // Busy-wait briefly: start() must not open the store while it is held.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}
