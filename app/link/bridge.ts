import { EventEmitter } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import * as zlib from 'node:zlib';
import { FrameDecoder, FrameType, dataFrames, encodeFrame, readDataPayload, type Frame } from './framing.ts';
import { LineKeeper, type LineEndpoint } from './serial.ts';
import { Shaper } from './shaper.ts';
import type { BridgeEvents, BridgeStats, BridgeStatus, SerialBridgeOptions } from './bridge-types.ts';

/**
 * Carries one TCP connection at a time (a nats-server leaf connection) over
 * a byte line such as a serial port. The app side listens on loopback for
 * its leaf remote; the device side dials its nats-server's leaf port for
 * each session the app side opens. Any damage on the line ends the session
 * on both ends, so nats-server sees a dropped connection and reconnects,
 * and never sees a byte that was not sent.
 */

export type { LineEndpoint };
export type { BridgeEvents, BridgeMode, BridgeStats, BridgeStatus, LineState, SerialBridgeOptions, SessionEvent } from './bridge-types.ts';

interface Session {
  id: number;
  socket: Socket;
  state: 'open' | 'closing' | 'closed';
  /** listen: the dial side has answered this session's OPEN (always true on the dial side). */
  answered: boolean;
  answerTimer?: ReturnType<typeof setTimeout>;
  deflate?: zlib.DeflateRaw;
  inflate?: zlib.InflateRaw;
  /** DATA sequence numbers: the next to send, and the next expected. */
  sendSeq: number;
  recvSeq: number;
}

const FLAG_COMPRESS = 1;

export class SerialBridge extends EventEmitter<BridgeEvents> {
  private readonly stats: BridgeStats = { lineBytesOut: 0, lineBytesIn: 0, tcpBytesIn: 0, tcpBytesOut: 0, framesOut: 0, framesIn: 0, corruptEvents: 0, corruptBytes: 0, sessions: 0, lineOpens: 0, lineDrops: 0, queuedBytes: 0 };
  private readonly decoder = new FrameDecoder({ frame: (f) => this.onFrame(f), corrupt: (r, n) => this.onCorrupt(r, n) });
  private readonly keeper: LineKeeper;
  private server?: Server;
  private listenPort?: number;
  private stream?: Duplex;
  private shaper?: Shaper;
  private current?: Session;
  /** The last session this side ended, so its stragglers are not answered with CLOSE again. */
  private lastEnded = -1;
  private nextId = Math.floor(Math.random() * 0x10000);
  private stallTimer?: ReturnType<typeof setTimeout>;
  private keepalive?: ReturnType<typeof setInterval>;
  private wrote = false;
  private started = false;
  private stopped = false;
  private paused = false;

  constructor(private readonly opts: SerialBridgeOptions) {
    super();
    if (opts.mode === 'dial' && !opts.dialPort) throw new Error("a bridge in dial mode needs dialPort: the device's nats-server leaf port, e.g. 7422");
    this.keeper = new LineKeeper(opts.line, { minMs: opts.reopenMinMs, maxMs: opts.reopenMaxMs });
    this.keeper.on('open', (stream) => this.attachLine(stream));
    this.keeper.on('down', (err) => this.onLineDown(err));
    this.keeper.on('open-failed', (err) => {
      this.emit('line-error', err);
      this.emitState();
    });
  }

  /** listen: the loopback port the leaf remote should dial (known once start() resolved). */
  get port(): number | undefined {
    return this.listenPort;
  }

  status(): BridgeStatus {
    return {
      mode: this.opts.mode,
      line: this.stopped ? 'stopped' : this.stream ? 'open' : 'opening',
      ...(this.keeper.error && !this.stopped ? { lineError: this.keeper.error.message } : {}),
      ...(this.current ? { session: this.current.id } : {}),
      ...(this.listenPort !== undefined ? { port: this.listenPort } : {}),
      stats: { ...this.stats, queuedBytes: this.pendingLineBytes() },
    };
  }

