// The renderer's one way to the main process. The same typed Client runs
// over Electron's preload bridge (`window.siot`) or, headless, over the
// loopback HTTP API (the key is in an HttpOnly cookie, so nothing here
// handles secrets).
import type { Client, ClientApi, ClientEvent, ClientMethod, MethodArg, MethodResult, WireError } from '../../../app/client/index.ts';

export interface Transport {
  call(method: ClientMethod, arg: unknown): Promise<unknown>;
  onEvent(listener: (e: ClientEvent) => void): () => void;
  /** Whether the main process is reachable (headless: the event stream is open). */
  onConnection?(listener: (up: boolean) => void): () => void;
}

/** What the Electron preload exposes (app/main/preload.ts). */
export interface PreloadBridge {
  call(method: string, arg?: unknown): Promise<unknown>;
  onEvent(listener: (e: ClientEvent) => void): () => void;
}

declare global {
  interface Window {
    siot?: PreloadBridge;
  }
}

export class CallError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CallError';
  }
}

export function httpTransport(base = ''): Transport {
  const listeners = new Set<(e: ClientEvent) => void>();
  const conn = new Set<(up: boolean) => void>();
  let source: EventSource | undefined;
  let up = false;
  const setUp = (v: boolean) => {
    if (v === up) return;
    up = v;
    for (const l of conn) l(v);
  };
  const open = () => {
    if (source) return;
    source = new EventSource(`${base}/api/events`);
    source.onopen = () => setUp(true);
    // EventSource reconnects by itself (retry: 1000 from the server).
    source.onerror = () => setUp(false);
    source.onmessage = (m: MessageEvent<string>) => {
      const e = JSON.parse(m.data) as ClientEvent;
      for (const l of listeners) l(e);
    };
  };
  return {
    async call(method, arg) {
      let res: Response;
      try {
        res = await fetch(`${base}/api/call`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify({ method, arg: arg ?? null }),
        });
      } catch (e) {
        throw new CallError(`the app's service is not reachable (${(e as Error).message}); is it still running?`, 'unreachable');
      }
      if (!res.ok) throw new CallError(`${method}: ${res.status} ${await res.text()}`, String(res.status));
      const body = (await res.json()) as { ok: true; value: unknown } | { ok: false; error: WireError };
      if (!body.ok) throw new CallError(body.error.message, body.error.code);
      return body.value;
    },
    onEvent(l) {
      listeners.add(l);
      open();
      return () => listeners.delete(l);
    },
    onConnection(l) {
      conn.add(l);
      l(up);
      return () => conn.delete(l);
    },
  };
}

export function preloadTransport(bridge: PreloadBridge): Transport {
  return {
    call: (method, arg) => bridge.call(method, arg),
    onEvent: (l) => bridge.onEvent(l),
    onConnection: (l) => {
      // In Electron the main process is this app itself: up while we run.
      l(true);
      return () => undefined;
    },
  };
}

/** A typed Client over any transport. Every method is listed, so the
 * compiler checks this against ClientApi (tests check it against the main
 * process's method list). */
export function createClient(t: Transport): Client {
  const call =
    <M extends ClientMethod>(m: M) =>
    (arg?: MethodArg<M>) =>
      t.call(m, arg) as Promise<MethodResult<M>>;
  const api: ClientApi = {
    info: call('info'),
    tree: call('tree'),
    status: call('status'),
    writePoints: call('writePoints'),
    history: call('history'),
    exportCsv: call('exportCsv'),
    exportYaml: call('exportYaml'),
    importYaml: call('importYaml'),
    listSerialPorts: call('listSerialPorts'),
    connections: call('connections'),
    connect: call('connect'),
    disconnect: call('disconnect'),
    forgetConnection: call('forgetConnection'),
  };
  return { ...api, onEvent: (l) => t.onEvent(l) };
}

export function defaultTransport(): Transport {
  return typeof window !== 'undefined' && window.siot ? preloadTransport(window.siot) : httpTransport();
}
