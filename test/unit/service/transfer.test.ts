import { describe, expect, it } from 'vitest';
import { ClientError, type HistoryRequest } from '../../../app/client/index.ts';
import { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT, historyQuery } from '../../../app/service/transfer.ts';

function refused(req: unknown, re: RegExp): void {
  let err: unknown;
  try {
    historyQuery(req as HistoryRequest);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ClientError);
  expect((err as Error).message).toMatch(re);
}

describe('historyQuery', () => {
  it('node and type required; default limit; no times means all', () => {
    expect(historyQuery({ nodeId: 'n', type: 'value' })).toEqual({ nodeId: 'n', type: 'value', limit: DEFAULT_HISTORY_LIMIT });
    refused({ type: 'value' }, /needs a nodeId/);
    refused({ nodeId: '', type: 'value' }, /needs a nodeId/);
    refused({ nodeId: 'n' }, /needs a point type/);
    refused({ nodeId: 'n', type: '' }, /needs a point type/);
    refused(null, /needs a nodeId/);
  });

  it('a key narrows to that key; an empty key means every key', () => {
    expect(historyQuery({ nodeId: 'n', type: 'value', key: 'ch1' }).key).toBe('ch1');
    expect(historyQuery({ nodeId: 'n', type: 'value', key: '' })).not.toHaveProperty('key');
  });

  it('limit 1..100,000', () => {
    expect(historyQuery({ nodeId: 'n', type: 'v', limit: 1 }).limit).toBe(1);
    expect(historyQuery({ nodeId: 'n', type: 'v', limit: MAX_HISTORY_LIMIT }).limit).toBe(100_000);
    for (const limit of [0, -1, MAX_HISTORY_LIMIT + 1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) refused({ nodeId: 'n', type: 'v', limit }, /limit must be 1-100000/);
    refused({ nodeId: 'n', type: 'v', limit: '10' }, /limit/);
  });

  it('ms → ns: start floored (inclusive), end rounded up (exclusive), exactly', () => {
    const q = historyQuery({ nodeId: 'n', type: 'v', startMs: 1_700_000_000_123, endMs: 1_700_000_000_456 });
    expect(q.start).toBe(1_700_000_000_123_000_000n);
    expect(q.end).toBe(1_700_000_000_456_000_000n);
    const f = historyQuery({ nodeId: 'n', type: 'v', startMs: 10.7, endMs: 20.2 });
    expect(f.start).toBe(10_000_000n);
    expect(f.end).toBe(21_000_000n);
    expect(historyQuery({ nodeId: 'n', type: 'v', startMs: 0 }).start).toBe(0n);
    expect(historyQuery({ nodeId: 'n', type: 'v', startMs: -1.5 }).start).toBe(-2_000_000n);
    // Only one bound.
    const e = historyQuery({ nodeId: 'n', type: 'v', endMs: 5 });
    expect(e).not.toHaveProperty('start');
    expect(e.end).toBe(5_000_000n);
  });

  it('null bounds (from JSON) are ignored; non-numbers refused', () => {
    expect(historyQuery({ nodeId: 'n', type: 'v', startMs: null, endMs: null } as unknown as HistoryRequest)).not.toHaveProperty('start');
    refused({ nodeId: 'n', type: 'v', startMs: Number.NaN }, /startMs must be ms since the epoch/);
    refused({ nodeId: 'n', type: 'v', endMs: Number.POSITIVE_INFINITY }, /endMs must be ms/);
    refused({ nodeId: 'n', type: 'v', startMs: '1000' }, /startMs must be ms/);
  });

  it('an end at or before the start is refused as a bad request', () => {
    refused({ nodeId: 'n', type: 'v', startMs: 2000, endMs: 2000 }, /endMs must be after startMs/);
    expect(historyQuery({ nodeId: 'n', type: 'v', startMs: 2000, endMs: 2001 }).end).toBe(2_001_000_000n);
  });
});