  /**
   * Listens (listen mode), then makes the first attempt to open the line.
   * A line that cannot be opened is not an error here: it is reported in
   * status() and 'line-error', and retried with backoff until stop().
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('serial bridge already started; create a new one after stop()');
    this.started = true;
    if (this.opts.mode === 'listen') await this.listen();
    await this.keeper.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closing = this.server ? new Promise<void>((res) => this.server?.close(() => res())) : Promise.resolve();
    if (this.current) this.abort(this.current, 'the bridge stopped', true);
    const stream = this.stream;
    const shaper = this.shaper;
    if (stream && shaper) {
      // Let the CLOSE reach the other side, but never hang a shutdown on a stuck line.
      const drained = shaper.idle().then(() => (stream.writableLength ? new Promise<void>((res) => stream.once('drain', res)) : undefined));
      await Promise.race([drained, delay(1000)]);
    }
    this.detachLine();
    await this.keeper.stop();
    await closing;
    this.emitState();
  }

  private async listen(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    const want = this.opts.listenPort ?? 0;
    await new Promise<void>((res, rej) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        rej(new Error(`serial bridge cannot listen on 127.0.0.1:${want}: ${e.code === 'EADDRINUSE' ? 'the port is in use; pick another or 0 for any free port' : e.message}`, { cause: e })),
      );
      server.listen(want, '127.0.0.1', () => res());
    });
    server.on('error', (e) => this.emit('line-error', new Error(`serial bridge listener failed: ${e.message}`, { cause: e })));
    this.server = server;
    const addr = server.address();
    this.listenPort = typeof addr === 'object' && addr ? addr.port : want;
  }

  private attachLine(stream: Duplex): void {
    this.stream = stream;
    this.decoder.reset();
    this.shaper = new Shaper(
      (chunk) => {
        this.stats.lineBytesOut += chunk.length;
        this.wrote = true;
        stream.write(chunk);
        this.checkBackpressure();
      },
      { rateBps: this.opts.rateBps, latencyMs: this.opts.latencyMs },
    );
    stream.on('data', (chunk: Buffer) => this.fromLine(chunk));
    stream.on('drain', () => this.checkBackpressure());
    // serialport misses a hung-up tty while it only reads (a read of 0 bytes is retried forever); a write fails at once.
    this.keepalive = setInterval(() => {
      if (!this.wrote) this.sendFrame(FrameType.Ping, 0);
      this.wrote = false;
    }, this.opts.keepaliveMs ?? 2000);
    this.stats.lineOpens++;
    this.emitState();
  }

  private detachLine(): void {
    this.shaper?.stop();
    this.shaper = undefined;
    this.stream = undefined;
    clearTimeout(this.stallTimer);
    clearInterval(this.keepalive);
    this.decoder.reset();
  }

  private onLineDown(err: Error): void {
    this.detachLine();
    this.stats.lineDrops++;
    if (this.current) this.abort(this.current, err.message, false);
    this.emit('line-error', err);
    this.emitState();
  }

  private fromLine(chunk: Buffer): void {
    this.stats.lineBytesIn += chunk.length;
    this.decoder.push(chunk);
    clearTimeout(this.stallTimer);
    if (this.decoder.pendingBytes > 0) this.stallTimer = setTimeout(() => this.decoder.expire(), this.opts.stallMs ?? 2000);
  }

  private sendFrame(type: FrameType, session: number, payload: Uint8Array = Buffer.alloc(0)): void {
    if (!this.shaper) return;
    this.stats.framesOut++;
    this.shaper.write(encodeFrame({ type, session, payload }));
  }

  private sendData(s: Session, data: Uint8Array): void {
    if (s.state === 'closed' || !this.shaper) return;
    const { frames, nextSeq } = dataFrames(s.id, data, s.sendSeq);
    s.sendSeq = nextSeq;
    for (const f of frames) {
      this.stats.framesOut++;
      this.shaper.write(f);
    }
  }

  private accept(socket: Socket): void {
    if (this.stopped || !this.stream) {
      // The leaf remote retries on its own; holding its connection open with no line behind it would only delay that.
      socket.destroy();
      return;
    }
    if (this.current) this.abort(this.current, 'a new connection replaced it', true);
    const id = (this.nextId = (this.nextId + 1) & 0xffff);
    const compress = this.opts.compress ?? false;
    this.sendFrame(FrameType.Open, id, Buffer.of(compress ? FLAG_COMPRESS : 0));
    const s = this.begin(id, socket, compress);
    const wait = this.opts.answerTimeoutMs ?? 10_000;
    s.answerTimer = setTimeout(() => this.abort(s, `no answer to OPEN within ${wait} ms`, true), wait);
  }

  private begin(id: number, socket: Socket, compress: boolean): Session {
    const s: Session = { id, socket, state: 'open', answered: this.opts.mode === 'dial', sendSeq: 0, recvSeq: 0 };
    this.current = s;
    this.stats.sessions++;
    socket.setNoDelay(true);
    if (compress) {
      s.deflate = zlib.createDeflateRaw();
      s.inflate = zlib.createInflateRaw();
      s.deflate.on('data', (d: Buffer) => this.sendData(s, d));
      s.deflate.on('end', () => this.finishLocalEnd(s));
      s.inflate.on('data', (d: Buffer) => this.toSocket(s, d));
      const broken = (what: string) => (e: Error) => this.corruptSession(s, `${what} failed: ${e.message}`);
      s.deflate.on('error', broken('compression'));
      s.inflate.on('error', broken('decompression'));
    }
    let socketError: Error | undefined;
    socket.on('data', (chunk: Buffer) => this.fromSocket(s, chunk));
    socket.on('end', () => this.localEnd(s));
    socket.on('error', (e) => (socketError = e));
    socket.on('close', () => {
      // While closing, the compressor is still passing on the last bytes; its 'end' sends the CLOSE.
      if (s.state === 'open') this.abort(s, socketError ? this.describeSocketError(socketError) : 'the TCP connection closed', true);
    });
    this.emitState();
    return s;
  }

  private describeSocketError(e: NodeJS.ErrnoException): string {
    if (this.opts.mode === 'dial' && (e.code === 'ECONNREFUSED' || e.code === 'EHOSTUNREACH' || e.code === 'ETIMEDOUT')) {
      return `could not reach ${this.opts.dialHost ?? '127.0.0.1'}:${this.opts.dialPort} (${e.code}): is nats-server running with its leaf listener there?`;
    }
    return `TCP connection failed: ${e.message}`;
  }

  private fromSocket(s: Session, chunk: Buffer): void {
    if (s.state !== 'open') return;
    this.stats.tcpBytesIn += chunk.length;
    if (s.deflate) {
      // A sync flush per chunk keeps latency down: the far side can inflate every byte of this chunk right away.
      s.deflate.write(chunk);
      s.deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    } else {
      this.sendData(s, chunk);
    }
    this.checkBackpressure();
  }

  private toSocket(s: Session, data: Buffer): void {
    if (s.socket.destroyed || s.socket.writableEnded) return;
    this.stats.tcpBytesOut += data.length;
    s.socket.write(data);
  }

  /** The TCP peer finished sending: pass on what is left, then CLOSE. */
  private localEnd(s: Session): void {
    if (s.state !== 'open') return;
    s.state = 'closing';
    if (s.deflate) s.deflate.end();
    else this.finishLocalEnd(s);
  }

