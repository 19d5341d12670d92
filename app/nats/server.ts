import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { deviceLinkClientUser, moveStoreToMainAccount, peersClientUser } from './accounts.ts';
import { parseLeafListenLine, parsePortsFile, renderConfig } from './config.ts';
import { dirsInUse, reclaimDataDir } from './data-dir-guard.ts';
import type { LeafUser, NatsServerOptions, ServerPorts, ServerState, ServerStatus } from './types.ts';

const LOG_TAIL = 60;
/** A run this long resets the restart backoff. */
const STABLE_MS = 30_000;
/** Consecutive failed launches before the supervisor gives up. */
const MAX_FAILED_LAUNCHES = 5;

export interface NatsServerEvents {
  state: [ServerState];
  log: [string];
  /** The server died without being asked to; `error` says how, with its log tail. */
  crash: [Error];
  /** The server is back after a crash, on the same ports. */
  restarted: [ServerPorts];
}

/** Every server this process started, so they die with it on a normal exit. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * A nats-server child process owned by the app: generated config, readiness
 * probe, graceful stop, restart with backoff after an unexpected exit.
 * Restarts reuse the ports of the first run, so connected clients (which
 * reconnect forever) find the server again without being told.
 */
export class NatsServer extends EventEmitter<NatsServerEvents> {
  readonly opts: Required<Pick<NatsServerOptions, 'readyTimeoutMs' | 'restart' | 'backoffMs' | 'maxBackoffMs'>> & NatsServerOptions;
  private child?: ChildProcess;
  private _state: ServerState = 'stopped';
  private _ports?: ServerPorts;
  private _version?: string;
  private stopping = false;
  private restarts = 0;
  private backoff: number;
  private restartTimer?: NodeJS.Timeout;
  private startedAt = 0;
  private lastError?: string;
  private readonly logTail: string[] = [];
  private leafPortFromLog?: number;
  private lastLogAt = 0;
  private confPorts: { client: number; monitor: number; leaf?: number } = { client: -1, monitor: -1 };
  private failedLaunches = 0;

  constructor(opts: NatsServerOptions) {
    super();
    this.opts = { readyTimeoutMs: 30_000, restart: true, backoffMs: 250, maxBackoffMs: 10_000, ...opts };
    this.backoff = this.opts.backoffMs;
  }

