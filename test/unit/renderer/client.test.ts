import { describe, expect, it } from 'vitest';
import { CLIENT_METHODS, type ClientEvent, type ClientMethod } from '../../../app/client/index.ts';
import { createClient, preloadTransport, type Transport } from '../../../renderer/src/lib/client.ts';

function fakeTransport() {
  const calls: Array<[ClientMethod, unknown]> = [];
  const listeners = new Set<(e: ClientEvent) => void>();
  const t: Transport = {
    call: async (m, arg) => {
      calls.push([m, arg]);
      return { answer: m };
    },
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { t, calls, listeners };
}

describe('createClient', () => {
  it('has exactly the main process methods (CLIENT_METHODS) plus onEvent', () => {
    const c = createClient(fakeTransport().t);
    const keys = Object.keys(c).filter((k) => k !== 'onEvent');
    expect(keys.sort()).toEqual([...CLIENT_METHODS].sort());
    expect(typeof c.onEvent).toBe('function');
    for (const m of CLIENT_METHODS) expect(typeof c[m]).toBe('function');
  });

  it('each method passes its name and argument to the transport and returns its result', async () => {
    const { t, calls } = fakeTransport();
    const c = createClient(t);
    const req = { nodeId: 'n', points: [{ type: 'pollPeriod', value: 5 }] };
    await expect(c.writePoints(req)).resolves.toEqual({ answer: 'writePoints' });
    await c.tree();
    await c.disconnect({ role: 'hub' });
    expect(calls).toEqual([
      ['writePoints', req],
      ['tree', undefined],
      ['disconnect', { role: 'hub' }],
    ]);
    // Every listed method reaches the transport under its own name.
    calls.length = 0;
    for (const m of CLIENT_METHODS) await (c[m] as (a?: unknown) => Promise<unknown>)({ m });
    expect(calls).toEqual(CLIENT_METHODS.map((m) => [m, { m }]));
  });

  it('errors from the transport reach the caller', async () => {
    const c = createClient({ call: async () => Promise.reject(new Error('nope')), onEvent: () => () => undefined });
    await expect(c.status()).rejects.toThrow('nope');
  });

  it('onEvent subscribes through the transport and unsubscribes', () => {
    const { t, listeners } = fakeTransport();
    const c = createClient(t);
    const got: ClientEvent[] = [];
    const off = c.onEvent((e) => got.push(e));
    expect(listeners.size).toBe(1);
    const e: ClientEvent = { kind: 'points', changes: [] };
    for (const l of listeners) l(e);
    expect(got).toEqual([e]);
    off();
    expect(listeners.size).toBe(0);
  });
});

describe('preloadTransport', () => {
  it('forwards calls and events to the bridge and reports the service up', async () => {
    const seen: unknown[] = [];
    const t = preloadTransport({ call: async (m, a) => (seen.push([m, a]), 42), onEvent: () => () => undefined });
    await expect(t.call('info', undefined)).resolves.toBe(42);
    expect(seen).toEqual([['info', undefined]]);
    const ups: boolean[] = [];
    t.onConnection?.((u) => ups.push(u));
    expect(ups).toEqual([true]);
  });
});
