// The headless runner's web side: serves the renderer and the client API
// on 127.0.0.1 only. A per-launch secret, handed over once in the printed
// URL and then kept in an HttpOnly SameSite=Strict cookie, guards the API
// against other local users' pages and processes; the Host check guards
// against DNS rebinding.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { dispatch, toWireError, type ClientEvent } from '../client/index.ts';
import type { Service } from '../service/index.ts';
import { resolveStatic, sendFile } from './static.ts';

export interface HeadlessOptions {
  service: Pick<Service, 'api' | 'onEvent'>;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Fixed secret (tests); default: 32 random bytes. */
  secret?: string;
}

export interface HeadlessServer {
  /** Open this once: it carries the secret and sets the cookie. */
  url: string;
  origin: string;
  port: number;
  close(): Promise<void>;
}

const COOKIE = 'siot_key';
const MAX_BODY = 32 * 1024 * 1024;
const SSE_PING_MS = 15_000;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function same(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) throw Object.assign(new Error(`request body over ${MAX_BODY / 1024 / 1024} MB`), { status: 413 });
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHeadless(opts: HeadlessOptions): Promise<HeadlessServer> {
  const index = join(opts.rendererDir, 'index.html');
  if (!existsSync(index)) throw new Error(`the renderer is not built (${index} is missing); run \`npm run build:renderer\``);
  const secret = opts.secret ?? randomBytes(32).toString('base64url');
  const streams = new Set<ServerResponse>();
  let origin = '';
  let allowedHosts: string[] = [];

  const authorized = (req: IncomingMessage) => same(cookieValue(req, COOKIE), secret);

  async function handleCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const o = req.headers.origin;
    if (o !== undefined && !allowedHosts.some((h) => o === `http://${h}`)) return send(res, 403, 'cross-origin request refused');
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'send application/json');
    let body: { method?: unknown; arg?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as { method?: unknown; arg?: unknown };
    } catch (e) {
      const status = (e as { status?: number }).status ?? 400;
      return send(res, status, JSON.stringify({ ok: false, error: { message: `bad request: ${(e as Error).message}`, code: 'bad-request' } }), 'application/json');
    }
    try {
      const value = await dispatch(opts.service.api, body.method, body.arg);
      send(res, 200, JSON.stringify({ ok: true, value: value ?? null }), 'application/json');
    } catch (e) {
      send(res, 200, JSON.stringify({ ok: false, error: toWireError(e) }), 'application/json');
    }
  }

  function handleEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    streams.add(res);
    const off = opts.service.onEvent((e: ClientEvent) => {
      // A renderer that stops reading is dropped rather than buffered forever.
      if (res.writableLength > 8 * 1024 * 1024) return res.destroy();
      res.write(`data: ${JSON.stringify(e)}\n\n`);
    });
    const ping = setInterval(() => res.write(': ping\n\n'), SSE_PING_MS);
    const done = () => {
      clearInterval(ping);
      off();
      streams.delete(res);
    };
    req.on('close', done);
    res.on('error', done);
  }

  const server: Server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    if (!allowedHosts.includes(host)) return send(res, 421, `wrong Host "${host}": open ${origin}`);
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname.startsWith('/api/')) {
      if (!authorized(req)) return send(res, 401, 'not signed in: open the URL the app printed at start (it carries the key)');
      if (url.pathname === '/api/call' && req.method === 'POST') return void handleCall(req, res);
      if (url.pathname === '/api/events' && req.method === 'GET') return handleEvents(req, res);
      return send(res, 404, 'no such API');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed');
    const key = url.searchParams.get('key');
    if (key !== null) {
      if (!same(key, secret)) return send(res, 403, 'wrong key: open the URL the app printed at this start');
      return send(res, 302, '', 'text/plain', { Location: '/', 'Set-Cookie': `${COOKIE}=${secret}; HttpOnly; SameSite=Strict; Path=/` });
    }
    if (url.pathname === '/' || url.pathname === '/index.html') {
      if (!authorized(req)) return send(res, 401, 'not signed in: open the URL the app printed at start (it carries the key)');
      return sendFile(res, index, SECURITY_HEADERS);
    }
    const file = resolveStatic(opts.rendererDir, url.pathname);
    if (file) return sendFile(res, file, SECURITY_HEADERS);
    send(res, 404, 'not found');
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  allowedHosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  return {
    url: `${origin}/?key=${secret}`,
    origin,
    port,
    async close() {
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
