import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialBridge } from '../../../app/link/bridge.ts';
import { FrameDecoder, FrameType, encodeFrame, type Frame, dataFrames, readDataPayload } from '../../../app/link/framing.ts';
import { explainSerialError, listSerialPorts, openSerialPort, serialEndpoint, type SerialOpenOptions } from '../../../app/link/serial.ts';
import { closeServer, echoServer, waitFor } from './helpers.ts';

// @serialport/binding-mock ships separate CommonJS and ESM builds; serialport
// (CommonJS) holds the CommonJS one, so ports must be created through it, not
// through an ESM import of the package, which would be a second registry.
const MockBinding = SerialPortMock.binding;
const mock: SerialOpenOptions['create'] = (o) => new SerialPortMock({ ...o, autoOpen: false });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  MockBinding.reset();
});

describe('serial port errors', () => {
  it('says what to do for a missing, busy or forbidden port and a pulled cable', () => {
    const cases: [unknown, string, RegExp][] = [
      [new Error('Error: No such file or directory, cannot open /dev/ttyUSB0'), 'missing', /does not exist: check the cable/],
      [new Error('Error Resource temporarily unavailable Cannot lock port'), 'busy', /in use by another program/],
      [Object.assign(new Error('open failed'), { code: 'EBUSY' }), 'busy', /in use/],
      [new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), 'permission', /add your user to the dialout group/],
      [Object.assign(new Error('x'), { code: 'EACCES' }), 'permission', /dialout/],
      [Object.assign(new Error('bad file descriptor'), { disconnected: true }), 'disconnected', /disconnected mid-transfer \(cable pulled or device reset\): bad file descriptor/],
      [new Error('Error baud rate of 7 is not supported on your platform'), 'other', /failed: Error baud rate of 7/],
    ];
    for (const [err, kind, msg] of cases) {
      const e = explainSerialError('/dev/ttyUSB0', err);
      expect(e.kind, String(err)).toBe(kind);
      expect(e.message).toMatch(msg);
      expect(e.message).toContain('/dev/ttyUSB0');
      expect(e.cause).toBe(err);
    }
    expect(explainSerialError('/dev/x', new Error('EIO: i/o error, write'), 'io').kind).toBe('disconnected');
  });

  it('maps the mock binding too: a port never created is missing, a second open is busy', async () => {
    await expect(openSerialPort({ path: '/dev/nothing', baudRate: 9600, create: mock })).rejects.toMatchObject({ kind: 'missing' });
    MockBinding.createPort('/dev/ttyMOCK0');
    const port = await openSerialPort({ path: '/dev/ttyMOCK0', baudRate: 9600, create: mock });
    cleanups.push(() => new Promise((res) => port.close(() => res())));
    await expect(openSerialPort({ path: '/dev/ttyMOCK0', baudRate: 9600, create: mock })).rejects.toMatchObject({ kind: 'busy', message: /in use by another program/ });
  });
});

