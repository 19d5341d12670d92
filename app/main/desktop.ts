// The desktop shell's wiring, with Electron passed in (main.ts hands over
// the real module, tests a fake): one instance per user, the store in the
// app-data folder, a locked-down window, the service behind IPC, a quit that
// waits for the service to stop, and a dialog when nats-server is gone for
// good. Electron-free so a test can drive every path.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientApi, ClientEvent } from '../client/index.ts';
import { findNatsServer, type FindOptions, type FoundBinary } from '../nats/index.ts';
import { APP_NAME, type Service, type ServiceOptions } from '../service/index.ts';
import type { ElectronLike, PreventableEvent, WebContentsLike, WindowLike } from './electron-like.ts';
import { registerIpc, sendEvent } from './ipc.ts';
import { exportTree, menuTemplate, showAbout } from './menu.ts';
import { APP_INDEX_URL, APP_SCHEME, hardenContents, lockDownSession, rendererHandler, webPreferences } from './security.ts';

export const APP_TITLE = 'SIOT Field Commissioner';

export interface DesktopOptions {
  electron: ElectronLike;
  startService(opts: ServiceOptions): Promise<Service>;
  /** The compiled preload (preload.cjs). */
  preloadPath: string;
  /** The renderer's build folder (holds index.html). */
  rendererDir: string;
  /** Electron's `process.resourcesPath` (the packaged nats-server lives there). */
  resourcesPath?: string;
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  icon?: string;
  findBinary?(opts: FindOptions): FoundBinary;
  /** Longest wait for the service to stop before quitting anyway. */
  stopTimeoutMs?: number;
  log?(message: string): void;
}

export interface Desktop {
  /** Settles once the window is created and the first service start has settled. */
  readonly ready: Promise<void>;
  readonly window: WindowLike | undefined;
  /** The current service (replaced by a restart). */
  service(): Promise<Service>;
}

/** `--data-dir DIR` / `--data-dir=DIR` and `--demo` from Electron's argv
 * (which also holds Electron's and Chromium's own switches: ignored). */
export function parseDesktopArgs(argv: string[]): { dataDir?: string; demo: boolean } {
  let dataDir: string | undefined;
  argv.forEach((a, i) => {
    if (a === '--data-dir') dataDir = argv[i + 1];
    else if (a.startsWith('--data-dir=')) dataDir = a.slice('--data-dir='.length);
  });
  return { dataDir, demo: argv.includes('--demo') };
}

