import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { ShaperClock } from '../../../app/link/shaper.ts';

/** A clock whose time moves only when the test says so. */
export class ManualClock implements ShaperClock {
  t = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, seq: this.seq++, fn };
    this.timers.push(timer);
    return timer;
  }
  clearTimer(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Runs every timer due up to now + ms, in due order, moving time to each. */
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const next = this.timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = until;
  }
}

/** Two in-memory line ends; `tamper` sees (and may change) every chunk in flight. */
export function linePair(): { a: Duplex; b: Duplex; tamper: { aToB?: (c: Buffer) => Buffer; bToA?: (c: Buffer) => Buffer } } {
  const tamper: { aToB?: (c: Buffer) => Buffer; bToA?: (c: Buffer) => Buffer } = {};
  // eslint-disable-next-line prefer-const
  let b: Duplex;
  const a: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      // Delivered on a later tick, like a real line, so the two ends never re-enter each other.
      setImmediate(() => b.push(tamper.aToB ? tamper.aToB(chunk) : chunk));
      cb();
    },
  });
  b = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      setImmediate(() => a.push(tamper.bToA ? tamper.bToA(chunk) : chunk));
      cb();
    },
  });
  return { a, b, tamper };
}

/** Flips one byte of the next chunk of at least `minLen` bytes, once. */
export function flipOnce(minLen = 16): (c: Buffer) => Buffer {
  let done = false;
  return (c) => {
    if (done || c.length < minLen) return c;
    done = true;
    const out = Buffer.from(c);
    const i = Math.floor(out.length / 2);
    out[i] = (out[i] as number) ^ 0x5a;
    return out;
  };
}

export async function echoServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr ? addr.port : 0, sockets };
}

export async function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((res) => server.close(() => res()));
}

/**
 * Sends `data` through a TCP connection to `port` and collects what comes
 * back, checking each byte against what was sent as it arrives, so a wrong
 * byte is caught even if the connection is closed right after it.
 */
export async function echoThrough(port: number, data: Buffer, opts: { chunk?: number; pace?: number } = {}): Promise<{ received: Buffer; closedEarly: boolean; mismatchAt?: number }> {
  const sock = connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const got: Buffer[] = [];
  let n = 0;
  let mismatchAt: number | undefined;
  sock.on('data', (d: Buffer) => {
    for (let i = 0; i < d.length && mismatchAt === undefined; i++) if (d[i] !== data[n + i]) mismatchAt = n + i;
    n += d.length;
    got.push(d);
    if (n >= data.length) sock.end();
  });
  sock.on('error', () => {});
  // Not events.once: it rejects on 'error', and a write after the bridge cut the connection may fail with EPIPE.
  const closed = new Promise<void>((res) => sock.once('close', () => res()));
  const chunk = opts.chunk ?? 1024;
  for (let off = 0; off < data.length && !sock.destroyed; off += chunk) {
    sock.write(data.subarray(off, off + chunk));
    if (opts.pace) await new Promise((r) => setTimeout(r, opts.pace));
  }
  await closed;
  const received = Buffer.concat(got);
  return { received, closedEarly: received.length < data.length, ...(mismatchAt !== undefined ? { mismatchAt } : {}) };
}

export async function waitFor(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
