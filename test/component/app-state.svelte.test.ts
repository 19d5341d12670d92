// @vitest-environment jsdom
// AppState (runes, so compiled by Svelte) over a fake client: snapshot then
// events, batched per animation frame, and the life of an edit.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client, ClientEvent, TreeSnapshot, WriteReceipt } from '../../app/client/index.ts';
import { AppState } from '../../renderer/src/lib/app-state.svelte.ts';
import { edgeChange, node, nodeChange, pt } from '../unit/renderer/helpers.ts';

let frames: Array<() => void> = [];
const runFrames = () => {
  const f = frames;
  frames = [];
  for (const cb of f) cb();
};
let savedRaf: typeof globalThis.requestAnimationFrame;
beforeEach(() => {
  savedRaf = globalThis.requestAnimationFrame;
  globalThis.requestAnimationFrame = (cb) => (frames.push(() => cb(0)), frames.length);
});
afterEach(() => {
  globalThis.requestAnimationFrame = savedRaf;
  frames = [];
});

const snapshot: TreeSnapshot = { rootId: 'lap', nodes: [node('lap', 'root', 'device', 'Laptop'), node('dev', 'root', 'device', 'Device'), node('in1', 'dev', 'signal', 'Input 1')] };

function fakeClient(over: Partial<Client> = {}) {
  const listeners = new Set<(e: ClientEvent) => void>();
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const client = {
    info: async () => ({ appName: 'x', appVersion: '0', natsServerVersion: '2', instanceId: 'lap', dataDir: '/d', mode: 'headless' as const, demo: false }),
    tree: async () => (await gate, snapshot),
    status: async () => ({ server: { state: 'ready' as const, version: '2', restarts: 0 }, sync: { instanceId: 'lap', replicas: [], peers: [], safeToDisconnect: false }, links: [] }),
    connections: async () => ({ saved: [], active: {} }),
    onEvent: (l: (e: ClientEvent) => void) => (listeners.add(l), () => listeners.delete(l)),
    ...over,
  } as unknown as Client;
  const emit = (e: ClientEvent) => {
    for (const l of listeners) l(e);
  };
  return { client, emit, release };
}

function receipt(o: Partial<WriteReceipt>): WriteReceipt {
  return { id: 'w1', nodeId: 'in1', points: [{ type: 'pollPeriod', key: '0', time: '5' }], boundary: 'dev', stream: 'inst_dev_lap', seq: 3, state: 'stored', remote: true, ...o };
}

describe('AppState', () => {
  it('events that arrive while the snapshot loads are applied after it, then one batch per frame', async () => {
    const { client, emit, release } = fakeClient();
    const app = new AppState(client);
    const started = app.start();
    // Newer than the snapshot, but arrives before it.
    emit({ kind: 'points', changes: [nodeChange('in1', pt('description', 'Renamed', { time: 2_000_000_000n }))] });
    release();
    await started;
    expect(app.loaded).toBe(true);
    expect(app.model.description('in1')).toBe('Input 1');
    runFrames();
    expect(app.model.description('in1')).toBe('Renamed');
    const shape = app.shape;
    // 100 events in one frame: one model update.
    for (let i = 0; i < 100; i++) emit({ kind: 'points', changes: [nodeChange('in1', pt('value', i, { time: 3_000_000_000n + BigInt(i) }))] });
    expect(frames).toHaveLength(1);
    runFrames();
    expect(app.model.point('in1', 'value')?.value).toBe(99);
    expect(app.shape).toBe(shape); // values only
    emit({ kind: 'points', changes: [edgeChange('in2', 'dev', pt('nodeType', 'signal'))] });
    runFrames();
    expect(app.shape).toBe(shape + 1);
    expect(app.frameStats.maxBatch).toBe(100);
  });

  it('an edit goes pending → stored → delivered → applied, never backwards', async () => {
    let resolveWrite: (r: WriteReceipt) => void = () => undefined;
    const { client, emit, release } = fakeClient({ writePoints: () => new Promise<WriteReceipt>((r) => (resolveWrite = r)) });
    release();
    const app = new AppState(client);
    await app.start();
    const done = app.edit('in1', 'pollPeriod', '0', 500, 'float');
    expect(app.edits[0]).toMatchObject({ state: 'pending', nodeId: 'in1', value: 500 });
    resolveWrite(receipt({}));
    await done;
    expect(app.edits[0]).toMatchObject({ id: 'w1', state: 'stored' });
    emit({ kind: 'write', receipt: receipt({ state: 'delivered' }) });
    runFrames();
    expect(app.edits[0]?.state).toBe('delivered');
    emit({ kind: 'write', receipt: receipt({ state: 'applied' }) });
    emit({ kind: 'write', receipt: receipt({ state: 'delivered' }) });
    runFrames();
    expect(app.edits[0]?.state).toBe('applied');
    expect(Object.keys(app.edits[0]?.times ?? {}).sort()).toEqual(['applied', 'delivered', 'pending', 'stored']);
  });

  it('a refused write is marked failed with the reason and rethrown', async () => {
    const { client, release } = fakeClient({ writePoints: async () => Promise.reject(new Error('point x: "a" is not a number')) });
    release();
    const app = new AppState(client);
    await app.start();
    await expect(app.edit('in1', 'x', '0', 'a', 'float')).rejects.toThrow('is not a number');
    expect(app.edits[0]).toMatchObject({ state: 'failed', error: 'point x: "a" is not a number' });
  });

  it('a receipt event that overtakes the write reply is not lost', async () => {
    let resolveWrite: (r: WriteReceipt) => void = () => undefined;
    const { client, emit, release } = fakeClient({ writePoints: () => new Promise<WriteReceipt>((r) => (resolveWrite = r)) });
    release();
    const app = new AppState(client);
    await app.start();
    const done = app.edit('in1', 'pollPeriod', '0', 500, 'float');
    // The service announces "delivered" (its tracker runs inside writePoints)
    // and the event is applied before the HTTP reply arrives.
    emit({ kind: 'write', receipt: receipt({ state: 'delivered' }) });
    runFrames();
    resolveWrite(receipt({ state: 'stored' }));
    await done;
    expect(app.edits[0]).toMatchObject({ id: 'w1', state: 'delivered' });
  });
});
