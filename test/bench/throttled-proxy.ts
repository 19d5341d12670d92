import { connect, createServer, type Server, type Socket } from 'node:net';

/** Options of a ThrottledProxy. */
export interface ThrottledProxyOptions {
  /** Link rate per direction in bits/s; 0 or undefined = no cap. */
  rateBps?: number;
  /** Added one-way latency (ms). */
  latencyMs?: number;
  /** Bytes queued per direction before the proxy stops reading (default:
   * 2 s of link time, at least 4 KiB; 256 KiB without a cap). */
  queueLimitBytes?: number;
  /** Token bucket depth in bytes (default 512). */
  burstBytes?: number;
  /** Sees every piece as it crosses the link (diagnostics). */
  tap?: (dir: Direction, data: Buffer) => void;
}

export type Direction = 'up' | 'down';
export type BlackholeMode = 'drop' | 'stall';

interface Conn {
  client: Socket;
  upstream: Socket | undefined;
  alive: boolean;
  /** Lived through a `drop` blackhole: reset on restore. */
  holed: boolean;
}

interface Chunk {
  conn: Conn;
  buf: Buffer;
}

/** One direction of the link: its bucket, queue and counters. */
class Lane {
  readonly queue: Chunk[] = [];
  queued = 0;
  tokens: number;
  last = performance.now();
  timer: NodeJS.Timeout | undefined;
  bytes = 0;
  dropped = 0;
  chunks = 0;

  constructor(
    readonly dir: Direction,
    readonly bytesPerMs: number,
    readonly burst: number,
    readonly limit: number,
  ) {
    this.tokens = burst;
  }
}

/**
 * A loopback TCP proxy that stands in for a slow link (Cat-M, a serial
 * bridge) between two instances' leaf connection:
 * - a bandwidth cap per direction (token bucket, bits/s; 0 = no cap),
 *   shared by every connection through the proxy, as a link would be;
 * - optional added one-way latency (ms);
 * - a bounded queue per direction in front of the bucket: when it is full
 *   the proxy stops reading, so TCP flow control pushes back on the sender
 *   (what a real bottleneck does; the kernel's socket buffers on both
 *   loopback hops still add their own queue, as a bloated modem would);
 * - byte counters per direction (bytes that crossed the link, i.e. left
 *   the bucket; TCP/IP headers are not counted);
 * - `cut()`: destroys every connection and refuses new ones until
 *   `restore()` (a link that is plainly gone: both ends see a close);
 * - `blackhole()`: keeps sockets open but nothing arrives at the other end
 *   (a silent outage: neither side is told) until `restore()`. Two modes:
 *   - `drop` (default): everything sent meanwhile is discarded, senders never
 *     block. A TCP connection cannot lose bytes and carry on, so `restore()`
 *     resets the connections that lived through the drop (as after a NAT
 *     rebinding or an address change: the old connection is dead, the ends
 *     learn it as traffic resumes) and the remotes reconnect. Forwarding on
 *     the old connection instead would splice a corrupted byte stream, whose
 *     outcome depends on where the cut fell (a compressed leaf connection was
 *     seen to hang silently until the ping timeout);
 *   - `stall`: bytes are held and delivered after the outage, the way TCP
 *     over a dead radio link keeps the connection and retransmits; once the
 *     queue is full the proxy stops reading, so the senders block.
 *
 * "up" is from the dialling side (the laptop) to the target (the device's
 * leaf listener), "down" the other way.
 *
 * Start it before the listener's instance and give that instance
 * `leafAdvertise: proxy.address`; a leaf listener otherwise advertises an
 * address remotes reconnect to around the proxy.
 */
export class ThrottledProxy {
  private server?: Server;
  private readonly conns = new Set<Conn>();
  private up = true;
  private hole: BlackholeMode | undefined;
  private targetPort = 0;
  private readonly lanes: Record<Direction, Lane>;
  readonly rateBps: number;
  readonly latencyMs: number;
  private readonly tap: ThrottledProxyOptions['tap'];
  port = 0;
  /** Connections accepted (a reconnect shows as one more). */
  connections = 0;