  get status(): ServerStatus {
    const s: ServerStatus = { state: this._state, restarts: this.restarts };
    if (this.child?.pid !== undefined && this._state === 'ready') s.pid = this.child.pid;
    if (this._version) s.version = this._version;
    if (this._ports) s.ports = { ...this._ports };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  get ports(): ServerPorts {
    if (!this._ports) throw new Error('nats-server has not started yet; await start() first');
    return this._ports;
  }

  /** Client URL (credentials are passed separately). */
  get url(): string {
    return `nats://${this.opts.host ?? '127.0.0.1'}:${this.ports.client}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get storeDir(): string {
    return join(this.opts.dataDir, 'jetstream-store');
  }

  /** The server's last log lines, for error reports. */
  get recentLog(): string[] {
    return [...this.logTail];
  }

  async start(): Promise<ServerPorts> {
    if (this._state !== 'stopped' && this._state !== 'failed') {
      throw new Error(`nats-server is ${this._state}; stop() it before starting it again`);
    }
    const dir = resolve(this.opts.dataDir);
    if (dirsInUse.has(dir)) throw new Error(`another nats-server of this app is using ${dir}; one data dir holds one store`);
    this.stopping = false;
    this.failedLaunches = 0;
    reclaimDataDir(this.opts.dataDir);
    dirsInUse.add(dir);
    try {
      return await this.launch();
    } catch (e) {
      dirsInUse.delete(dir);
      this.setState('failed');
      throw e;
    }
  }

  /** Graceful stop: SIGTERM, then SIGKILL if it has not exited in time. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      dirsInUse.delete(resolve(this.opts.dataDir));
      this.setState('stopped');
      return;
    }
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
    dirsInUse.delete(resolve(this.opts.dataDir));
    rmSync(join(this.opts.dataDir, 'nats-server.pid'), { force: true });
    this.setState('stopped');
  }

  /**
   * Replaces the restricted leaf users and makes the running server reload
   * its configuration (SIGHUP): no restart, so no link or client drops.
   * Limited users live in accounts of their own (accounts.ts): a reload
   * that changes them briefly leaves our JetStream API without responders
   * (2.10.27), so call this for a changed set of users only, never for a
   * stream granted (app/instance/leaf-api.ts checks streams per call).
   * Resolves once the server says it reloaded.
   */
  async setLeafUsers(users: LeafUser[]): Promise<void> {
    this.opts.leafUsers = users;
    const child = this.child;
    if (this._state !== 'ready' || !child?.pid) return; // the next launch uses them
    this.writeConfig();
    const reloaded = new Promise<void>((res, rej) => {
      const t = setTimeout(() => {
        this.off('log', onLog);
        rej(new Error(`nats-server did not confirm the configuration reload; last log:\n${this.logTail.slice(-5).join('\n')}`));
      }, 10_000);
      const onLog = (line: string) => {
        if (/Reloaded server configuration/.test(line)) {
          clearTimeout(t);
          this.off('log', onLog);
          res();
        } else if (/\[ERR\].*[Rr]eload/.test(line)) {
          clearTimeout(t);
          this.off('log', onLog);
          rej(new Error(`nats-server refused the new configuration: ${line}`));
        }
      };
      this.on('log', onLog);
    });
    process.kill(child.pid, 'SIGHUP');
    await reloaded;
  }

  /**
   * Applies options nats-server cannot reload (leaf remotes, in 2.10): a
   * graceful stop and a start on the same ports, so connected clients
   * reconnect by themselves. JetStream data is untouched.
   */
  async restartWith(patch: Partial<Pick<NatsServerOptions, 'leafRemotes' | 'leafReconnectMs' | 'leafUsers'>>): Promise<ServerPorts> {
    Object.assign(this.opts, patch);
    if (this._state !== 'ready') return this._ports ?? (await this.start());
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    this.stopping = false;
    const ports = await this.launch();
    this.restarts++;
    this.emit('restarted', ports);
    return ports;
  }

  /** Options for `@nats-io/transport-node` connect(): as our own user in
   * our account, the peers' (PEERS_ACCOUNT) or the device link's
   * (DEVICE_LINK_ACCOUNT). */
  clientConnectOptions(name: string, account: 'main' | 'peers' | 'device-link' = 'main'): { servers: string; user: string; pass: string; name: string } {
    const user = this.opts.clientCredentials.user;
    return {
      servers: this.url,
      user: account === 'peers' ? peersClientUser(user) : account === 'device-link' ? deviceLinkClientUser(user) : user,
      pass: this.opts.clientCredentials.password,
      name,
    };
  }

  private setState(s: ServerState): void {
    if (this._state === s) return;
    this._state = s;
    this.emit('state', s);
  }

  private async launch(): Promise<ServerPorts> {
    const { dataDir } = this.opts;
    const portsDir = join(dataDir, 'run');
    mkdirSync(portsDir, { recursive: true });
    for (const f of readdirSync(portsDir)) if (f.endsWith('.ports')) rmSync(join(portsDir, f), { force: true });
    const leafPort = this.leafPortSetting();
    // Restarts reuse the first run's ports; a reload must repeat exactly what
    // this process was started with (a changed port is refused on reload).
    this.confPorts = {
      client: this._ports?.client ?? this.opts.clientPort ?? -1,
      monitor: this._ports?.monitor ?? this.opts.monitorPort ?? -1,
      ...(leafPort !== undefined ? { leaf: this._ports?.leaf ?? leafPort } : {}),
    };
    const confPath = this.writeConfig();
    moveStoreToMainAccount(this.storeDir);

    this.setState(this._ports ? 'restarting' : 'starting');
    this.leafPortFromLog = undefined;
    // Its own process group (POSIX): Ctrl-C in the terminal reaches only us,
    // and we stop the server in order instead of seeing it "crash" mid-quit.
    // An orphan left by a killed app is reclaimed at the next start.
    const child = spawn(this.opts.binary, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: process.platform !== 'win32' });
    this.child = child;
    live.add(child);
    if (child.pid !== undefined) writeFileSync(join(dataDir, 'nats-server.pid'), `${child.pid}\n`);
    let buffered = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        this.lastLogAt = Date.now();
        this.logTail.push(line);
        if (this.logTail.length > LOG_TAIL) this.logTail.shift();
        const lp = parseLeafListenLine(line);
        if (lp !== undefined) this.leafPortFromLog = lp;
        const v = /Version:\s+(\S+)/.exec(line);
        if (v?.[1]) this._version = v[1];
        this.emit('log', line);
      }
    });
    const exit = new Promise<string>((res) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        res(signal ? `signal ${signal}` : `code ${code}`);
      });
      child.once('error', (e) => res(`spawn error: ${e.message}`));
    });
    void exit.then((how) => this.onExit(child, how));

    const ports = await Promise.race([this.waitReady(child, portsDir, leafPort !== undefined), exit.then((how) => {
      throw new Error(`nats-server exited during startup (${how}). Last log lines:\n${this.logTail.slice(-15).join('\n')}`);
    })]);
    this._ports = ports;
    this.startedAt = Date.now();
    this.setState('ready');
    return ports;
  }

  private leafPortSetting(): number | undefined {
    return this.opts.leafPort ?? (this.opts.leafCredentials ? -1 : undefined);
  }

  /** Writes the generated config for the current launch. */
  private writeConfig(): string {
    const p = this.confPorts;
    const conf = renderConfig({
      ...this.opts,
      storeDir: this.storeDir,
      portsDir: join(this.opts.dataDir, 'run'),
      clientPort: p.client,
      monitorPort: p.monitor,
      ...(p.leaf !== undefined ? { leafPort: p.leaf } : {}),
    });
    const confPath = join(this.opts.dataDir, 'nats-server.conf.json');
    // The config holds passwords: readable by the owner only.
    writeFileSync(confPath, conf, { mode: 0o600 });
    return confPath;
  }

  private async waitReady(child: ChildProcess, portsDir: string, wantLeaf: boolean): Promise<ServerPorts> {
    this.lastLogAt = Date.now();
    // A server recovering a large store logs as it goes: wait as long as it
    // makes progress, give up only after readyTimeoutMs of silence.
    const deadline = () => this.lastLogAt + this.opts.readyTimeoutMs;
    const portsFile = join(portsDir, `${basename(this.opts.binary).replace(/\.exe$/, '')}_${child.pid}.ports`);
    let base: { client: number; monitor: number } | undefined;
    let delay = 5;
    while (Date.now() < deadline()) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (!base && existsSync(portsFile)) {
        try {
          base = parsePortsFile(readFileSync(portsFile, 'utf8'));
        } catch {
          // Partially written; read it again on the next round.
        }
      }
      if (base && (!wantLeaf || this.leafPortFromLog !== undefined) && (await this.healthy(base.monitor))) {
        return wantLeaf ? { ...base, leaf: this.leafPortFromLog as number } : base;
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
    child.kill('SIGKILL');
    throw new Error(
      `nats-server did not become ready (no progress for ${this.opts.readyTimeoutMs} ms). Last log lines:\n${this.logTail.slice(-15).join('\n')}`,
    );
  }

  /** Server names of the leaf connections in `account` now. */
  async leafServerNames(account: string): Promise<string[]> {
    return (await this.leafConnections(account)).filter((l) => l.account === account).map((l) => l.name);
  }

  /** Our leaf connections now, all or one account's (monitoring `/leafz` on
   * our own server: nothing crosses a link). Empty while the server is not
   * ready or does not answer. */
  async leafConnections(account?: string): Promise<Array<{ account: string; name: string; ip: string; port: number }>> {
    if (this._state !== 'ready') return [];
    try {
      const q = account ? `?acc=${encodeURIComponent(account)}` : '';
      const res = await fetch(`http://${this.opts.host ?? '127.0.0.1'}:${this.ports.monitor}/leafz${q}`, { signal: AbortSignal.timeout(2_000) });
      const z = (await res.json()) as { leafs?: Array<{ name?: unknown; account?: unknown; ip?: unknown; port?: unknown }> };
      return (z.leafs ?? []).flatMap((l) =>
        typeof l.name === 'string' && typeof l.account === 'string' ? [{ account: l.account, name: l.name, ip: String(l.ip ?? ''), port: Number(l.port ?? 0) }] : [],
      );
    } catch {
      return [];
    }
  }

