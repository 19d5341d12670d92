// A stand-in for the parts of Electron the desktop shell uses, close enough
// to drive desktop.ts and the real preload script: app.quit() emits
// before-quit and quits only when nobody prevents it, IPC arguments and
// results are structured-cloned like Electron's, and the preload runs in the
// same wrapper Electron's sandbox gives it.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { compileFunction } from 'node:vm';
import { compilePreload, preloadSource } from '../../../build/scripts/build-electron.mjs';
import type { ClientEvent } from '../../../app/client/index.ts';
import type {
  ElectronLike,
  IpcInvokeEventLike,
  MenuItemLike,
  MessageBoxOptionsLike,
  WindowOptionsLike,
} from '../../../app/main/electron-like.ts';
import { APP_INDEX_URL } from '../../../app/main/security.ts';

type Listener = (...args: never[]) => unknown;

/** What the preload exposes as `window.siot`. */
export interface SiotBridge {
  call(method: string, arg?: unknown): Promise<unknown>;
  onEvent(listener: (e: ClientEvent) => void): () => void;
}

export class FakeApp extends EventEmitter {
  isPackaged = false;
  lock = true;
  quitted = false;
  readonly calls: string[] = [];
  readonly paths: Record<string, string> = { appData: '/home/tech/.config', userData: '/home/tech/.config/Electron' };
  private readyResolve!: () => void;
  private readonly readyPromise = new Promise<void>((r) => (this.readyResolve = r));
  isReady = false;

  constructor(private readonly log: string[]) {
    super();
  }
  requestSingleInstanceLock(): boolean {
    return this.lock;
  }
  quit(): void {
    this.log.push('app.quit');
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) {
      this.quitted = true;
      this.log.push('app.quitted');
    }
  }
  exit(): void {
    this.quitted = true;
  }
  whenReady(): Promise<void> {
    return this.readyPromise;
  }
  /** What Electron does once it has initialised. */
  makeReady(): void {
    this.isReady = true;
    this.readyResolve();
  }
  override on(event: string, listener: Listener): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  getPath(name: string): string {
    const p = this.paths[name];
    if (!p) throw new Error(`no path ${name}`);
    return p;
  }
  setPath(name: string, path: string): void {
    this.paths[name] = path;
  }
  getVersion(): string {
    return '0.1.0';
  }
  getAppPath(): string {
    return '/work/project';
  }
}

export class FakeIpcRenderer extends EventEmitter {
  constructor(private readonly ipcMain: FakeIpcMain, readonly url: string) {
    super();
  }
  invoke(channel: string, ...args: unknown[]): Promise<unknown> {
    return this.ipcMain.invoke(channel, this.url, ...args);
  }
}

export class FakeWebContents extends EventEmitter {
  readonly sent: Array<{ channel: string; args: unknown[] }> = [];
  openHandler?: (details: { url: string }) => { action: 'deny' };
  reloads = 0;
  destroyed = false;
  /** The renderer side, once a preload has run in this window. */
  renderer?: FakeIpcRenderer;

  override on(event: string, listener: Listener): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push({ channel, args });
    this.renderer?.emit(channel, { sender: 'main' }, ...structuredClone(args));
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  reload(): void {
    this.reloads++;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** Emits a cancellable event the way Electron does; true if prevented. */
  tryEvent(event: string, ...args: unknown[]): boolean {
    let prevented = false;
    this.emit(event, { preventDefault: () => (prevented = true) }, ...args);
    return prevented;
  }
}

export class FakeIpcMain {
  readonly handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  async invoke(channel: string, senderUrl: string, ...args: unknown[]): Promise<unknown> {
    const h = this.handlers.get(channel);
    if (!h) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    return structuredClone(await h({ senderFrame: { url: senderUrl } }, ...structuredClone(args)));
  }
}

export class FakeDialog {
  readonly boxes: MessageBoxOptionsLike[] = [];
  readonly errors: Array<{ title: string; content: string }> = [];
  readonly saves: Array<{ title: string; defaultPath: string }> = [];
  /** Answers to the next message boxes (button index); 0 when empty. */
  responses: number[] = [];
  savePath?: string;
  private waiters: Array<() => void> = [];