describe('serial bridge on a (mock) serial port', () => {
  it('dials the leaf port for an OPEN, answers, relays DATA, and reopens the port after it vanishes', async () => {
    const echo = await echoServer();
    MockBinding.createPort('/dev/ttyMOCK1', { record: true });
    const ports: SerialPortMock[] = [];
    const bridge = new SerialBridge({
      mode: 'dial',
      dialPort: echo.port,
      reopenMinMs: 10,
      line: serialEndpoint({ path: '/dev/ttyMOCK1', baudRate: 115200, create: (o) => (ports.push(new SerialPortMock({ ...o, autoOpen: false })), ports.at(-1) as SerialPortMock) }),
    });
    cleanups.push(async () => {
      await bridge.stop();
      await closeServer(echo.server, echo.sockets);
    });
    const errors: string[] = [];
    bridge.on('line-error', (e) => errors.push(e.message));
    await bridge.start();
    expect(bridge.status().line).toBe('open');

    const sent: Frame[] = [];
    const dec = new FrameDecoder({ frame: (f) => sent.push(f), corrupt: (r) => expect.fail(`bridge wrote damaged bytes: ${r}`) });
    const first = ports[0] as SerialPortMock;
    const binding = () => first.port as NonNullable<SerialPortMock['port']>;
    let seen = 0;
    const drain = () => {
      const rec = binding().recording;
      dec.push(rec.subarray(seen));
      seen = rec.length;
    };
    binding().emitData(Buffer.concat([encodeFrame({ type: FrameType.Open, session: 5, payload: Buffer.of(0) }), ...dataFrames(5, Buffer.from('hello')).frames]));
    await waitFor(() => (drain(), sent.some((f) => f.type === FrameType.Data)), 'the echo to come back as DATA');
    expect(sent[0]).toMatchObject({ type: FrameType.Open, session: 5 });
    expect(Buffer.concat(sent.filter((f) => f.type === FrameType.Data).map((f) => readDataPayload(f.payload)?.bytes ?? Buffer.alloc(0))).toString()).toBe('hello');
    expect(bridge.status()).toMatchObject({ session: 5, stats: { framesIn: 2, tcpBytesOut: 5 } });

    // What serialport does when the device goes away mid-transfer.
    first._disconnected(new Error('bad file descriptor'));
    await waitFor(() => bridge.status().stats.lineOpens === 2, 'the port to be reopened');
    expect(errors[0]).toMatch(/\/dev\/ttyMOCK1 disconnected mid-transfer \(cable pulled or device reset\)/);
    expect(bridge.status()).toMatchObject({ line: 'open', stats: { lineDrops: 1 } });
    expect(bridge.status().session).toBeUndefined();
    await waitFor(() => echo.sockets.size === 0, 'the leaf connection to be dropped');
  });

  it('keeps retrying a missing port and reports why', async () => {
    const bridge = new SerialBridge({ mode: 'listen', reopenMinMs: 5, reopenMaxMs: 20, line: serialEndpoint({ path: '/dev/ttyMOCK9', baudRate: 9600, create: mock }) });
    cleanups.push(() => bridge.stop());
    let failures = 0;
    bridge.on('line-error', () => failures++);
    await bridge.start();
    expect(bridge.status()).toMatchObject({ line: 'opening', lineError: expect.stringMatching(/\/dev\/ttyMOCK9 does not exist/) });
    await waitFor(() => failures >= 3, 'a few retries');
    MockBinding.createPort('/dev/ttyMOCK9');
    await waitFor(() => bridge.status().line === 'open', 'the port to appear');
    expect(bridge.status().lineError).toBeUndefined();
    await bridge.stop();
    expect(bridge.status().line).toBe('stopped');
  });
});

describe('serial port listing', () => {
  it('scans /dev and /sys without udev, walking up to the USB device', async () => {
    const root = await mkdtemp(join(tmpdir(), 'serial-list-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const dev = join(root, 'dev');
    const sys = join(root, 'sys');
    const usb = join(sys, 'devices/pci0000:00/usb1/1-2');
    await mkdir(join(usb, '1-2:1.0/ttyUSB0'), { recursive: true });
    await mkdir(join(dev, 'serial/by-id'), { recursive: true });
    for (const [f, v] of Object.entries({ idVendor: '0403\n', idProduct: '6001\n', manufacturer: 'FTDI\n', serial: 'A50285BI\n' })) await writeFile(join(usb, f), v);
    for (const n of ['ttyUSB0', 'ttyACM0', 'ttyS0', 'ttyS1', 'ttyAMA0', 'tty0', 'console']) await writeFile(join(dev, n), '');
    await mkdir(join(sys, 'class/tty/ttyUSB0'), { recursive: true });
    await symlink(join(usb, '1-2:1.0/ttyUSB0'), join(sys, 'class/tty/ttyUSB0/device'));
    for (const [n, type] of [
      ['ttyS0', '0'],
      ['ttyS1', '4'],
    ]) {
      await mkdir(join(sys, 'class/tty', n as string), { recursive: true });
      await writeFile(join(sys, 'class/tty', n as string, 'type'), `${type}\n`);
    }
    await symlink('../../ttyUSB0', join(dev, 'serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'));

    const ports = await listSerialPorts({ devDir: dev, sysDir: sys, scanOnly: true });
    expect(ports).toEqual([
      { path: join(dev, 'ttyACM0') },
      { path: join(dev, 'ttyAMA0') },
      { path: join(dev, 'ttyS1') },
      {
        path: join(dev, 'ttyUSB0'),
        stablePath: join(dev, 'serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'),
        manufacturer: 'FTDI',
        vendorId: '0403',
        productId: '6001',
        serialNumber: 'A50285BI',
      },
    ]);
    expect(await listSerialPorts({ devDir: join(root, 'none'), sysDir: join(root, 'none'), scanOnly: true })).toEqual([]);
  });

  it('lists this machine without crashing when udevadm is absent', async () => {
    const ports = await listSerialPorts();
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) expect(p.path).toMatch(/^\/dev\//);
  });
});
