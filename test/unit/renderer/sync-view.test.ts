import { describe, expect, it } from 'vitest';
import type { StatusSnapshot, SyncStatus } from '../../../app/client/index.ts';
import { banner, replicaProgress, streamOrigin, uploadProgress } from '../../../renderer/src/lib/sync-view.ts';

type Peer = SyncStatus['peers'][number];
type Replica = SyncStatus['replicas'][number];

function replica(o: Partial<Replica>): Replica {
  return { stream: 'inst_dev_dev', boundary: 'dev', origin: 'dev', source: 'dev', state: 'idle', pendingMessages: 0, pendingBytes: 0, lastOriginSeq: 0, delivered: 0, ...o };
}

function peer(o: Partial<Peer>): Peer {
  return { id: 'dev', domain: 'siot_dev', role: 'device', reachable: true, lastSeen: 0, upstream: [], upstreamComplete: false, ...o };
}

function sync(o: Partial<SyncStatus>): SyncStatus {
  return { instanceId: 'lap', replicas: [], peers: [], safeToDisconnect: false, ...o };
}

function status(state: StatusSnapshot['server']['state'], peers: Peer[] = [peer({})], error?: string): StatusSnapshot {
  return { server: { state, version: '2.10', restarts: 0, ...(error ? { error } : {}) }, sync: sync({ peers }), links: [] };
}

describe('replicaProgress', () => {
  it('have / (have + pending), floored, 100 only with nothing pending', () => {
    const [a, b, c, d] = replicaProgress(
      sync({
        replicas: [
          replica({ lastOriginSeq: 50, pendingMessages: 50, pendingBytes: 5000, lastError: 'boom' }),
          replica({ lastOriginSeq: 999, pendingMessages: 1 }),
          replica({ lastOriginSeq: 7, pendingMessages: 0 }),
          replica({ lastOriginSeq: 0, pendingMessages: 10 }),
        ],
      }),
    );
    expect(a).toMatchObject({ have: 50, total: 100, percent: 50, pendingMessages: 50, pendingBytes: 5000, lastError: 'boom', stream: 'inst_dev_dev', state: 'idle' });
    expect(b?.percent).toBe(99);
    expect(c).toMatchObject({ have: 7, total: 7, percent: 100 });
    expect(c).not.toHaveProperty('lastError');
    expect(d?.percent).toBe(0);
  });

  it('0 of 0 is complete (nothing to copy)', () => {
    expect(replicaProgress(sync({ replicas: [replica({})] }))[0]).toMatchObject({ have: 0, total: 0, percent: 100 });
    expect(replicaProgress(sync({}))).toEqual([]);
  });
});

describe('uploadProgress', () => {
  const up = (stream: string, local: number, peerSeq: number) => ({ stream, localLastOriginSeq: local, peerLastOriginSeq: peerSeq, pendingMessages: Math.max(0, local - peerSeq) });

  it('sums over streams; a peer ahead of us counts as complete for that stream only', () => {
    const [p] = uploadProgress(sync({ peers: [peer({ upstream: [up('a', 100, 40), up('b', 100, 500)] })] }));
    expect(p).toMatchObject({ peer: 'dev', role: 'device', reachable: true, have: 140, total: 200, percent: 70, complete: false });
  });

  it('100 only when sync says upstreamComplete, even when the numbers add up', () => {
    expect(uploadProgress(sync({ peers: [peer({ upstream: [up('a', 10, 10)] })] }))[0]).toMatchObject({ have: 10, total: 10, percent: 99, complete: false });
    expect(uploadProgress(sync({ peers: [peer({ upstream: [up('a', 10, 3)], upstreamComplete: true })] }))[0]).toMatchObject({ percent: 100, complete: true });
  });

  it('0 of 0: 0 % until complete, then 100 %', () => {
    expect(uploadProgress(sync({ peers: [peer({})] }))[0]).toMatchObject({ have: 0, total: 0, percent: 0, complete: false });
    expect(uploadProgress(sync({ peers: [peer({ upstreamComplete: true })] }))[0]).toMatchObject({ have: 0, total: 0, percent: 100, complete: true });
  });

  it('counts edits made here (streams whose origin is this instance) apart', () => {
    const [p] = uploadProgress(sync({ peers: [peer({ id: 'hub', upstream: [up('inst_lap_lap', 10, 10), up('inst_dev_lap', 4, 2), up('inst_dev_dev', 500, 100)] })] }));
    expect(p).toMatchObject({ ownHave: 12, ownTotal: 14, have: 112, total: 514 });
    expect(streamOrigin('inst_dev_lap')).toBe('lap');
  });

  it('one entry per peer, in order', () => {
    const out = uploadProgress(sync({ peers: [peer({ id: 'dev' }), peer({ id: 'hub', role: 'hub', reachable: false })] }));
    expect(out.map((p) => [p.peer, p.role, p.reachable])).toEqual([
      ['dev', 'device', true],
      ['hub', 'hub', false],
    ]);
  });
});

describe('banner', () => {
  it('service down comes first, even with a failed server', () => {
    expect(banner(status('failed'), false)).toMatchObject({ level: 'error', text: expect.stringMatching(/service is not reachable/) });
    expect(banner(undefined, false)?.level).toBe('error');
  });

  it('server failed (with its error) before not ready', () => {
    const b = banner(status('failed', [], 'exit 1'), true);
    expect(b).toMatchObject({ level: 'error' });
    expect(b?.text).toContain('exit 1');
    expect(banner(status('failed', []), true)?.text).toContain('see the log');
  });

  it('server not ready (starting, restarting, crashed, stopped) warns, naming the state, before offline', () => {
    for (const st of ['starting', 'restarting', 'crashed', 'stopped'] as const) {
      const b = banner(status(st, []), true);
      expect(b?.level).toBe('warn');
      expect(b?.text).toContain(st);
      expect(b?.text).not.toMatch(/Offline/);
    }
  });

  it('offline when no peer is reachable (or none is known)', () => {
    expect(banner(status('ready', [peer({ reachable: false })]), true)).toMatchObject({ level: 'warn', text: expect.stringMatching(/^Offline/) });
    expect(banner(status('ready', []), true)?.text).toMatch(/^Offline/);
  });

  it('none when ready and a peer is reachable, or before the first status', () => {
    expect(banner(status('ready', [peer({ reachable: false }), peer({ id: 'hub', reachable: true })]), true)).toBeUndefined();
    expect(banner(undefined, true)).toBeUndefined();
  });
});
