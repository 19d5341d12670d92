// The serial bridge over real pseudo-terminal pairs (socat) and the real
// serialport binding: what a USB-serial cable looks like to the OS, minus
// the cable. A pty pair is a perfect line, so damage is injected by a relay
// between two pairs, and a pulled cable is socat being killed.
import type { ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SerialBridge, type SerialBridgeOptions } from '../../../app/link/bridge.ts';
import { openSerialPort, serialEndpoint, type SerialPortHandle } from '../../../app/link/serial.ts';
import { closeServer, echoServer, echoThrough, waitFor } from '../../unit/link/helpers.ts';
import { killProcess, ptyPair as sharedPtyPair, requireSocat } from '../../helpers/pty.ts';

const BAUD = 115200;
let dir = '';
const procs = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  requireSocat();
  dir = await mkdtemp(join(tmpdir(), 'serial-bridge-'));
  return () => rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const p of procs) await kill(p);
});

async function ptyPair(a: string, b: string): Promise<ChildProcess> {
  const proc = await sharedPtyPair(dir, a, b);
  procs.add(proc);
  proc.once('exit', () => procs.delete(proc));
  return proc;
}

const kill = killProcess;

const path = (name: string) => join(dir, name);

async function bridges(appPort: string, devPort: string, extra: Partial<SerialBridgeOptions> = {}) {
  const echo = await echoServer();
  const fast = { reopenMinMs: 50, reopenMaxMs: 400, stallMs: 1000, keepaliveMs: 300 };
  const app = new SerialBridge({ mode: 'listen', line: serialEndpoint({ path: path(appPort), baudRate: BAUD }), ...fast, ...extra });
  const dev = new SerialBridge({ mode: 'dial', line: serialEndpoint({ path: path(devPort), baudRate: BAUD }), dialPort: echo.port, ...fast });
  await app.start();
  await dev.start();
  cleanups.push(async () => {
    await app.stop();
    await dev.stop();
    await closeServer(echo.server, echo.sockets);
  });
  return { app, dev, port: app.port as number };
}

function pattern(n: number, seed: number): Buffer {
  // Mostly text so compression has something to do, with every byte value present.
  return Buffer.from(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? (i * seed) & 0xff : 97 + ((i * 31 + seed) % 26))));
}

/** Relays between the inner ends of two pty pairs and damages one byte on command. */
class FlipRelay {
  private flip = { up: false, down: false };
  flipped = 0;
  constructor(
    private readonly left: SerialPortHandle,
    private readonly right: SerialPortHandle,
  ) {
    left.on('data', (d: Buffer) => right.write(this.pass('up', d)));
    right.on('data', (d: Buffer) => left.write(this.pass('down', d)));
  }
  flipNext(dir: 'up' | 'down'): void {
    this.flip[dir] = true;
  }
  private pass(dir: 'up' | 'down', d: Buffer): Buffer {
    if (!this.flip[dir]) return d;
    this.flip[dir] = false;
    this.flipped++;
    const out = Buffer.from(d);
    const i = out.length >> 1;
    out[i] = (out[i] as number) ^ 0x20;
    return out;
  }
  async close(): Promise<void> {
    for (const p of [this.left, this.right]) {
      p.on('error', () => {});
      if (p.isOpen) await new Promise<void>((res) => p.close(() => res()));
    }
  }
}

