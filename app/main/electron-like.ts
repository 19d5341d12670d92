// The part of Electron's main-process API the desktop shell uses, written
// out so the wiring (desktop.ts and friends) never imports 'electron' and
// can run in a test against plain fakes. main.ts passes the real module,
// and the compiler checks there that Electron still fits these shapes.

export interface PreventableEvent {
  preventDefault(): void;
}

export interface AppLike {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(): boolean;
  quit(): void;
  exit(code?: number): void;
  whenReady(): Promise<unknown>;
  // One overload per event we use, as Electron declares them, so Electron's
  // App fits and a fake with a single `on(event: string, ...)` does too.
  on(event: 'second-instance', listener: () => void): unknown;
  on(event: 'window-all-closed', listener: () => void): unknown;
  on(event: 'activate', listener: () => void): unknown;
  on(event: 'before-quit', listener: (e: PreventableEvent) => void): unknown;
  on(event: 'web-contents-created', listener: (e: unknown, contents: WebContentsLike) => void): unknown;
  getPath(name: 'appData' | 'userData'): string;
  setPath(name: 'userData', path: string): void;
  getVersion(): string;
  getAppPath(): string;
}

export interface WebPreferencesLike {
  preload: string;
  contextIsolation: boolean;
  sandbox: boolean;
  nodeIntegration: boolean;
  nodeIntegrationInWorker: boolean;
  nodeIntegrationInSubFrames: boolean;
  webSecurity: boolean;
  allowRunningInsecureContent: boolean;
  webviewTag: boolean;
  safeDialogs: boolean;
  spellcheck: boolean;
  devTools: boolean;
}

export interface WindowOptionsLike {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  icon?: string;
  backgroundColor: string;
  webPreferences: WebPreferencesLike;
}

export interface WebContentsLike {
  send(channel: string, ...args: unknown[]): void;
  on(event: 'will-navigate', listener: (e: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-redirect', listener: (e: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  reload(): void;
  isDestroyed(): boolean;
}

export interface WindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
}

export interface IpcInvokeEventLike {
  /** The frame that sent the call; null once it has gone. */
  readonly senderFrame: { url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** The menu roles we use: a subset of Electron's, so a template of ours is
 * a valid Electron template. */
export type MenuRole = 'appMenu' | 'editMenu' | 'quit' | 'reload' | 'toggleDevTools' | 'resetZoom' | 'zoomIn' | 'zoomOut' | 'togglefullscreen' | 'minimize' | 'close';

export interface MenuItemLike {
  label?: string;
  role?: MenuRole;
  type?: 'separator' | 'submenu';
  accelerator?: string;
  click?: () => void;
  submenu?: MenuItemLike[];
}

export interface MenuLike {
  buildFromTemplate(template: MenuItemLike[]): unknown;
  setApplicationMenu(menu: unknown): void;
}

export interface MessageBoxOptionsLike {
  type: 'info' | 'error' | 'warning';
  title: string;
  message: string;
  detail?: string;
  buttons: string[];
  defaultId?: number;
  cancelId?: number;
  noLink?: boolean;
}

export interface DialogLike {
  showMessageBox(options: MessageBoxOptionsLike): Promise<{ response: number }>;
  showSaveDialog(options: { title: string; defaultPath: string }): Promise<{ canceled: boolean; filePath?: string }>;
  showErrorBox(title: string, content: string): void;
}

export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: Array<{ scheme: string; privileges: { standard: boolean; secure: boolean; supportFetchAPI: boolean } }>): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

export interface SessionLike {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
  readonly webRequest: {
    onBeforeRequest(listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void): void;
  };
}

/** Everything the wiring takes from Electron. */
export interface ElectronLike {
  app: AppLike;
  BrowserWindow: new (options: WindowOptionsLike) => WindowLike;
  ipcMain: IpcMainLike;
  Menu: MenuLike;
  dialog: DialogLike;
  protocol: ProtocolLike;
  session: { readonly defaultSession: SessionLike };
}
