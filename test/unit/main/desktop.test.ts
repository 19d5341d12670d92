// The Electron shell's wiring (app/main/desktop.ts and the real preload),
// driven through a stand-in for Electron: window lock-down, CSP, single
// instance, store location, quit ordering, the failure dialog and menus.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientEvent, StatusSnapshot } from '../../../app/client/index.ts';
import { startDesktop, type DesktopOptions } from '../../../app/main/desktop.ts';
import type { MenuItemLike } from '../../../app/main/electron-like.ts';
import { APP_INDEX_URL, CONTENT_SECURITY_POLICY } from '../../../app/main/security.ts';
import { fakeElectron, runPreload, type FakeElectron } from './fake-electron.ts';
import { INFO, stubService, type StubService } from './stub-service.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'siot-main-'));
  dirs.push(d);
  return d;
}

interface BootOptions {
  lock?: boolean;
  packaged?: boolean;
  env?: NodeJS.ProcessEnv;
  argv?: string[];
  autoStop?: boolean;
  failStarts?: string[];
  stopTimeoutMs?: number;
}

async function boot(o: BootOptions = {}) {
  const fake = fakeElectron();
  fake.app.lock = o.lock ?? true;
  fake.app.isPackaged = o.packaged ?? false;
  const rendererDir = join(tempDir(), 'renderer');
  mkdirSync(join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
  writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  const services: StubService[] = [];
  const failStarts = [...(o.failStarts ?? [])];
  const logs: string[] = [];
  const opts: DesktopOptions = {
    electron: fake,
    startService: async (options) => {
      fake.log.push('startService');
      const fail = failStarts.shift();
      if (fail) throw new Error(fail);
      const s = stubService(`s${services.length + 1}`, options, fake.log, o.autoStop ?? true);
      services.push(s);
      return s;
    },
    preloadPath: '/opt/siot/dist/app/main/preload.cjs',
    rendererDir,
    resourcesPath: '/opt/siot/resources',
    argv: o.argv ?? ['/opt/siot/siot-field-commissioner'],
    env: o.env ?? {},
    platform: 'linux',
    findBinary: () => ({ path: '/opt/siot/resources/nats-server/nats-server', version: '2.10.27', source: 'packaged' }),
    stopTimeoutMs: o.stopTimeoutMs ?? 5_000,
    log: (m) => logs.push(m),
  };
  const desktop = startDesktop(opts);
  fake.app.makeReady();
  await desktop?.ready;
  return { fake, desktop, services, logs, win: fake.windows[0], rendererDir };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function status(state: StatusSnapshot['server']['state'], error?: string): ClientEvent {
  return {
    kind: 'status',
    status: { server: { state, version: '2.10.27', restarts: 3, ...(error ? { error } : {}) }, sync: {} as StatusSnapshot['sync'], links: [] },
  };
}

function menuItem(fake: FakeElectron, top: string, label: string): MenuItemLike {
  const menu = fake.menu.template?.find((m) => m.label?.replace('&', '') === top);
  const item = menu?.submenu?.find((m) => m.label === label);
  if (!item) throw new Error(`no menu item ${top} → ${label}`);
  return item;
}

describe('window', () => {
  it('is sandboxed, context-isolated, without Node, and loads our own page', async () => {
    const { win, fake } = await boot();
    expect(win).toBeDefined();
    expect(win!.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/opt/siot/dist/app/main/preload.cjs',
      devTools: true,
    });
    expect(win!.options.show).toBe(false);
    expect(win!.loadedUrl).toBe(APP_INDEX_URL);
    win!.emit('ready-to-show');
    expect(win!.calls).toContain('show');
    // app:// must be privileged before ready; its handler is registered after.
    expect(fake.schemes).toEqual([{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true }, beforeReady: true }]);
    expect(fake.protocolHandlers.has('app')).toBe(true);
  });

  it('has no DevTools when packaged', async () => {
    const { win, fake } = await boot({ packaged: true });
    expect(win!.options.webPreferences.devTools).toBe(false);
    const view = fake.menu.template?.find((m) => m.label === '&View');
    expect(view?.submenu?.some((m) => m.role === 'toggleDevTools')).toBe(false);
  });

  it('serves the renderer with a strict Content-Security-Policy and nothing outside it', async () => {
    const { fake } = await boot();
    const handler = fake.protocolHandlers.get('app')!;
    const index = await handler(new Request(APP_INDEX_URL));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    const csp = index.headers.get('content-security-policy');
    expect(csp).toBe(CONTENT_SECURITY_POLICY);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/unsafe-eval|https?:|ws:|\*/);
    expect(csp).toMatch(/object-src 'none'/);
    const asset = await handler(new Request('app://siot/assets/app.js'));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect((await handler(new Request('app://siot/%2e%2e/%2e%2e/etc/passwd'))).status).toBe(404);
    expect((await handler(new Request('app://siot/..%2f..%2fetc%2fpasswd'))).status).toBe(404);
    expect((await handler(new Request('app://other/index.html'))).status).toBe(404);
    expect((await handler(new Request('app://siot/missing.js'))).status).toBe(404);
  });

  it('blocks navigation away, new windows, webviews, permissions and remote requests', async () => {
    const { win, fake } = await boot();
    const wc = win!.webContents;
    expect(wc.tryEvent('will-navigate', 'https://example.com/')).toBe(true);
    expect(wc.tryEvent('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(wc.tryEvent('will-redirect', 'http://127.0.0.1:8080/')).toBe(true);
    expect(wc.tryEvent('will-navigate', 'app://siot/index.html')).toBe(false);
    expect(wc.tryEvent('will-attach-webview')).toBe(true);
    expect(wc.openHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    let granted: boolean | undefined;
    fake.sessionHandlers.permission?.({}, 'media', (g) => (granted = g));
    expect(granted).toBe(false);
    expect(fake.sessionHandlers.check?.({}, 'notifications')).toBe(false);
    const cancel = (url: string) => {
      let r: boolean | undefined;
      fake.sessionHandlers.beforeRequest?.({ url }, (x) => (r = x.cancel));
      return r;
    };
    expect(cancel('https://example.com/x.js')).toBe(true);
    expect(cancel('ws://127.0.0.1:4222/')).toBe(true);
    expect(cancel('app://siot/assets/app.js')).toBe(false);
    expect(cancel('devtools://devtools/bundled/x.js')).toBe(false);
  });
});

describe('single instance', () => {
  it('a second instance quits at once without a window or a service', async () => {
    const { desktop, fake } = await boot({ lock: false });
    expect(desktop).toBeNull();
    expect(fake.app.quitted).toBe(true);
    expect(fake.windows).toHaveLength(0);
    expect(fake.log).not.toContain('startService');
  });

  it('the first instance brings its window back when another is started', async () => {
    const { win, fake } = await boot();
    win!.minimized = true;
    fake.app.emit('second-instance', {}, ['siot'], '/');
    expect(win!.calls).toEqual(['restore', 'show', 'focus']);
    expect(fake.windows).toHaveLength(1);
  });
});

describe('store location', () => {
  it('is the userData folder, shared with the headless runner', async () => {
    const { fake, services } = await boot();
    expect(fake.app.paths.userData).toBe(join('/home/tech/.config', 'siot-field-commissioner'));
    expect(services[0]!.options).toMatchObject({
      dataDir: join('/home/tech/.config', 'siot-field-commissioner'),
      mode: 'electron',
      appVersion: '0.1.0',
      demo: false,
      binary: '/opt/siot/resources/nats-server/nats-server',
      resourcesPath: '/opt/siot/resources',
    });
  });

  it('SIOT_DATA_DIR, then --data-dir, override it; --demo runs the simulators', async () => {
    expect((await boot({ env: { SIOT_DATA_DIR: '/tmp/a' } })).services[0]!.options.dataDir).toBe('/tmp/a');
    const { services } = await boot({ env: { SIOT_DATA_DIR: '/tmp/a' }, argv: ['electron', '.', '--data-dir', '/tmp/b', '--demo'] });
    expect(services[0]!.options).toMatchObject({ dataDir: '/tmp/b', demo: true });
  });
});

describe('IPC contract: preload ↔ main ↔ ClientApi', () => {
  it('every client method round-trips with its argument and result', async () => {
    const { fake, win, services } = await boot();
    const { CLIENT_METHODS } = await import('../../../app/client/index.ts');
    const siot = runPreload(fake, win!);
    for (const [i, method] of CLIENT_METHODS.entries()) {
      const arg = { n: i, nested: { list: [1, 'two', null] } };
      const direct = await services[0]!.api[method](arg as never);
      await expect(siot.call(method, arg), method).resolves.toEqual(direct);
    }
    expect(services[0]!.calls.filter((c) => c.arg !== undefined).map((c) => c.method)).toEqual(
      CLIENT_METHODS.filter((m) => !['info', 'tree', 'exportYaml'].includes(m)).flatMap((m) => [m, m]),
    );
    await expect(siot.call('status')).resolves.toEqual({ method: 'status', arg: null });
  });

  it('errors reach the page as Errors with the service’s message', async () => {
    const { fake, win } = await boot();
    const siot = runPreload(fake, win!);
    await expect(siot.call('connect', { fail: 'wrong leaf password for 10.0.0.5:7422', code: 'auth' })).rejects.toThrow(/^wrong leaf password for 10\.0\.0\.5:7422$/);
    await expect(siot.call('history', { fail: 'no such node' })).rejects.toThrow(/^no such node$/);
    const e = await siot.call('constructor').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^unknown method "constructor"; expected one of info, tree/);
  });

  it('refuses calls from any page but ours', async () => {
    const { fake, win } = await boot();
    const siot = runPreload(fake, win!, 'https://evil.example/');
    await expect(siot.call('info')).rejects.toThrow(/only the app's own pages may call/);
  });

  it('forwards service events until the page unsubscribes', async () => {
    const { fake, win, services } = await boot();
    const siot = runPreload(fake, win!);
    const seen: ClientEvent[] = [];
    const off = siot.onEvent((e) => seen.push(e));
    const ev: ClientEvent = { kind: 'connections', connections: { saved: [], active: {} } };
    services[0]!.emit(ev);
    services[0]!.emit(status('ready'));
    off();
    services[0]!.emit(ev);
    expect(seen).toEqual([ev, status('ready')]);
    expect(win!.webContents.sent.every((s) => s.channel === 'siot:event')).toBe(true);
  });

  it('a call made while the service starts waits for it', async () => {
    const fake = fakeElectron();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const desktop = startDesktop({
      electron: fake,
      startService: async (o) => {
        await gate;
        return stubService('late', o, fake.log);
      },
      preloadPath: '/p.cjs',
      rendererDir: tempDir(),
      argv: [],
      env: {},
      findBinary: () => ({ path: '/n', version: '2.10.27', source: 'cache' }),
      log: () => undefined,
    });
    fake.app.makeReady();
    await flush();
    fake.dialog.errors.length = 0; // the missing renderer's error box
    const siot = runPreload(fake, fake.windows[0]!);
    const pending = siot.call('info');
    release();
    await expect(pending).resolves.toEqual(INFO);
    await desktop!.ready;
  });
});

describe('graceful quit', () => {
  it('holds the quit until the service has stopped, then quits', async () => {
    const { fake, services } = await boot({ autoStop: false });
    fake.log.length = 0;
    fake.app.quit(); // e.g. File → Quit
    expect(fake.app.quitted).toBe(false);
    fake.app.quit(); // a second request while stopping changes nothing
    await flush();
    expect(services[0]!.stopCalls).toBe(1);
    expect(fake.app.quitted).toBe(false);
    services[0]!.finishStop();
    await flush();
    await flush();
    expect(fake.app.quitted).toBe(true);
    // Quit requested → service stopped → only then the real quit.
    expect(fake.log[0]).toBe('app.quit');
    expect(fake.log.filter((l) => l !== 'app.quit')).toEqual(['stop:s1:begin', 'stop:s1:done', 'app.quitted']);
    expect(fake.log.slice(-3)).toEqual(['stop:s1:done', 'app.quit', 'app.quitted']);
  });

  it('closing the last window quits the same way', async () => {
    const { fake, services } = await boot();
    fake.app.emit('window-all-closed');
    await flush();
    await flush();
    expect(services[0]!.stopCalls).toBe(1);
    expect(fake.app.quitted).toBe(true);
    expect(services[0]!.listeners()).toBe(0);
  });

  it('quits anyway when the service does not stop in time', async () => {
    const { fake, logs } = await boot({ autoStop: false, stopTimeoutMs: 30 });
    fake.app.quit();
    await new Promise((r) => setTimeout(r, 80));
    expect(fake.app.quitted).toBe(true);
    expect(logs.some((l) => /did not stop within/.test(l))).toBe(true);
  });
});

describe('when nats-server fails', () => {
  it('offers Restart, which starts a fresh service and reloads the page', async () => {
    const { fake, services, win } = await boot();
    fake.dialog.responses = [0];
    services[0]!.emit(status('crashed'));
    services[0]!.emit(status('restarting'));
    expect(fake.dialog.boxes).toHaveLength(0);
    services[0]!.emit(status('failed', 'nats-server exited 3 times in a row: address in use'));
    services[0]!.emit(status('failed', 'again')); // one dialog per failure
    const box = await fake.dialog.boxShown(1);
    expect(box).toMatchObject({ type: 'error', buttons: ['Restart', 'Quit'], message: expect.stringMatching(/could not be restarted/) });
    expect(box.detail).toMatch(/address in use/);
    await flush();
    await flush();
    expect(services).toHaveLength(2);
    expect(services[0]!.stopCalls).toBe(1);
    expect(fake.log.indexOf('stop:s1:done')).toBeLessThan(fake.log.lastIndexOf('startService'));
    expect(win!.webContents.reloads).toBe(1);
    // Calls now reach the new service.
    const siot = runPreload(fake, win!);
    await siot.call('status', { x: 1 });
    expect(services[1]!.calls).toEqual([{ method: 'status', arg: { x: 1 } }]);
    expect(fake.dialog.boxes).toHaveLength(1);
  });

  it('Quit stops the service and quits', async () => {
    const { fake, services } = await boot();
    fake.dialog.responses = [1];
    services[0]!.emit(status('failed', 'gone'));
    await fake.dialog.boxShown(1);
    await flush();
    await flush();
    expect(services[0]!.stopCalls).toBe(1);
    expect(fake.app.quitted).toBe(true);
  });

  it('a service that cannot start says why, and Restart tries again', async () => {
    const { fake, services, win } = await boot({ failStarts: ['no nats-server >= 2.10.0 found. Run `npm run setup`'] });
    fake.dialog.responses = [0];
    const box = await fake.dialog.boxShown(1);
    expect(box.message).toMatch(/could not start/);
    expect(box.detail).toMatch(/no nats-server >= 2\.10\.0 found/);
    const siot = runPreload(fake, win!);
    await flush();
    await flush();
    expect(services).toHaveLength(1);
    await expect(siot.call('info')).resolves.toEqual(INFO);
  });
});

describe('menus', () => {
  it('File → Export… saves the whole tree as YAML where the technician chooses', async () => {
    const { fake } = await boot();
    const out = join(tempDir(), 'tree.yaml');
    fake.dialog.savePath = out;
    menuItem(fake, 'File', 'Export…').click!();
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.dialog.saves).toEqual([{ title: 'Export the node tree', defaultPath: 'inst-1.yaml' }]);
    expect(readFileSync(out, 'utf8')).toBe('id: inst-1\n');
    expect(fake.dialog.errors).toEqual([]);
  });

  it('Help → About shows the app and nats-server versions', async () => {
    const { fake } = await boot();
    menuItem(fake, 'Help', 'About').click!();
    const box = await fake.dialog.boxShown(1);
    expect(box.message).toBe('SIOT Field Commissioner 0.1.0');
    expect(box.detail).toMatch(/nats-server 2\.10\.27/);
  });

  it('a failed menu action shows an error box', async () => {
    const { fake, services } = await boot();
    services[0]!.api.info = async () => {
      throw new Error('boom');
    };
    menuItem(fake, 'Help', 'About').click!();
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.dialog.errors).toContainEqual({ title: 'About failed', content: 'boom' });
  });
});
