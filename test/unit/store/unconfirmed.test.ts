import { describe, expect, it } from 'vitest';
import { UnconfirmedAppends, wrongLastSequence, type UnconfirmedAppend } from '../../../app/store/unconfirmed.ts';

const at = (expectedLastSeq: number): UnconfirmedAppend => ({ subject: `inst.b.o.n.p.t.${expectedLastSeq}`, data: new Uint8Array([expectedLastSeq]), originSeq: 100 + expectedLastSeq, expectedLastSeq });
const seqs = (as: UnconfirmedAppend[]) => as.map((a) => a.expectedLastSeq);

describe('unconfirmed replica appends', () => {
  it('an acknowledged append stored at seq settles every one queued before it, in order, and no later one', () => {
    const u = new UnconfirmedAppends();
    for (const e of [10, 11, 12]) u.add('s', at(e));
    // The acknowledged one expected 13 and was stored at 14; 14..16 follow.
    for (const e of [14, 15, 16]) u.add('s', at(e));
    expect(seqs(u.storedBefore('s', 14))).toEqual([10, 11, 12]);
    expect(u.count('s')).toBe(3);
    expect(seqs(u.storedBefore('s', 18))).toEqual([14, 15, 16]);
    expect(u.count('s')).toBe(0);
    expect(u.storedBefore('other', 5)).toEqual([]);
  });

  it('a wrong-last-sequence refusal names exactly which of the earlier ones were stored; later ones wait for their own acknowledgement', () => {
    const u = new UnconfirmedAppends();
    for (const e of [10, 11, 12, 13]) u.add('s', at(e));
    u.add('s', at(15)); // after the failing acknowledged one (expected 14)
    // The stream ended at 12: the appends expecting 10 and 11 landed at 11
    // and 12; the one expecting 12 was refused, and so every later one.
    const r = u.settleFailure('s', 14, 12);
    expect(seqs(r.stored)).toEqual([10, 11]);
    expect(r.unknown).toEqual([]);
    expect(seqs(u.storedBefore('s', 99))).toEqual([15]);
  });

  it('a failure without the last sequence (timeout, lost connection) leaves the earlier ones unknown', () => {
    const u = new UnconfirmedAppends();
    for (const e of [10, 11]) u.add('s', at(e));
    u.add('s', at(13));
    const r = u.settleFailure('s', 12);
    expect(r.stored).toEqual([]);
    expect(seqs(r.unknown)).toEqual([10, 11]);
    expect(u.count('s')).toBe(1);
  });

  it('a new run that starts lower (a new round, from where the stream ends) settles what is left of the old one', () => {
    const u = new UnconfirmedAppends();
    // A run cut short (no acknowledged append after it): 10..12 queued.
    for (const e of [10, 11, 12]) u.add('s', at(e));
    // The next round starts at the stream's end, 12: the ones expecting 10
    // and 11 are stored (at 11 and 12), the one expecting 12 never will be.
    expect(seqs(u.add('s', at(12)))).toEqual([10, 11]);
    expect(u.count('s')).toBe(1);
    expect(u.add('s', at(13))).toEqual([]);
    u.clear('s');
    expect(u.count('s')).toBe(0);
  });

  it('reads the stream’s last sequence from a JetStream wrong-last-sequence refusal only', () => {
    expect(wrongLastSequence(new Error('wrong last sequence: 14811 (err_code 10071)'))).toBe(14811);
    expect(wrongLastSequence(new Error('timeout: nats-server did not acknowledge within 10000 ms'))).toBeUndefined();
    expect(wrongLastSequence('wrong last sequence: 0')).toBe(0);
  });
});
