// How the window is locked down. The renderer is served from a custom
// `app://siot/` protocol rather than file://: the protocol handler sets the
// Content-Security-Policy header on every response (a header cannot be
// forgotten by the page, and file:// responses carry no headers), gives the
// page a real origin the IPC handler can check, and can refuse any path
// outside the renderer's build folder.
import { readFile } from 'node:fs/promises';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SessionLike, WebContentsLike, WebPreferencesLike } from './electron-like.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'siot';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** Only our own files: no remote script, style, image, font or connection,
 * no eval, no plugins, no framing, no form posts, no <base> tricks.
 * `style-src 'unsafe-inline'` is the one allowance: Svelte's `style=`
 * attributes and the chart library set inline styles; inline *scripts*
 * stay forbidden. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "frame-src 'none'",
  "object-src 'none'",
].join('; ');

export function webPreferences(preload: string, devTools: boolean): WebPreferencesLike {
  return {
    preload,
    // The page runs in its own JavaScript world and a Chromium sandbox, with
    // no Node: the preload's `window.siot` is its only way out.
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    safeDialogs: true,
    spellcheck: false,
    devTools,
  };
}

/** Whether a URL is one of our renderer's pages (the IPC sender check). */
export function isAppUrl(url: string | undefined | null): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
};

function textResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' } });
}

/** The `app://` protocol handler: files under `rendererDir`, nothing else. */
export function rendererHandler(rendererDir: string): (request: Request) => Promise<Response> {
  const root = resolve(rendererDir);
  return async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return textResponse(400, 'bad URL');
    }
    if (url.host !== APP_HOST || request.method !== 'GET') return textResponse(404, 'not found');
    let path: string;
    try {
      path = resolve(root, decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html');
    } catch {
      return textResponse(400, 'bad path');
    }
    const rel = relative(root, path);
    // `..` segments or an absolute path that escapes the renderer folder.
    if (rel === '' || isAbsolute(rel) || rel.split(sep).includes('..')) return textResponse(404, 'not found');
    try {
      const body = await readFile(join(root, rel));
      return new Response(body, { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': MIME[extname(path).toLowerCase()] ?? 'application/octet-stream' } });
    } catch {
      return textResponse(404, `not found: ${url.pathname}`);
    }
  };
}

/** No navigation away from our pages, no new windows, no <webview>. */
export function hardenContents(contents: WebContentsLike): void {
  const stayHome = (e: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) e.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (e: { preventDefault(): void }) => e.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/** Schemes the renderer may load at all; anything remote is cancelled
 * before it leaves the machine, whatever the page asks for. */
const LOCAL_SCHEMES = new Set([`${APP_SCHEME}:`, 'devtools:', 'chrome-extension:', 'data:', 'blob:']);

export function lockDownSession(session: SessionLike): void {
  session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.webRequest.onBeforeRequest((details, callback) => {
    let scheme = '';
    try {
      scheme = new URL(details.url).protocol;
    } catch {
      // unparsable: cancelled below
    }
    callback({ cancel: !LOCAL_SCHEMES.has(scheme) });
  });
}