  private finishLocalEnd(s: Session): void {
    if (s.state !== 'closing') return;
    this.sendFrame(FrameType.Close, s.id);
    this.end(s, 'the TCP peer closed the connection');
    s.inflate?.destroy();
    s.socket.end();
  }

  /** The far side sent CLOSE: deliver what already arrived, then close the socket. */
  private remoteClose(s: Session): void {
    this.end(s, 'the other end closed the session');
    s.deflate?.destroy();
    // Not inflate.end(): the stream has no final block (every chunk was sync-flushed), so ending it is an error.
    // A flush runs after every DATA already written to it, so nothing is cut off.
    if (s.inflate) s.inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => s.socket.end());
    else s.socket.end();
    // A peer that stops reading must not keep the socket forever.
    setTimeout(() => s.socket.destroy(), 2000).unref();
  }

  private corruptSession(s: Session, reason: string): void {
    if (s.state === 'closed') return;
    this.stats.corruptEvents++;
    this.emit('corrupt', { reason, skipped: 0, session: s.id });
    this.abort(s, reason, true);
  }

  /** Ends a session at once, delivering nothing more in either direction. */
  private abort(s: Session, reason: string, sendClose: boolean): void {
    if (s.state === 'closed') return;
    if (sendClose) this.sendFrame(FrameType.Close, s.id);
    this.end(s, reason);
    s.socket.destroy();
    s.deflate?.destroy();
    s.inflate?.destroy();
  }

  private end(s: Session, why: string): void {
    const reason = s.answered ? why : `${why}; the device-side bridge never answered (is it running, at the same baud rate?)`;
    s.state = 'closed';
    clearTimeout(s.answerTimer);
    this.lastEnded = s.id;
    if (this.current === s) {
      this.current = undefined;
      this.paused = false;
    }
    this.emit('session', { id: s.id, event: 'close', reason });
    this.emitState();
  }

  private onFrame(f: Frame): void {
    if (this.stopped) return;
    this.stats.framesIn++;
    const s = this.current && this.current.id === f.session && this.current.state !== 'closed' ? this.current : undefined;
    switch (f.type) {
      case FrameType.Open:
        if (this.opts.mode === 'dial') this.dial(f);
        else if (s && !s.answered) {
          s.answered = true;
          clearTimeout(s.answerTimer);
          this.emit('session', { id: s.id, event: 'open' });
          this.emitState();
        }
        return;
      case FrameType.Data:
        if (s && !s.answered) {
          // The answer to OPEN comes before any DATA; missing, it was lost to damage that may have taken DATA with it.
          this.abort(s, 'line corruption: the answer to OPEN was lost', true);
          return;
        }
        if (!s) {
          // A session the far side thinks is alive and we do not know (we restarted, or its OPEN was damaged): tell it.
          if (f.session !== this.lastEnded) {
            this.lastEnded = f.session;
            this.sendFrame(FrameType.Close, f.session);
          }
          return;
        }
        {
          const d = readDataPayload(f.payload);
          if (!d || d.seq !== s.recvSeq) {
            // A frame lost whole leaves no damaged byte behind, only this jump.
            this.abort(s, `line corruption: DATA frame ${s.recvSeq} went missing (got ${d?.seq ?? 'none'})`, true);
            return;
          }
          s.recvSeq = (s.recvSeq + 1) >>> 0;
          if (s.inflate) s.inflate.write(d.bytes);
          else this.toSocket(s, Buffer.from(d.bytes));
        }
        return;
      case FrameType.Close:
        if (s) this.remoteClose(s);
        return;
      default:
        return; // PING: nothing to do beyond having arrived intact
    }
  }

  private dial(f: Frame): void {
    if (this.current) this.abort(this.current, 'the other end opened a new session', false);
    // The answer marks where this session starts in our stream, so the app side can tell old damage from new.
    this.sendFrame(FrameType.Open, f.session, f.payload.subarray(0, 1));
    const socket = connect({ host: this.opts.dialHost ?? '127.0.0.1', port: this.opts.dialPort as number });
    // Data that arrives before the connection is up is buffered by the socket itself.
    const s = this.begin(f.session, socket, ((f.payload[0] ?? 0) & FLAG_COMPRESS) !== 0);
    socket.once('connect', () => {
      if (s.state !== 'closed') this.emit('session', { id: s.id, event: 'open' });
    });
  }

  private onCorrupt(reason: string, skipped: number): void {
    this.stats.corruptEvents++;
    this.stats.corruptBytes += skipped;
    const s = this.current;
    this.emit('corrupt', { reason, skipped, ...(s ? { session: s.id } : {}) });
    // A hole in the byte stream cannot be repaired: fail the connection so nats-server reconnects.
    // The decoder reports damage before the frame that follows it, so damage seen before the
    // answer to OPEN was sent before the dial side started this session: it belongs to an older one.
    if (s?.answered) this.abort(s, `line corruption: ${reason} (${skipped} bytes discarded)`, true);
  }

  private pendingLineBytes(): number {
    return (this.shaper?.queuedBytes ?? 0) + (this.stream?.writableLength ?? 0);
  }

  /**
   * Pauses TCP reads while the line is behind. Resuming waits for the
   * stream's own 'drain' as well as the shaper, because both report every
   * change through an event and a byte-count threshold alone could be
   * crossed without one.
   */
  private checkBackpressure(): void {
    const s = this.current;
    if (!s || s.state !== 'open') return;
    const high = this.opts.highWaterBytes ?? 64 * 1024;
    const queued = this.shaper?.queuedBytes ?? 0;
    const needDrain = this.stream?.writableNeedDrain ?? false;
    if (!this.paused && (queued > high || needDrain)) {
      this.paused = true;
      s.socket.pause();
    } else if (this.paused && queued <= high / 2 && !needDrain) {
      this.paused = false;
      s.socket.resume();
    }
  }

  private emitState(): void {
    this.emit('state', this.status());
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms).unref());
}