/** Returns null when another instance already runs (it is focused instead). */
export function startDesktop(o: DesktopOptions): Desktop | null {
  const { app, BrowserWindow, dialog, Menu, protocol } = o.electron;
  const log = o.log ?? ((m: string) => process.stderr.write(`siot: ${m}\n`));
  const env = o.env ?? process.env;

  // A second copy would start a second nats-server on the same store.
  if (!app.requestSingleInstanceLock()) {
    log('the app is already running; bringing its window to the front');
    app.quit();
    return null;
  }

  // One folder for the desktop app and the headless runner, whatever the
  // product name (Electron derives userData from it): app/cli/data-dir.ts.
  app.setPath('userData', join(app.getPath('appData'), APP_NAME));
  const args = parseDesktopArgs(o.argv ?? process.argv);
  const dataDir = args.dataDir ?? env.SIOT_DATA_DIR ?? app.getPath('userData');
  const devTools = !app.isPackaged;

  // Before `ready`: makes app:// a standard, secure origin (relative URLs,
  // fetch, and a real origin for the IPC sender check).
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
  app.on('web-contents-created', (_e: unknown, contents: WebContentsLike) => hardenContents(contents));

  let window: WindowLike | undefined;
  let current: Promise<Service> | undefined;
  let stopEvents: (() => void) | undefined;
  let dialogOpen = false;
  /** The service a failure dialog was shown for (one dialog per service). */
  let failedService: Service | undefined;
  let quitState: 'running' | 'stopping' | 'stopped' = 'running';

  const api = async (): Promise<ClientApi> => {
    if (!current) throw new Error('the service has not started yet');
    return (await current).api;
  };

  const focus = () => {
    if (!window || window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  async function launch(): Promise<Service> {
    const found = (o.findBinary ?? findNatsServer)({
      resourcesPath: app.isPackaged ? o.resourcesPath : undefined,
      // In development the app runs from dist/, so say where setup put it.
      cacheDir: join(app.getAppPath(), '.cache', 'nats-server', 'bin'),
      env,
    });
    log(`nats-server ${found.version} (${found.source}) ${found.path}; data in ${dataDir}`);
    const svc = await o.startService({
      dataDir,
      mode: 'electron',
      appName: APP_TITLE,
      appVersion: app.getVersion(),
      demo: args.demo,
      resourcesPath: o.resourcesPath,
      binary: found.path,
    });
    stopEvents = svc.onEvent((e) => onServiceEvent(svc, e));
    return svc;
  }

  function onServiceEvent(svc: Service, e: ClientEvent): void {
    sendEvent(window?.webContents, e);
    // 'crashed' and 'restarting' are shown by the UI from these events; the
    // supervisor gave up at 'failed', so ask the technician what to do.
    if (e.kind === 'status' && e.status.server.state === 'failed' && failedService !== svc) {
      failedService = svc;
      void offerRestart('nats-server stopped and could not be restarted.', e.status.server.error ?? 'see the log for its last output');
    }
  }

  function begin(start: () => Promise<Service>): void {
    const p = start();
    current = p;
    p.then(
      () => undefined,
      (e: Error) => {
        log(`service did not start: ${e.message}`);
        void offerRestart('The SIOT service could not start.', e.message);
      },
    );
  }

  async function stopService(p: Promise<Service> | undefined): Promise<void> {
    let svc: Service;
    try {
      if (!p) return;
      svc = await p;
    } catch {
      return; // it never started: nothing to stop
    }
    stopEvents?.();
    stopEvents = undefined;
    await svc.stop();
  }

  function restart(): void {
    const old = current;
    log('restarting the service');
    begin(async () => {
      await stopService(old).catch((e: Error) => log(`stopping the old service failed: ${e.message}`));
      const svc = await launch();
      // The page holds state from the old service: start it afresh.
      if (window && !window.isDestroyed()) window.webContents.reload();
      return svc;
    });
  }

  async function offerRestart(message: string, detail: string): Promise<void> {
    if (dialogOpen || quitState !== 'running') return;
    dialogOpen = true;
    try {
      const { response } = await dialog.showMessageBox({
        type: 'error',
        title: APP_TITLE,
        message,
        detail: `${detail}\n\nRestart tries again with the same store; nothing stored is lost.`,
        buttons: ['Restart', 'Quit'],
        defaultId: 0,
        cancelId: 1,
        noLink: true,
      });
      if (response === 0) restart();
      else app.quit();
    } finally {
      dialogOpen = false;
    }
  }

  /** A menu action's failure goes to an error box, not to a silent log. */
  const menuAction = (what: string, fn: () => Promise<unknown>) => () => {
    fn().catch((e: Error) => dialog.showErrorBox(`${what} failed`, e.message));
  };

  function createWindow(): void {
    if (!existsSync(join(o.rendererDir, 'index.html'))) {
      dialog.showErrorBox('The user interface is missing', `${join(o.rendererDir, 'index.html')} does not exist. Build it with \`npm run build:electron\`, then start again.`);
    }
    const win = new BrowserWindow({
      width: 1280,
      height: 820,
      minWidth: 800,
      minHeight: 500,
      show: false,
      title: APP_TITLE,
      ...(o.icon ? { icon: o.icon } : {}),
      backgroundColor: '#ffffff',
      webPreferences: webPreferences(o.preloadPath, devTools),
    });
    window = win;
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (window === win) window = undefined;
    });
    win.loadURL(APP_INDEX_URL).catch((e: Error) => log(`loading ${APP_INDEX_URL} failed: ${e.message}`));
  }

  app.on('second-instance', focus);
  // The service belongs to the window: closing it ends the app on every
  // platform (a macOS app without windows would keep nats-server running).
  app.on('window-all-closed', () => app.quit());
  app.on('activate', () => {
    if (!window && quitState === 'running') createWindow();
  });

  // Graceful quit: hold the quit until the service has flushed its writes,
  // closed its links and stopped nats-server, then quit for real.
  app.on('before-quit', (e: PreventableEvent) => {
    if (quitState === 'stopped') return;
    e.preventDefault();
    if (quitState === 'stopping') return;
    quitState = 'stopping';
    const limit = o.stopTimeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log(`the service did not stop within ${limit / 1000} s; quitting anyway`);
        resolve();
      }, limit);
    });
    void Promise.race([stopService(current).catch((err: Error) => log(`stopping the service failed: ${err.message}`)), timeout]).finally(() => {
      clearTimeout(timer);
      quitState = 'stopped';
      app.quit();
    });
  });

  const ready = app.whenReady().then(async () => {
    lockDownSession(o.electron.session.defaultSession);
    protocol.handle(APP_SCHEME, rendererHandler(o.rendererDir));
    registerIpc(o.electron.ipcMain, api);
    const actions = {
      exportTree: menuAction('Export', async () => exportTree(await api(), dialog)),
      showAbout: menuAction('About', async () => showAbout(await api(), dialog)),
    };
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(o.platform ?? process.platform, devTools, actions)));
    begin(launch);
    createWindow();
    await current?.catch(() => undefined);
  });

  return {
    ready,
    get window() {
      return window;
    },
    service: () => current ?? Promise.reject(new Error('the service has not started yet')),
  };
}
