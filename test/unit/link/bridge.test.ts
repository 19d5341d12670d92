import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialBridge, type SerialBridgeOptions, type SessionEvent } from '../../../app/link/bridge.ts';
import { rng } from '../../helpers/rng.ts';
import { closeServer, echoServer, echoThrough, flipOnce, linePair, waitFor } from './helpers.ts';
import { FrameType } from '../../../app/link/framing.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Text-like data: compressible, but not trivially. */
function payload(n: number, seed = 1): Buffer {
  const r = rng(seed);
  const words = ['point', 'node', 'value', 'temp', 'inst', 'leaf', '1.25', 'true', '{', '}'];
  const parts: string[] = [];
  let len = 0;
  while (len < n) {
    const w = words[Math.floor(r() * words.length)] as string;
    parts.push(w);
    len += w.length + 1;
  }
  return Buffer.from(parts.join(' ')).subarray(0, n);
}

async function setup(extra: Partial<SerialBridgeOptions> = {}, dialExtra: Partial<SerialBridgeOptions> = {}) {
  const echo = await echoServer();
  const line = linePair();
  const app = new SerialBridge({ mode: 'listen', line: { name: 'mem-a', open: async () => line.a }, stallMs: 500, ...extra });
  const dev = new SerialBridge({ mode: 'dial', line: { name: 'mem-b', open: async () => line.b }, dialPort: echo.port, stallMs: 500, ...dialExtra });
  const appSessions: SessionEvent[] = [];
  const devSessions: SessionEvent[] = [];
  app.on('session', (e) => appSessions.push(e));
  dev.on('session', (e) => devSessions.push(e));
  await app.start();
  await dev.start();
  cleanups.push(async () => {
    await app.stop();
    await dev.stop();
    await closeServer(echo.server, echo.sockets);
  });
  return { app, dev, echo, line, appSessions, devSessions, port: app.port as number };
}

