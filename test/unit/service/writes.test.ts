import { describe, expect, it } from 'vitest';
import type { SyncStatus, WriteReceipt } from '../../../app/client/index.ts';
import { WriteTracker, appliedKey } from '../../../app/service/writes.ts';
import { checkPointTokens, stringPoint } from '../../../app/siot/index.ts';

const STREAM = 'inst_dev_lap';

function receipt(o: Partial<WriteReceipt> = {}): WriteReceipt {
  return {
    id: 'w1',
    nodeId: 'in1',
    points: [{ type: 'pollPeriod', key: '0', time: '1000' }],
    boundary: 'dev',
    stream: STREAM,
    seq: 5,
    state: 'stored',
    remote: true,
    ...o,
  };
}

function status(peers: Array<{ id: string; upstream: Array<[string, number]> }>): SyncStatus {
  return {
    instanceId: 'lap',
    replicas: [],
    safeToDisconnect: false,
    peers: peers.map((p) => ({
      id: p.id,
      domain: `siot_${p.id}`,
      role: 'device',
      reachable: true,
      lastSeen: 0,
      upstreamComplete: false,
      upstream: p.upstream.map(([stream, seq]) => ({ stream, localLastOriginSeq: 10, peerLastOriginSeq: seq, pendingMessages: 0 })),
    })),
  };
}

function setup() {
  const events: WriteReceipt[] = [];
  const t = new WriteTracker((r) => events.push(r));
  return { t, events, states: () => events.map((e) => `${e.id}:${e.state}`) };
}

describe('appliedKey', () => {
  it('type alone for key 0 (or empty), else type:key', () => {
    expect(appliedKey('pollPeriod', '0')).toBe('pollPeriod');
    expect(appliedKey('pollPeriod', '')).toBe('pollPeriod');
    expect(appliedKey('gain', 'ch2')).toBe('gain:ch2');
  });

  // "." separates subject tokens, so the report's key must not contain it.
  it('the applied key of a keyed point is a valid point key', () => {
    expect(() => checkPointTokens(stringPoint('applied', '1000', { key: appliedKey('gain', 'ch2') }))).not.toThrow();
  });
});