  /** JetStream-aware health probe: 200 only once streams are recovered. */
  private async healthy(monitorPort: number): Promise<boolean> {
    try {
      const res = await fetch(`http://${this.opts.host ?? '127.0.0.1'}:${monitorPort}/healthz`, {
        signal: AbortSignal.timeout(2_000),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  private onExit(child: ChildProcess, how: string): void {
    if (child !== this.child) return;
    if (this.stopping) {
      this.setState('stopped');
      return;
    }
    if (this._state === 'starting' || (this._state === 'restarting' && !this.restartTimer)) {
      // launch() reports this failure itself.
      return;
    }
    this.lastError = `nats-server exited unexpectedly (${how}). Last log lines:\n${this.logTail.slice(-15).join('\n')}`;
    this.setState('crashed');
    this.emit('crash', new Error(this.lastError));
    if (!this.opts.restart) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.backoff = this.opts.backoffMs;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs);
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopping) return;
      this.launch().then(
        (ports) => {
          this.restarts++;
          this.failedLaunches = 0;
          this.emit('restarted', ports);
        },
        (e: Error) => {
          this.lastError = e.message;
          if (this.stopping) return;
          this.emit('crash', e);
          if (++this.failedLaunches >= MAX_FAILED_LAUNCHES) {
            // Say so and stop trying: the UI shows the reason and what to do.
            this.lastError = `nats-server failed to start ${this.failedLaunches} times in a row; giving up. ${e.message}`;
            dirsInUse.delete(resolve(this.opts.dataDir));
            this.setState('failed');
            return;
          }
          this.scheduleRestart();
        },
      );
    }, delay);
  }
}