describe('serial bridge sessions', () => {
  for (const compress of [false, true]) {
    it(`carries a TCP connection both ways${compress ? ' compressed' : ''}`, async () => {
      const { app, dev, port, echo } = await setup({ compress });
      expect(app.status()).toMatchObject({ mode: 'listen', line: 'open', port });
      const data = payload(200_000);
      const r = await echoThrough(port, data, { chunk: 1500 });
      expect(r.mismatchAt).toBeUndefined();
      expect(r.received.equals(data)).toBe(true);
      const a = app.status().stats;
      const d = dev.status().stats;
      expect(a.tcpBytesIn).toBe(data.length);
      expect(a.tcpBytesOut).toBe(data.length);
      expect(d.tcpBytesIn).toBe(data.length);
      expect(a.lineBytesOut).toBe(d.lineBytesIn);
      expect(a.corruptEvents + d.corruptEvents).toBe(0);
      if (compress) expect(a.lineBytesOut).toBeLessThan(data.length / 2);
      else expect(a.lineBytesOut).toBeGreaterThan(data.length);
      await waitFor(() => app.status().session === undefined && dev.status().session === undefined, 'both ends to close the session');
      // The client's close reaches the leaf port as a close, promptly (not by a timeout).
      await waitFor(() => echo.sockets.size === 0, 'the upstream socket to close', 1000);
    });
  }

  for (const compress of [false, true]) {
    it(`delivers everything written before the client closes${compress ? ', compressed' : ''}`, async () => {
      const received: Buffer[] = [];
      let ended = false;
      const sink = createServer((s) => {
        s.on('data', (d: Buffer) => received.push(d));
        s.on('end', () => (ended = true));
        s.on('error', () => {});
      });
      sink.listen(0, '127.0.0.1');
      await once(sink, 'listening');
      cleanups.push(() => new Promise((res) => sink.close(() => res())));
      const { port } = await setup({ compress }, { dialPort: (sink.address() as AddressInfo).port });
      const data = payload(100_000, 4);
      const sock = connect(port, '127.0.0.1');
      sock.on('error', () => {});
      sock.end(data);
      await waitFor(() => ended, 'the leaf side to see the end of the stream');
      expect(Buffer.concat(received).equals(data)).toBe(true);
    });
  }

  it('ends the old session when a new connection arrives', async () => {
    const { port, echo, appSessions } = await setup();
    const first = connect(port, '127.0.0.1');
    first.on('error', () => {});
    await once(first, 'connect');
    first.write('hello');
    await once(first, 'data');
    const firstClosed = once(first, 'close');
    const r = await echoThrough(port, Buffer.from('second'));
    await firstClosed;
    expect(r.received.toString()).toBe('second');
    expect(appSessions.filter((e) => e.event === 'close')[0]?.reason).toMatch(/new connection replaced it/);
    await waitFor(() => echo.sockets.size === 0, 'the device side to close both upstream sockets');
  });

  it('closes the connection with a clear reason when the device side cannot reach its leaf port', async () => {
    const { port, devSessions } = await setup({}, { dialPort: 1 });
    const sock = connect(port, '127.0.0.1');
    sock.on('error', () => {});
    await once(sock, 'close');
    await waitFor(() => devSessions.some((e) => e.event === 'close'), 'the dial failure');
    expect(devSessions.find((e) => e.event === 'close')?.reason).toMatch(/could not reach 127\.0\.0\.1:1 \(ECONNREFUSED\): is nats-server running/);
  });

  for (const [dir, compress] of [
    ['app to device', false],
    ['device to app', false],
    ['app to device', true],
    ['device to app', true],
  ] as const) {
    it(`ends the session on line damage ${dir}${compress ? ' (compressed)' : ''}, and the next connection works`, async () => {
      const { app, dev, line, port } = await setup({ compress });
      const data = payload(60_000, 2);
      const flip = flipOnce(64);
      let armed = false;
      const tamper = (c: Buffer) => (armed ? flip(c) : c);
      if (dir === 'app to device') line.tamper.aToB = tamper;
      else line.tamper.bToA = tamper;
      setTimeout(() => (armed = true), 20);
      const r = await echoThrough(port, data, { chunk: 1000, pace: 2 });
      expect(r.mismatchAt).toBeUndefined();
      expect(r.closedEarly).toBe(true);
      const detector = dir === 'app to device' ? dev : app;
      expect(detector.status().stats.corruptEvents).toBeGreaterThan(0);
      await waitFor(() => app.status().session === undefined && dev.status().session === undefined, 'both ends to drop the damaged session');
      const again = await echoThrough(port, data.subarray(0, 5000));
      expect(again.received.equals(data.subarray(0, 5000))).toBe(true);
    });
  }

  for (const compress of [false, true]) {
    it(`ends the session when a DATA frame is lost whole${compress ? ' (compressed)' : ''}`, async () => {
      const { app, dev, line, port } = await setup({ compress });
      const data = payload(60_000, 3);
      let seen = 0;
      let dropped = false;
      // Drop the third whole DATA frame going to the device: no byte is
      // damaged, the frame is simply not there.
      line.tamper.aToB = (c) => {
        if (!dropped && c.length > 64 && c[0] === 0x53 && c[1] === 0x42 && c[2] === FrameType.Data && ++seen === 3) {
          dropped = true;
          return Buffer.alloc(0);
        }
        return c;
      };
      const r = await echoThrough(port, data, { chunk: 1000, pace: 2 });
      expect(dropped).toBe(true);
      expect(r.mismatchAt).toBeUndefined();
      expect(r.closedEarly).toBe(true);
      await waitFor(() => app.status().session === undefined && dev.status().session === undefined, 'both ends to drop the session');
      const again = await echoThrough(port, data.subarray(0, 5000));
      expect(again.received.equals(data.subarray(0, 5000))).toBe(true);
    });
  }

  it('never delivers a wrong byte whatever byte is damaged (seeded runs)', async () => {
    let damaged = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      const compress = seed % 2 === 0;
      const { app, dev, line, port } = await setup({ compress });
      const data = payload(30_000, seed);
      let countdown = 1 + Math.floor(r() * 20);
      const tamper = (c: Buffer) => {
        if (countdown <= 0 || --countdown > 0) return c;
        const out = Buffer.from(c);
        const i = Math.floor(r() * out.length);
        out[i] = (out[i] as number) ^ (1 + Math.floor(r() * 255));
        return out;
      };
      if (r() < 0.5) line.tamper.aToB = tamper;
      else line.tamper.bToA = tamper;
      const res = await echoThrough(port, data, { chunk: 700, pace: 1 });
      expect(res.mismatchAt, `seed ${seed}`).toBeUndefined();
      if (res.closedEarly) damaged++;
      if (!res.closedEarly) expect(res.received.equals(data), `seed ${seed}`).toBe(true);
      await waitFor(() => app.status().session === undefined && dev.status().session === undefined, `seed ${seed}: both ends idle`);
      const again = await echoThrough(port, data.subarray(0, 3000));
      expect(again.received.equals(data.subarray(0, 3000)), `seed ${seed}: next connection`).toBe(true);
      await cleanups.pop()?.();
    }
    // Damage that lands after the last echoed byte (on the closing frames) cuts nothing; most runs must have been cut.
    expect(damaged).toBeGreaterThanOrEqual(8);
  });

  it('shapes what it sends: rate cap and latency', async () => {
    const { port } = await setup({ rateBps: 80_000, latencyMs: 100 }, { rateBps: 80_000, latencyMs: 100 });
    const started = Date.now();
    const small = await echoThrough(port, Buffer.from('ping'));
    expect(small.received.toString()).toBe('ping');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    const data = payload(20_000, 3);
    const t0 = Date.now();
    const big = await echoThrough(port, data, { chunk: 4000 });
    expect(big.received.equals(data)).toBe(true);
    // 20 kB plus framing at 10 kB/s each way, pipelined: at least ~2 s.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it('gives up on a session the device side never answers, and says why', async () => {
    const line = linePair();
    const app = new SerialBridge({ mode: 'listen', line: { name: 'mem', open: async () => line.a }, answerTimeoutMs: 200 });
    cleanups.push(() => app.stop());
    const events: SessionEvent[] = [];
    app.on('session', (e) => events.push(e));
    await app.start();
    const sock = connect(app.port as number, '127.0.0.1');
    sock.on('error', () => {});
    await once(sock, 'close');
    expect(events).toEqual([{ id: expect.any(Number), event: 'close', reason: expect.stringMatching(/no answer to OPEN within 200 ms; the device-side bridge never answered \(is it running, at the same baud rate\?\)/) }]);
  });

  it('pauses the TCP side while the line is behind, and resumes', async () => {
    const { app, port } = await setup({ rateBps: 2_000_000, highWaterBytes: 8192 });
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, app.status().stats.queuedBytes)), 2);
    const data = payload(400_000, 5);
    const r = await echoThrough(port, data, { chunk: 16_000 });
    clearInterval(sampler);
    expect(r.received.equals(data)).toBe(true);
    // One socket read may land on top of the mark before reads pause; without the pause all 400 kB would queue.
    expect(maxQueued).toBeGreaterThan(8192);
    expect(maxQueued).toBeLessThan(8192 + 70_000);
  });

  it('reports a dropped line, ends the session and reopens it', async () => {
    const echo = await echoServer();
    const first = linePair();
    let opens = 0;
    const ends = [first.a, linePair().a];
    const app = new SerialBridge({ mode: 'listen', line: { name: 'mem', open: async () => ends[opens++] as never, explain: (e) => new Error(`mem line failed: ${String(e)}`) }, reopenMinMs: 10 });
    const dev = new SerialBridge({ mode: 'dial', line: { name: 'mem-b', open: async () => first.b }, dialPort: echo.port });
    cleanups.push(async () => {
      await app.stop();
      await dev.stop();
      await closeServer(echo.server, echo.sockets);
    });
    const errors: string[] = [];
    app.on('line-error', (e) => errors.push(e.message));
    await app.start();
    await dev.start();
    const sock = connect(app.port as number, '127.0.0.1');
    sock.on('error', () => {});
    await once(sock, 'connect');
    await waitFor(() => app.status().session !== undefined, 'a session');
    first.a.destroy(new Error('gone'));
    await once(sock, 'close');
    expect(errors[0]).toMatch(/mem line failed: Error: gone/);
    await waitFor(() => app.status().line === 'open' && app.status().stats.lineOpens === 2, 'the line to reopen');
    expect(app.status().stats.lineDrops).toBe(1);
  });
});