describe('WriteTracker', () => {
  it('stored → delivered once the boundary peer holds our stream up to the write', () => {
    const { t, events, states } = setup();
    t.add(receipt());
    expect(t.size).toBe(1);
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 4]] }]));
    expect(events).toEqual([]);
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 5]] }]));
    expect(states()).toEqual(['w1:delivered']);
    expect(events[0]).toMatchObject({ id: 'w1', state: 'delivered', seq: 5, nodeId: 'in1' });
    // Once only.
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 9]] }]));
    expect(states()).toEqual(['w1:delivered']);
    // Still tracked for "applied".
    expect(t.size).toBe(1);
  });

  it('another peer or another stream holding the sequence does not count', () => {
    const { t, events } = setup();
    t.add(receipt());
    t.onSync(status([{ id: 'hub', upstream: [[STREAM, 50]] }]));
    t.onSync(status([{ id: 'dev', upstream: [['inst_hub_lap', 50]] }]));
    t.onSync(status([{ id: 'dev', upstream: [] }]));
    t.onSync(status([]));
    expect(events).toEqual([]);
  });

  it('applied when the device reports a time ≥ the edit time, for the point key', () => {
    const { t, states } = setup();
    t.add(receipt({ points: [{ type: 'pollPeriod', key: '0', time: '1000' }] }));
    t.onApplied('in1', 'dev', 'pollPeriod', '999'); // older value applied: not ours
    expect(states()).toEqual([]);
    t.onApplied('in1', 'dev', 'pollPeriod', '1000');
    expect(states()).toEqual(['w1:applied']);
    expect(t.size).toBe(0);
    // Nothing more once done.
    t.onApplied('in1', 'dev', 'pollPeriod', '2000');
    expect(states()).toEqual(['w1:applied']);
  });

  it('a later time counts (a newer value won there, ours was delivered)', () => {
    const { t, states } = setup();
    t.add(receipt());
    t.onApplied('in1', 'dev', 'pollPeriod', '5000');
    expect(states()).toEqual(['w1:applied']);
  });

  it('times compare as ns integers, not text', () => {
    const { t, states } = setup();
    t.add(receipt({ points: [{ type: 'pollPeriod', key: '0', time: '10000000000' }] }));
    t.onApplied('in1', 'dev', 'pollPeriod', '9000000000'); // "9…" > "1…" as text
    expect(states()).toEqual([]);
  });

  it('every point of the write must be reported; keyed points use type.key', () => {
    const { t, states } = setup();
    t.add(
      receipt({
        points: [
          { type: 'pollPeriod', key: '0', time: '1000' },
          { type: 'gain', key: 'ch2', time: '1001' },
        ],
      }),
    );
    t.onApplied('in1', 'dev', 'pollPeriod', '1000');
    expect(states()).toEqual([]);
    t.onApplied('in1', 'dev', 'gain', '1001'); // wrong key
    expect(states()).toEqual([]);
    t.onApplied('in1', 'dev', 'gain:ch2', '1001');
    expect(states()).toEqual(['w1:applied']);
  });

  it('reports from another instance, another node or with a non-numeric time are ignored', () => {
    const { t, states } = setup();
    t.add(receipt());
    t.onApplied('in1', 'hub', 'pollPeriod', '1000');
    t.onApplied('in1', 'lap', 'pollPeriod', '1000');
    t.onApplied('in2', 'dev', 'pollPeriod', '1000');
    t.onApplied('in1', 'dev', 'pollPeriod', 'soon');
    t.onApplied('in1', 'dev', 'pollPeriod', '');
    expect(states()).toEqual([]);
    expect(t.size).toBe(1);
  });

  it('delivered then applied; applied may also come without delivered', () => {
    const { t, states } = setup();
    t.add(receipt({ id: 'a', seq: 1 }));
    t.add(receipt({ id: 'b', seq: 2, nodeId: 'in2' }));
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 1]] }]));
    t.onApplied('in1', 'dev', 'pollPeriod', '1000');
    t.onApplied('in2', 'dev', 'pollPeriod', '1000');
    expect(states()).toEqual(['a:delivered', 'a:applied', 'b:applied']);
    // b was never moved to delivered; later sync status does not resurrect it.
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 9]] }]));
    expect(states()).toEqual(['a:delivered', 'a:applied', 'b:applied']);
  });

  it('edge writes, local writes and receipts not in "stored" are not tracked', () => {
    const { t, events } = setup();
    t.add(receipt({ id: 'edge', parentId: 'dev' }));
    t.add(receipt({ id: 'local', remote: false, boundary: 'lap' }));
    t.add(receipt({ id: 'failed', state: 'failed' }));
    expect(t.size).toBe(0);
    t.onSync(status([{ id: 'dev', upstream: [[STREAM, 99]] }, { id: 'lap', upstream: [[STREAM, 99]] }]));
    t.onApplied('in1', 'dev', 'pollPeriod', '1000');
    t.onApplied('in1', 'lap', 'pollPeriod', '1000');
    expect(events).toEqual([]);
  });

  it('keeps at most 2,000 receipts, dropping the oldest', () => {
    const { t, states } = setup();
    for (let i = 0; i < 2_050; i++) t.add(receipt({ id: `w${i}`, nodeId: `n${i}`, seq: i + 1 }));
    expect(t.size).toBe(2_000);
    // The oldest 50 are gone: their reports do nothing.
    t.onApplied('n0', 'dev', 'pollPeriod', '1000');
    t.onApplied('n49', 'dev', 'pollPeriod', '1000');
    expect(states()).toEqual([]);
    t.onApplied('n50', 'dev', 'pollPeriod', '1000');
    t.onApplied('n2049', 'dev', 'pollPeriod', '1000');
    expect(states()).toEqual(['w50:applied', 'w2049:applied']);
    expect(t.size).toBe(1_998);
  });
});
