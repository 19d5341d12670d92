import { EventEmitter } from 'node:events';
import { constants as fsc } from 'node:fs';
import { access, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { SerialPort, type SerialPortMock } from 'serialport';

/** What went wrong with a serial port, for the UI to pick an icon and a hint. */
export type SerialErrorKind = 'missing' | 'busy' | 'permission' | 'disconnected' | 'other';

export class SerialPortError extends Error {
  constructor(
    readonly kind: SerialErrorKind,
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SerialPortError';
  }
}

/** Turns serialport's terse open/IO errors into what a technician can act on. */
export function explainSerialError(path: string, err: unknown, phase: 'open' | 'io' = 'open'): SerialPortError {
  if (err instanceof SerialPortError) return err;
  const e = err as { message?: unknown; code?: unknown; disconnected?: unknown };
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  const has = (re: RegExp) => re.test(code) || re.test(msg);
  if (phase === 'io' || e?.disconnected === true) {
    return new SerialPortError('disconnected', path, `serial port ${path} disconnected mid-transfer (cable pulled or device reset): ${msg}; reconnect it and the link resumes`, { cause: err });
  }
  if (has(/ENOENT|No such file|does not exist/i)) {
    return new SerialPortError('missing', path, `serial port ${path} does not exist: check the cable and the port name (the port list shows what is present)`, { cause: err });
  }
  if (has(/EACCES|EPERM|Permission denied|Operation not permitted/i)) {
    return new SerialPortError(
      'permission',
      path,
      `permission denied opening serial port ${path}: add your user to the dialout group (sudo usermod -aG dialout $USER), then log out and back in`,
      { cause: err },
    );
  }
  if (has(/EBUSY|Cannot lock port|Resource busy|locked/i)) {
    return new SerialPortError('busy', path, `serial port ${path} is in use by another program (a terminal, another bridge or ModemManager): close it and the link retries`, { cause: err });
  }
  return new SerialPortError('other', path, `serial port ${path} failed: ${msg}`, { cause: err });
}

export type SerialPortHandle = SerialPort | SerialPortMock;

export interface SerialOpenOptions {
  path: string;
  baudRate: number;
  /** Builds the port object; tests pass one that makes a SerialPortMock. */
  create?: (opts: { path: string; baudRate: number }) => SerialPortHandle;
}

/** Opens a port, rejecting with a SerialPortError that says what to do. */
export async function openSerialPort(opts: SerialOpenOptions): Promise<SerialPortHandle> {
  const create = opts.create ?? ((o) => new SerialPort({ ...o, autoOpen: false }));
  const port = create({ path: opts.path, baudRate: opts.baudRate });
  await new Promise<void>((res, rej) => port.open((err) => (err ? rej(explainSerialError(opts.path, err)) : res())));
  rearmPoller(port);
  return port;
}

const UV_READABLE = 1;
const UV_WRITABLE = 2;

/**
 * Works around the poller of @serialport/bindings-cpp 13 (Linux, macOS):
 * each wait re-arms the fd's uv_poll with only its own event, so a read
 * waiting for data and a write waiting for room cancel each other's
 * interest, and a busy full-duplex line can stall for good (seen on pty
 * pairs within a few MB). Re-arming both every 100 ms bounds such a stall.
 */
function rearmPoller(port: SerialPortHandle): void {
  const poller = (port.port as { poller?: { poll?: (events: number) => void } } | undefined)?.poller;
  if (typeof poller?.poll !== 'function') return;
  const timer = setInterval(() => {
    // The binding destroys the poller as it closes, and isOpen turns false in the same tick.
    if (port.isOpen) poller.poll?.(UV_READABLE | UV_WRITABLE);
    else clearInterval(timer);
  }, 100);
  timer.unref();
  port.once('close', () => clearInterval(timer));
}

/** Where a bridge's line comes from; reopened after it drops. */
export interface LineEndpoint {
  /** For messages, e.g. the port path. */
  name: string;
  open(): Promise<Duplex>;
  /** Releases an opened stream; a serial port must be closed, not just destroyed, to free its fd and lock. */
  close?(stream: Duplex): Promise<void>;
  /** A clear message for an error the open stream failed with. */
  explain?(err: unknown): Error;
}

/** A bridge line on a serial port. */
export function serialEndpoint(opts: SerialOpenOptions): LineEndpoint {
  return {
    name: opts.path,
    open: () => openSerialPort(opts),
    close: async (stream) => {
      const port = stream as SerialPortHandle;
      if (port.isOpen) await new Promise<void>((res) => port.close(() => res()));
    },
    explain: (err) => explainSerialError(opts.path, err, 'io'),
  };
}

export interface LineKeeperEvents {
  /** The line is open; the listener owns reading and writing it until 'down'. */
  open: [Duplex];
  /** The open line failed (a pulled cable); it is being released and will be reopened. */
  down: [Error];
  /** An attempt to open failed; retried after a backoff. */
  'open-failed': [Error];
}

/**
 * Keeps a line open: opens it, notices when it fails (serialport reports a
 * pulled cable as 'close' with a disconnected error, or as a write error),
 * releases it and reopens it with a doubling backoff, until stop().
 */
export class LineKeeper extends EventEmitter<LineKeeperEvents> {
  private current?: Duplex;
  private lastError?: Error;
  private stopped = false;
  private wake?: () => void;
  private timer?: ReturnType<typeof setTimeout>;
  private loop?: Promise<void>;

  constructor(
    private readonly endpoint: LineEndpoint,
    private readonly backoff: { minMs?: number; maxMs?: number } = {},
  ) {
    super();
  }

  get stream(): Duplex | undefined {
    return this.current;
  }

  /** Why the line is not open, if it is not. */
  get error(): Error | undefined {
    return this.current ? undefined : this.lastError;
  }

  /** Resolves after the first attempt, whatever its outcome. */
  start(): Promise<void> {
    if (this.loop) throw new Error(`line ${this.endpoint.name} already started; create a new one after stop()`);
    return new Promise((first) => (this.loop = this.run(first)));
  }

  /** Releases the line and ends the retries. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    const stream = this.current;
    this.current = undefined;
    if (stream) await this.release(stream);
    this.wake?.();
    await this.loop;
  }

  private async run(firstAttempt: () => void): Promise<void> {
    const min = this.backoff.minMs ?? 250;
    let wait = min;
    while (!this.stopped) {
      let stream: Duplex | undefined;
      try {
        stream = await this.endpoint.open();
      } catch (err) {
        this.lastError = err instanceof Error ? err : new Error(`opening ${this.endpoint.name} failed: ${String(err)}`);
        this.emit('open-failed', this.lastError);
      }
      if (stream && this.stopped) {
        await this.release(stream);
        break;
      }
      if (stream) {
        wait = min;
        const opened = stream;
        await new Promise<void>((down) => {
          this.wake = down;
          this.watch(opened, down);
          firstAttempt();
        });
        continue;
      }
      firstAttempt();
      await new Promise<void>((res) => {
        this.wake = res;
        this.timer = setTimeout(res, wait);
      });
      wait = Math.min(this.backoff.maxMs ?? 5000, wait * 2);
    }
    firstAttempt();
  }

  private watch(stream: Duplex, down: () => void): void {
    const failed = (err: unknown) => {
      if (this.current !== stream) return;
      this.current = undefined;
      this.lastError = this.endpoint.explain?.(err) ?? (err instanceof Error ? err : new Error(String(err)));
      this.emit('down', this.lastError);
      void this.release(stream).finally(down);
    };
    this.current = stream;
    stream.on('error', failed);
    stream.on('close', (err?: unknown) => failed(err ?? new Error(`${this.endpoint.name} closed`)));
    this.emit('open', stream);
  }

  private async release(stream: Duplex): Promise<void> {
    stream.removeAllListeners('data');
    stream.on('error', () => {}); // late errors from a line we have given up on
    try {
      await this.endpoint.close?.(stream);
    } catch {
      // it is going away either way
    }
    stream.destroy();
  }
}

export interface SerialPortInfo {
  path: string;
  /** /dev/serial/by-id/... link: survives replugging into another USB socket, unlike ttyUSB numbers. */
  stablePath?: string;
  manufacturer?: string;
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

export interface ListOptions {
  /** Roots for tests; default /dev and /sys. */
  devDir?: string;
  sysDir?: string;
  /** Forces the /dev scan even where udev is available. */
  scanOnly?: boolean;
}

/**
 * Serial ports for the UI. On Linux serialport's list() spawns `udevadm`
 * and, where it is absent (containers, CI, minimal images), the spawn's
 * ENOENT is an unhandled 'error' that kills the whole process; so we only
 * call it when udevadm is on PATH, and otherwise read /dev and /sys.
 */
export async function listSerialPorts(opts: ListOptions = {}): Promise<SerialPortInfo[]> {
  const scan = () => scanDev(opts.devDir ?? '/dev', opts.sysDir ?? '/sys');
  if (opts.scanOnly || (process.platform === 'linux' && !(await onPath('udevadm')))) return scan();
  let listed: SerialPortInfo[] = [];
  try {
    listed = (await SerialPort.list()).map((p) => strip({ path: p.path, manufacturer: p.manufacturer, vendorId: p.vendorId, productId: p.productId, serialNumber: p.serialNumber }));
  } catch {
    // udev without a database (some containers) fails or lists nothing; the scan still finds the devices.
  }
  if (listed.length || process.platform !== 'linux') return listed;
  return scan();
}

async function onPath(cmd: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      await access(join(dir, cmd), fsc.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const TTY_NAME = /^tty(USB|ACM|S|AMA)\d+$/;

async function scanDev(devDir: string, sysDir: string): Promise<SerialPortInfo[]> {
  const byPath = new Map<string, SerialPortInfo>();
  for (const name of await readdir(devDir).catch(() => [] as string[])) {
    if (!TTY_NAME.test(name)) continue;
    // ttyS0..31 exist on most PCs whether or not a UART is behind them; the kernel reports type 0 for "no UART".
    if (name.startsWith('ttyS') && (await readText(join(sysDir, 'class/tty', name, 'type'))) === '0') continue;
    byPath.set(join(devDir, name), { path: join(devDir, name) });
  }
  const byIdDir = join(devDir, 'serial/by-id');
  for (const link of await readdir(byIdDir).catch(() => [] as string[])) {
    const target = await readlink(join(byIdDir, link)).catch(() => undefined);
    if (!target) continue;
    const path = resolve(byIdDir, target);
    const info = byPath.get(path) ?? { path };
    info.stablePath ??= join(byIdDir, link);
    byPath.set(path, info);
  }
  const out: SerialPortInfo[] = [];
  for (const info of byPath.values()) out.push(strip({ ...info, ...(await usbInfo(sysDir, basename(info.path))) }));
  return out.sort((a, b) => a.path.localeCompare(b.path, undefined, { numeric: true }));
}

/** Walks up from the tty's device to the USB device that carries idVendor; nothing when there is none. */
async function usbInfo(sysDir: string, name: string): Promise<Partial<SerialPortInfo>> {
  let dir = await realpath(join(sysDir, 'class/tty', name, 'device')).catch(() => undefined);
  for (let depth = 0; dir && depth < 6; depth++, dir = dirname(dir)) {
    const vendorId = await readText(join(dir, 'idVendor'));
    if (vendorId === undefined) continue;
    return {
      vendorId,
      productId: await readText(join(dir, 'idProduct')),
      manufacturer: await readText(join(dir, 'manufacturer')),
      serialNumber: await readText(join(dir, 'serial')),
    };
  }
  return {};
}

async function readText(path: string): Promise<string | undefined> {
  const s = await readFile(path, 'utf8').catch(() => undefined);
  return s?.trim() || undefined;
}

function strip(info: { [K in keyof SerialPortInfo]: SerialPortInfo[K] | undefined }): SerialPortInfo {
  const out: SerialPortInfo = { path: info.path as string };
  for (const k of ['stablePath', 'manufacturer', 'vendorId', 'productId', 'serialNumber'] as const) {
    const v = info[k];
    if (v) out[k] = v;
  }
  return out;
}
