// A small HTTP client for the headless runner's API (node:http, so tests
// can send the headers a browser would never let a page set: Host, Origin).
import { request, type IncomingHttpHeaders } from 'node:http';
import type { ClientEvent, ClientMethod, MethodArg, MethodResult, WireError } from '../../app/client/index.ts';

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function httpRequest(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export class ApiError extends Error {
  constructor(readonly wire: WireError) {
    super(wire.message);
  }
}

/** Calls the API as the renderer does, with the session cookie. */
export class ApiClient {
  constructor(
    readonly origin: string,
    readonly cookie: string,
  ) {}

  static async signIn(url: string): Promise<ApiClient> {
    const r = await httpRequest(url);
    const set = r.headers['set-cookie']?.[0];
    if (r.status !== 302 || !set) throw new Error(`sign-in with the printed URL failed: ${r.status} ${r.body}`);
    return new ApiClient(new URL(url).origin, set.split(';')[0] as string);
  }

  async raw(method: string, arg?: unknown): Promise<{ ok: boolean; value?: unknown; error?: WireError }> {
    const r = await httpRequest(`${this.origin}/api/call`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: this.cookie },
      body: JSON.stringify({ method, arg: arg ?? null }),
    });
    if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status} ${r.body}`);
    return JSON.parse(r.body) as { ok: boolean; value?: unknown; error?: WireError };
  }

  async call<M extends ClientMethod>(method: M, ...arg: MethodArg<M> extends undefined ? [] : [MethodArg<M>]): Promise<MethodResult<M>> {
    const r = await this.raw(method, arg[0]);
    if (!r.ok) throw new ApiError(r.error as WireError);
    return r.value as MethodResult<M>;
  }

  /** Opens the event stream; returns the events seen so far (live array) and a closer. */
  events(): { seen: ClientEvent[]; close: () => void } {
    const seen: ClientEvent[] = [];
    let buf = '';
    const req = request(`${this.origin}/api/events`, { headers: { Cookie: this.cookie } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of block.split('\n')) if (line.startsWith('data: ')) seen.push(JSON.parse(line.slice(6)) as ClientEvent);
        }
      });
    });
    req.on('error', () => undefined);
    req.end();
    return { seen, close: () => req.destroy() };
  }
}