describe('serial bridge over real pty pairs', () => {
  for (const compress of [false, true]) {
    it(`carries a TCP connection to the leaf port and back${compress ? ', compressed' : ''}`, async () => {
      await ptyPair('app', 'dev');
      const { app, dev, port } = await bridges('app', 'dev', { compress });
      expect(app.status().line).toBe('open');
      expect(dev.status().line).toBe('open');
      const data = pattern(300_000, 3);
      const r = await echoThrough(port, data, { chunk: 4000 });
      expect(r.mismatchAt).toBeUndefined();
      expect(r.received.equals(data)).toBe(true);
      const a = app.status().stats;
      expect(a.tcpBytesIn).toBe(data.length);
      expect(a.corruptEvents + dev.status().stats.corruptEvents).toBe(0);
      if (compress) expect(a.lineBytesOut).toBeLessThan(data.length * 0.7);
      else expect(a.lineBytesOut).toBeGreaterThan(data.length);
    });
  }

  for (const [direction, compress] of [
    ['up', false],
    ['down', true],
  ] as const) {
    it(`ends the connection on a damaged byte (${direction === 'up' ? 'app to device' : 'device to app'}${compress ? ', compressed' : ''}) and never delivers it`, async () => {
      await ptyPair('app', 'relay-app');
      await ptyPair('relay-dev', 'dev');
      const relay = new FlipRelay(await openSerialPort({ path: path('relay-app'), baudRate: BAUD }), await openSerialPort({ path: path('relay-dev'), baudRate: BAUD }));
      cleanups.push(() => relay.close());
      const { app, dev, port } = await bridges('app', 'dev', { compress });
      const data = pattern(200_000, 5);
      setTimeout(() => relay.flipNext(direction), 150);
      const r = await echoThrough(port, data, { chunk: 1000, pace: 2 });
      expect(relay.flipped).toBe(1);
      expect(r.mismatchAt).toBeUndefined();
      expect(r.closedEarly).toBe(true);
      expect((direction === 'up' ? dev : app).status().stats.corruptEvents).toBeGreaterThan(0);
      await waitFor(() => app.status().session === undefined && dev.status().session === undefined, 'both ends to drop the damaged session');
      const again = await echoThrough(port, data.subarray(0, 20_000));
      expect(again.received.equals(data.subarray(0, 20_000))).toBe(true);
    });
  }

  it('reports a pulled cable, and recovers when the port comes back', async () => {
    const socat = await ptyPair('app', 'dev');
    const { app, dev, port } = await bridges('app', 'dev');
    const appErrors: string[] = [];
    app.on('line-error', (e) => appErrors.push(e.message));
    const transfer = echoThrough(port, pattern(400_000, 7), { chunk: 1000, pace: 2 });
    await waitFor(() => app.status().stats.tcpBytesOut > 20_000, 'the transfer to get going');
    await kill(socat);
    const r = await transfer;
    expect(r.closedEarly).toBe(true);
    expect(r.mismatchAt).toBeUndefined();
    await waitFor(() => appErrors.some((m) => /does not exist/.test(m)), 'the app side to retry a missing port');
    expect(appErrors[0]).toMatch(new RegExp(`serial port ${path('app')} disconnected mid-transfer \\(cable pulled or device reset\\)`));
    expect(app.status()).toMatchObject({ line: 'opening', lineError: expect.stringMatching(/does not exist/) });
    await waitFor(() => dev.status().line === 'opening', 'the device side to notice');

    await ptyPair('app', 'dev');
    await waitFor(() => app.status().line === 'open' && dev.status().line === 'open', 'both ends to reopen the port');
    const data = pattern(50_000, 8);
    const again = await echoThrough(port, data, { chunk: 2000 });
    expect(again.received.equals(data)).toBe(true);
    expect(app.status().stats).toMatchObject({ lineOpens: 2, lineDrops: 1 });
  });

  // Root opens any device whatever its mode, so this only runs as an ordinary user (as CI and technicians do).
  it.skipIf(process.getuid?.() === 0)('says to join the dialout group when the port is not accessible', async () => {
    await ptyPair('p', 'q');
    await chmod(realpathSync(path('p')), 0);
    await expect(openSerialPort({ path: path('p'), baudRate: BAUD })).rejects.toMatchObject({ kind: 'permission', message: expect.stringMatching(/add your user to the dialout group/) });
  });

  it('says so clearly when a port is missing or busy', async () => {
    await expect(openSerialPort({ path: path('nothing'), baudRate: BAUD })).rejects.toMatchObject({
      kind: 'missing',
      message: `serial port ${path('nothing')} does not exist: check the cable and the port name (the port list shows what is present)`,
    });
    await ptyPair('x', 'y');
    const held = await openSerialPort({ path: path('x'), baudRate: BAUD });
    cleanups.push(() => new Promise((res) => held.close(() => res())));
    await expect(openSerialPort({ path: path('x'), baudRate: BAUD })).rejects.toMatchObject({ kind: 'busy', message: expect.stringMatching(/is in use by another program/) });
    const bridge = new SerialBridge({ mode: 'listen', line: serialEndpoint({ path: path('x'), baudRate: BAUD }), reopenMinMs: 1000 });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    expect(bridge.status()).toMatchObject({ line: 'opening', lineError: expect.stringMatching(/in use by another program/) });
  });
});
