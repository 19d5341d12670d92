// Electron's main-process entry (package.json "main", compiled to
// dist/app/main/main.js). Thin on purpose: it hands the real Electron module
// to desktop.ts, which holds all the wiring and is tested without Electron.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { startService } from '../service/index.ts';
import { startDesktop } from './desktop.ts';
import type { ElectronLike } from './electron-like.ts';

const here = dirname(fileURLToPath(import.meta.url));
// The compiler checks here that Electron still fits what desktop.ts expects.
const electron: ElectronLike = { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session };
// Packaged apps get their icon from the installer; in development the window
// borrows the one in build/icons.
const devIcon = join(app.getAppPath(), 'build', 'icons', '512x512.png');

startDesktop({
  electron,
  startService,
  preloadPath: join(here, 'preload.cjs'),
  rendererDir: join(here, '..', '..', 'renderer'),
  resourcesPath: process.resourcesPath,
  argv: process.argv,
  ...(!app.isPackaged && existsSync(devIcon) ? { icon: devIcon } : {}),
});

// Ctrl-C in the terminal that started it takes the same graceful path as
// the Quit menu (the before-quit handler stops the service first).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