  constructor(opts: ThrottledProxyOptions = {}) {
    this.rateBps = opts.rateBps ?? 0;
    this.latencyMs = opts.latencyMs ?? 0;
    this.tap = opts.tap;
    const bytesPerMs = this.rateBps > 0 ? this.rateBps / 8 / 1000 : Infinity;
    const burst = this.rateBps > 0 ? (opts.burstBytes ?? 512) : Infinity;
    const limit = opts.queueLimitBytes ?? (this.rateBps > 0 ? Math.max(4096, Math.round(bytesPerMs * 2000)) : 256 * 1024);
    this.lanes = { up: new Lane('up', bytesPerMs, burst, limit), down: new Lane('down', bytesPerMs, burst, limit) };
  }

  /** Bytes that crossed the link from the dialling side to the target. */
  get bytesUp(): number {
    return this.lanes.up.bytes;
  }

  /** Bytes that crossed the link from the target to the dialling side. */
  get bytesDown(): number {
    return this.lanes.down.bytes;
  }

  get bytesTotal(): number {
    return this.lanes.up.bytes + this.lanes.down.bytes;
  }

  /** Bytes discarded by a `drop` blackhole, per direction. */
  get dropped(): { up: number; down: number } {
    return { up: this.lanes.up.dropped, down: this.lanes.down.dropped };
  }

  /** Bytes waiting in the proxy's queues (not counting kernel buffers). */
  get queued(): { up: number; down: number } {
    return { up: this.lanes.up.queued, down: this.lanes.down.queued };
  }

  counters(): { up: number; down: number; total: number } {
    return { up: this.bytesUp, down: this.bytesDown, total: this.bytesTotal };
  }

  get openConnections(): number {
    return this.conns.size;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get url(): string {
    return `nats-leaf://127.0.0.1:${this.port}`;
  }

  /** Where connections go; set once the target listens. */
  target(port: number): this {
    this.targetPort = port;
    return this;
  }

  async start(port = 0): Promise<number> {
    this.server = createServer({ noDelay: true }, (client) => this.accept(client));
    await new Promise<void>((res) => this.server?.listen(port, '127.0.0.1', res));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  private accept(client: Socket): void {
    if (!this.up || !this.targetPort) {
      client.destroy();
      return;
    }
    this.connections++;
    const conn: Conn = { client, upstream: undefined, alive: true, holed: this.hole === 'drop' };
    this.conns.add(conn);
    const upstream = connect({ port: this.targetPort, host: '127.0.0.1', noDelay: true });
    conn.upstream = upstream;
    const close = () => this.drop(conn);
    for (const s of [client, upstream]) {
      s.on('close', close);
      s.on('error', close);
    }
    client.on('data', (d: Buffer) => this.onData(conn, 'up', d));
    upstream.on('data', (d: Buffer) => this.onData(conn, 'down', d));
    client.on('drain', () => this.flow(conn, 'down'));
    upstream.on('drain', () => this.flow(conn, 'up'));
  }

  private drop(conn: Conn): void {
    if (!conn.alive) return;
    conn.alive = false;
    conn.client.destroy();
    conn.upstream?.destroy();
    this.conns.delete(conn);
    for (const lane of Object.values(this.lanes)) {
      for (let i = lane.queue.length - 1; i >= 0; i--) {
        const c = lane.queue[i] as Chunk;
        if (c.conn === conn) {
          lane.queued -= c.buf.length;
          lane.queue.splice(i, 1);
        }
      }
    }
  }

  private src(conn: Conn, dir: Direction): Socket | undefined {
    return dir === 'up' ? conn.client : conn.upstream;
  }

  private dst(conn: Conn, dir: Direction): Socket | undefined {
    return dir === 'up' ? conn.upstream : conn.client;
  }

  private onData(conn: Conn, dir: Direction, d: Buffer): void {
    if (!conn.alive) return;
    const lane = this.lanes[dir];
    if (this.hole === 'drop') {
      lane.dropped += d.length;
      return;
    }
    lane.queue.push({ conn, buf: d });
    lane.queued += d.length;
    this.pump(lane);
    this.flow(conn, dir);
  }

  /** Pauses a sender while its lane is full or its receiver needs to drain. */
  private flow(conn: Conn, dir: Direction): void {
    const src = this.src(conn, dir);
    const dst = this.dst(conn, dir);
    if (!src || !conn.alive) return;
    const lane = this.lanes[dir];
    const hold = lane.queued >= lane.limit || (dst?.writableNeedDrain ?? false);
    if (hold && !src.isPaused()) src.pause();
    else if (!hold && src.isPaused() && lane.queued < lane.limit / 2) src.resume();
  }

  private pump(lane: Lane): void {
    if (lane.timer || this.hole === 'stall' || !this.up) return;
    const now = performance.now();
    if (Number.isFinite(lane.bytesPerMs)) {
      lane.tokens = Math.min(lane.burst, lane.tokens + (now - lane.last) * lane.bytesPerMs);
    }
    lane.last = now;
    while (lane.queue.length > 0) {
      const head = lane.queue[0] as Chunk;
      const n = Math.min(head.buf.length, Math.floor(lane.tokens));
      if (n <= 0) break;
      const piece = n === head.buf.length ? head.buf : head.buf.subarray(0, n);
      if (n === head.buf.length) lane.queue.shift();
      else head.buf = head.buf.subarray(n);
      lane.queued -= n;
      if (Number.isFinite(lane.tokens)) lane.tokens -= n;
      this.deliver(head.conn, lane, piece);
    }
    if (lane.queue.length > 0) {
      const head = lane.queue[0] as Chunk;
      const want = Math.min(head.buf.length, 256, lane.burst);
      const wait = Math.max(4, Math.ceil((want - lane.tokens) / lane.bytesPerMs));
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.pump(lane);
      }, wait);
    }
    for (const conn of this.conns) this.flow(conn, lane.dir);
  }