  async showMessageBox(options: MessageBoxOptionsLike): Promise<{ response: number }> {
    this.boxes.push(options);
    for (const w of this.waiters.splice(0)) w();
    return { response: this.responses.shift() ?? 0 };
  }
  async showSaveDialog(options: { title: string; defaultPath: string }): Promise<{ canceled: boolean; filePath?: string }> {
    this.saves.push(options);
    return this.savePath ? { canceled: false, filePath: this.savePath } : { canceled: true };
  }
  showErrorBox(title: string, content: string): void {
    this.errors.push({ title, content });
  }
  /** Resolves once `n` message boxes have been shown. */
  async boxShown(n: number): Promise<MessageBoxOptionsLike> {
    while (this.boxes.length < n) await new Promise<void>((r) => this.waiters.push(r));
    return this.boxes[n - 1]!;
  }
}

export interface FakeElectron extends ElectronLike {
  app: FakeApp;
  ipcMain: FakeIpcMain;
  dialog: FakeDialog;
  windows: FakeWindow[];
  log: string[];
  menu: { template?: MenuItemLike[] };
  schemes: Array<{ scheme: string; privileges: object; beforeReady: boolean }>;
  protocolHandlers: Map<string, (request: Request) => Response | Promise<Response>>;
  sessionHandlers: {
    permission?: (wc: unknown, permission: string, cb: (granted: boolean) => void) => void;
    check?: (wc: unknown, permission: string) => boolean;
    beforeRequest?: (details: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
  };
}

export class FakeWindow extends EventEmitter {
  readonly webContents = new FakeWebContents();
  loadedUrl?: string;
  minimized = false;
  destroyed = false;
  readonly calls: string[] = [];
  constructor(readonly options: WindowOptionsLike) {
    super();
  }
  override on(event: string, listener: Listener): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once(event: string, listener: Listener): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  async loadURL(url: string): Promise<void> {
    this.loadedUrl = url;
  }
  show(): void {
    this.calls.push('show');
  }
  focus(): void {
    this.calls.push('focus');
  }
  restore(): void {
    this.calls.push('restore');
    this.minimized = false;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
}

export function fakeElectron(): FakeElectron {
  const log: string[] = [];
  const app = new FakeApp(log);
  const windows: FakeWindow[] = [];
  const fake: FakeElectron = {
    app,
    log,
    windows,
    ipcMain: new FakeIpcMain(),
    dialog: new FakeDialog(),
    menu: {},
    schemes: [],
    protocolHandlers: new Map(),
    sessionHandlers: {},
    BrowserWindow: class extends FakeWindow {
      constructor(options: WindowOptionsLike) {
        super(options);
        if (!app.isReady) throw new Error('Cannot create BrowserWindow before app is ready');
        windows.push(this);
        log.push('window');
        app.emit('web-contents-created', {}, this.webContents);
      }
    },
    Menu: {
      buildFromTemplate: (template: MenuItemLike[]) => ({ template }),
      setApplicationMenu: (menu: unknown) => {
        fake.menu.template = (menu as { template: MenuItemLike[] }).template;
      },
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes) => {
        for (const s of schemes) fake.schemes.push({ ...s, beforeReady: !app.isReady });
      },
      handle: (scheme, handler) => {
        if (!app.isReady) throw new Error('protocol.handle before ready');
        fake.protocolHandlers.set(scheme, handler);
      },
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h) => (fake.sessionHandlers.permission = h),
        setPermissionCheckHandler: (h) => (fake.sessionHandlers.check = h),
        webRequest: { onBeforeRequest: (h) => (fake.sessionHandlers.beforeRequest = h) },
      },
    },
  };
  return fake;
}

/** Runs the real preload script (compiled as build-electron.mjs compiles it)
 * in Electron's sandbox wrapper, for a page at `url` in `win`, and returns
 * what it exposed as `window.siot`. */
export function runPreload(fake: FakeElectron, win: FakeWindow, url = APP_INDEX_URL): SiotBridge {
  const code = compilePreload(readFileSync(preloadSource, 'utf8'));
  const ipcRenderer = new FakeIpcRenderer(fake.ipcMain, url);
  win.webContents.renderer = ipcRenderer;
  const world: Record<string, unknown> = {};
  const contextBridge = {
    exposeInMainWorld: (key: string, api: unknown) => {
      if (key in world) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
      world[key] = api;
    },
  };
  const sandboxRequire = (id: string) => {
    if (id === 'electron') return { contextBridge, ipcRenderer };
    throw new Error(`module not found: ${id}`);
  };
  // Electron's sandboxed preload wrapper parameters (lib/sandboxed_renderer/preload.ts).
  const fn = compileFunction(code, ['require', 'process', 'exports', 'module', 'Buffer', 'global', 'setImmediate', 'clearImmediate']);
  const exports = {};
  fn(sandboxRequire, {}, exports, { exports }, undefined, world, setImmediate, clearImmediate);
  if (Object.keys(world).join() !== 'siot') throw new Error(`the preload exposed ${Object.keys(world).join(', ') || 'nothing'}; expected exactly window.siot`);
  return world.siot as SiotBridge;
}
