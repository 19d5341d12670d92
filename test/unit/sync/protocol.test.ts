import { describe, expect, it } from 'vitest';
import { parseAckReply } from '../../../app/sync/replicator.ts';
import { parseHello, refFromName } from '../../../app/sync/hello.ts';
import { originSeqOf } from '../../../app/sync/index.ts';

describe('sync protocol pieces', () => {
  it('reads stream, consumer and sequences from v1 and v2 ack subjects', () => {
    expect(parseAckReply('$JS.ACK.inst_d_d.C1.1.40.7.1795856867376180594.3')).toEqual({ stream: 'inst_d_d', consumer: 'C1', streamSeq: 40, consumerSeq: 7, pending: 3 });
    expect(parseAckReply('$JS.ACK.siot_d.ACCHASH.inst_d_d.C1.1.40.7.1795856867376180594.3.rnd')).toEqual({ stream: 'inst_d_d', consumer: 'C1', streamSeq: 40, consumerSeq: 7, pending: 3 });
    // Anything else is not a delivery of ours.
    expect(parseAckReply('inst.hub.hub.hub.p.x.1').stream).toBe('');
    expect(parseAckReply(undefined).stream).toBe('');
    // Short or odd subjects read as split('.') would: missing tokens are empty or 0.
    expect(parseAckReply('$JS.ACK.s.c.1.2')).toEqual({ stream: '1', consumer: '2', streamSeq: 0, consumerSeq: 0, pending: 0 });
    expect(parseAckReply('$JS.ACK.s..1.x.3.4.5')).toEqual({ stream: 's', consumer: '', streamSeq: 0, consumerSeq: 3, pending: 5 });
  });

  it('parses hellos defensively', () => {
    expect(parseHello(new TextEncoder().encode('{"id":"a","domain":"siot_a","role":"device","wants":["a"],"seqs":{"inst_a_a":5,"bogus":1,"inst_x_y":"7"}}'))).toEqual({
      id: 'a',
      domain: 'siot_a',
      role: 'device',
      wants: ['a'],
      seqs: { inst_a_a: 5 },
    });
    expect(parseHello(new TextEncoder().encode('not json'))).toBeNull();
    expect(parseHello(new TextEncoder().encode('{"id":1}'))).toBeNull();
  });

  it('names streams unambiguously and takes the origin sequence from the header when a copy has one', () => {
    expect(refFromName('inst_dev-1_lap-2')).toEqual({ name: 'inst_dev-1_lap-2', boundary: 'dev-1', origin: 'lap-2' });
    expect(refFromName('inst_a_b_c')).toBeNull();
    expect(refFromName('other')).toBeNull();
    expect(originSeqOf('12', 3)).toBe(12);
    expect(originSeqOf(undefined, 3)).toBe(3);
    expect(originSeqOf('junk', 3)).toBe(3);
  });
});