  private deliver(conn: Conn, lane: Lane, piece: Buffer): void {
    lane.bytes += piece.length;
    lane.chunks++;
    this.tap?.(lane.dir, piece);
    const write = () => {
      if (!conn.alive) return;
      const dst = this.dst(conn, lane.dir);
      if (dst && !dst.write(piece)) this.flow(conn, lane.dir);
    };
    if (this.latencyMs > 0) setTimeout(write, this.latencyMs);
    else write();
  }

  /** Drops every connection and refuses new ones until `restore`. */
  cut(): void {
    this.up = false;
    for (const conn of [...this.conns]) this.drop(conn);
    for (const lane of Object.values(this.lanes)) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      lane.queue.length = 0;
      lane.queued = 0;
    }
  }

  /** A silent outage: connections stay open, nothing arrives at the other
   * end. `drop` discards what is sent meanwhile; `stall` holds it (and,
   * once the queue is full, stops reading, so the senders block). */
  blackhole(mode: BlackholeMode = 'drop'): void {
    this.hole = mode;
    for (const lane of Object.values(this.lanes)) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
      if (mode === 'drop') {
        for (const c of lane.queue) lane.dropped += c.buf.length;
        lane.queue.length = 0;
        lane.queued = 0;
      }
    }
    if (mode === 'drop') {
      // Discarding: keep reading so senders never block.
      for (const conn of this.conns) {
        conn.holed = true;
        conn.client.resume();
        conn.upstream?.resume();
      }
    }
  }

  get blackholed(): BlackholeMode | undefined {
    return this.hole;
  }

  /** Ends a cut or a blackhole; connections that lived through a `drop`
   * are reset (see the class comment). Returns how many were reset. */
  restore(): number {
    const reset = [...this.conns].filter((c) => c.holed);
    for (const conn of reset) this.drop(conn);
    this.up = true;
    this.hole = undefined;
    for (const lane of Object.values(this.lanes)) {
      lane.last = performance.now();
      this.pump(lane);
    }
    for (const conn of this.conns) {
      this.flow(conn, 'up');
      this.flow(conn, 'down');
    }
    return reset.length;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
