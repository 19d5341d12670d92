import { headers, type MsgHdrsImpl } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { AppendHeaders } from '../../../app/store/append-headers.ts';

describe('replicated append headers', () => {
  it('encode to the same bytes as headers() with two set() calls, and read back', () => {
    for (const [origin, expected] of [
      [1, 0],
      [9, 10],
      [123_456_789, 987_654_321],
      [Number.MAX_SAFE_INTEGER, 0],
    ] as const) {
      const h = headers() as MsgHdrsImpl;
      h.set('Siot-Seq', String(origin));
      h.set('Nats-Expected-Last-Sequence', String(expected));
      const a = new AppendHeaders('Siot-Seq', origin, expected);
      expect(Buffer.from(a.encode()).toString()).toBe(Buffer.from(h.encode()).toString());
      expect(a.get('Siot-Seq')).toBe(String(origin));
      expect(a.get('Nats-Expected-Last-Sequence')).toBe(String(expected));
    }
  });
});
