import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { LinkState } from './types.ts';

export interface RelayTarget {
  host: string;
  port: number;
}

export interface RelayStatus {
  state: LinkState;
  bytesIn: number;
  bytesOut: number;
  sessions: number;
  error?: string;
  connectedSince?: number;
}

const CONNECT_TIMEOUT_MS = 5_000;

/** What a failed dial means for someone standing next to the device. */
export function describeDialError(e: NodeJS.ErrnoException, t: RelayTarget): string {
  const where = `${t.host}:${t.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `${where} refused the connection: is the device's nats-server (or its serial bridge) running and listening there?`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} is unreachable: check the cable and that this computer has an address on the device's network`;
    case 'ETIMEDOUT':
      return `no answer from ${where} within ${CONNECT_TIMEOUT_MS / 1000} s: check the address and any firewall`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot resolve "${t.host}": use the device's IP address`;
    default:
      return `connecting to ${where} failed: ${e.message}`;
  }
}

/**
 * A loopback port that the embedded nats-server's leaf remote always dials,
 * forwarded to whatever the link currently points at (a device's address,
 * or a serial bridge's loopback port). nats-server 2.10 cannot change leaf
 * remotes without a restart; the relay lets a link come and go, or move
 * from Ethernet to serial, while the server keeps running, and it counts
 * the bytes on the link.
 */
export class LinkRelay extends EventEmitter<{ status: [RelayStatus] }> {
  private server?: Server;
  private target: RelayTarget | null = null;
  private readonly live = new Set<Socket>();
  private readonly s: RelayStatus = { state: 'disconnected', bytesIn: 0, bytesOut: 0, sessions: 0 };
  port = 0;

  get status(): RelayStatus {
    return { ...this.s };
  }

  async start(port = 0): Promise<number> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((res, rej) => {
      this.server?.once('error', rej);
      this.server?.listen(port, '127.0.0.1', () => res());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  /** Points the link somewhere (ending any session to the old place), or
   * nowhere: then connections are refused and the leaf keeps retrying. */
  setTarget(target: RelayTarget | null): void {
    this.target = target;
    for (const s of this.live) s.destroy();
    this.live.clear();
    this.update(target ? 'connecting' : 'disconnected', { error: undefined, connectedSince: undefined });
  }

  async stop(): Promise<void> {
    this.setTarget(null);
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }

  private update(state: LinkState, patch: Partial<RelayStatus> = {}): void {
    Object.assign(this.s, patch, { state });
    if (patch.error === undefined && 'error' in patch) delete this.s.error;
    if (patch.connectedSince === undefined && 'connectedSince' in patch) delete this.s.connectedSince;
    this.emit('status', this.status);
  }

  private accept(local: Socket): void {
    const target = this.target;
    if (!target) {
      local.destroy();
      return;
    }
    this.live.add(local);
    const remote = connect({ host: target.host, port: target.port, timeout: CONNECT_TIMEOUT_MS });
    this.live.add(remote);
    remote.once('connect', () => {
      remote.setTimeout(0);
      this.s.sessions++;
      this.update('connected', { error: undefined, connectedSince: Date.now() });
    });
    remote.once('timeout', () => remote.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })));
    local.on('data', (d: Buffer) => {
      this.s.bytesOut += d.length;
      remote.write(d);
    });
    remote.on('data', (d: Buffer) => {
      this.s.bytesIn += d.length;
      local.write(d);
    });
    const close = (e?: Error) => {
      local.destroy();
      remote.destroy();
      this.live.delete(local);
      this.live.delete(remote);
      if (this.target !== target) return; // re-pointed or disconnected on purpose
      if (e && (e as NodeJS.ErrnoException).code) this.update('error', { error: describeDialError(e as NodeJS.ErrnoException, target), connectedSince: undefined });
      else if (this.s.state === 'connected' && this.live.size === 0) this.update('connecting', { connectedSince: undefined });
    };
    local.on('error', () => close());
    remote.on('error', (e) => close(e));
    local.on('close', () => close());
    remote.on('close', () => close());
  }
}
