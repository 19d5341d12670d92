import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameType, MAX_PAYLOAD, crc32Portable, dataFrames, encodeFrame, readDataPayload, type Frame } from '../../../app/link/framing.ts';
import { rng } from '../../helpers/rng.ts';

function collect() {
  const frames: Frame[] = [];
  const corrupt: { reason: string; skipped: number }[] = [];
  const dec = new FrameDecoder({ frame: (f) => frames.push(f), corrupt: (reason, skipped) => corrupt.push({ reason, skipped }) });
  return { dec, frames, corrupt };
}

const norm = (fs: Frame[]) => fs.map((f) => ({ type: f.type, session: f.session, payload: Buffer.from(f.payload).toString('hex') }));

function sample(): Frame[] {
  const r = rng(7);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  return [
    { type: FrameType.Open, session: 1, payload: Buffer.of(1) },
    { type: FrameType.Data, session: 1, payload: bytes(40) },
    { type: FrameType.Data, session: 0xffff, payload: Buffer.from('SBSB\x02SB') },
    { type: FrameType.Ping, session: 7, payload: Buffer.alloc(0) },
    { type: FrameType.Close, session: 1, payload: Buffer.alloc(0) },
  ];
}

describe('frame encoding', () => {
  it('round-trips every type, session and payload size up to the limit', () => {
    const frames: Frame[] = [...sample(), { type: FrameType.Data, session: 42, payload: Buffer.alloc(MAX_PAYLOAD, 0xab) }];
    const { dec, frames: out, corrupt } = collect();
    dec.push(Buffer.concat(frames.map(encodeFrame)));
    expect(norm(out)).toEqual(norm(frames));
    expect(corrupt).toEqual([]);
    expect(dec.pendingBytes).toBe(0);
  });

  it('refuses an oversized payload and splits long data into frames in order', () => {
    expect(() => encodeFrame({ type: FrameType.Data, session: 1, payload: Buffer.alloc(MAX_PAYLOAD + 1) })).toThrow(/exceeds 4096; split it/);
    const data = Buffer.from(Array.from({ length: MAX_PAYLOAD * 2 + 10 }, (_, i) => i & 0xff));
    const { frames: parts, nextSeq } = dataFrames(3, data, 7);
    expect(parts).toHaveLength(3);
    expect(nextSeq).toBe(10);
    const { dec, frames } = collect();
    for (const p of parts) dec.push(p);
    const payloads = frames.map((f) => readDataPayload(f.payload));
    expect(payloads.map((p) => p?.seq)).toEqual([7, 8, 9]);
    expect(Buffer.concat(payloads.map((p) => p?.bytes ?? Buffer.alloc(0)))).toEqual(data);
    expect(dataFrames(3, Buffer.alloc(0)).frames).toEqual([]);
    expect(readDataPayload(Buffer.alloc(2))).toBeNull();
  });

  it('computes the same CRC-32 as zlib without it', () => {
    const r = rng(3);
    for (const n of [0, 1, 7, 100, 5000]) {
      const b = Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
      expect(crc32Portable(b)).toBe(crc32(b));
    }
  });
});

describe('frame decoding', () => {
  it('gives the same frames however the stream is split', () => {
    const frames = sample();
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (let cut = 0; cut <= wire.length; cut++) {
      const { dec, frames: out, corrupt } = collect();
      dec.push(wire.subarray(0, cut));
      dec.push(wire.subarray(cut));
      expect(norm(out), `split at ${cut}`).toEqual(norm(frames));
      expect(corrupt).toEqual([]);
    }
    const { dec, frames: out } = collect();
    for (const b of wire) dec.push(Buffer.of(b));
    expect(norm(out)).toEqual(norm(frames));
  });

  it('detects every single-byte corruption of a frame and never delivers it', () => {
    const bad: Frame = { type: FrameType.Data, session: 9, payload: Buffer.from('hello, leaf node: SB in the payload') };
    const good: Frame = { type: FrameType.Close, session: 9, payload: Buffer.alloc(0) };
    const frame = encodeFrame(bad);
    const after = encodeFrame(good);
    for (let i = 0; i < frame.length; i++) {
      for (let x = 1; x < 256; x++) {
        const damaged = Buffer.from(frame);
        damaged[i] = (damaged[i] as number) ^ x;
        const { dec, frames, corrupt } = collect();
        dec.push(Buffer.concat([damaged, after]));
        // A length byte grown by the damage leaves the decoder waiting: the bridge expires it when the line idles.
        dec.expire();
        const where = `byte ${i} ^ ${x}`;
        expect(corrupt.length, where).toBeGreaterThan(0);
        expect(frames.filter((f) => f.type === FrameType.Data), where).toEqual([]);
        expect(norm(frames), where).toEqual(norm([good]));
      }
    }
  });

  it('detects a dropped byte anywhere in a frame', () => {
    const first = encodeFrame({ type: FrameType.Data, session: 2, payload: Buffer.from('0123456789abcdef') });
    const next = encodeFrame({ type: FrameType.Data, session: 2, payload: Buffer.from('next') });
    for (let i = 0; i < first.length; i++) {
      const { dec, frames, corrupt } = collect();
      dec.push(Buffer.concat([first.subarray(0, i), first.subarray(i + 1), next]));
      dec.expire();
      expect(corrupt.length, `drop ${i}`).toBeGreaterThan(0);
      expect(frames.map((f) => Buffer.from(f.payload).toString()), `drop ${i}`).toEqual(['next']);
    }
  });

  it('resynchronises after garbage, including garbage that looks like a header', () => {
    const r = rng(11);
    const frames = sample();
    const garbage = (n: number) => Buffer.from(Array.from({ length: n }, () => (r() < 0.2 ? 0x53 : r() < 0.25 ? 0x42 : Math.floor(r() * 256))));
    // A fake header claiming a long payload, so the decoder must wait and then give it up.
    const fake = Buffer.from([0x53, 0x42, FrameType.Data, 1, 0, 0x00, 0x08]);
    const parts = [garbage(50), fake, encodeFrame(frames[0] as Frame), garbage(3), ...frames.slice(1).map(encodeFrame), garbage(5)];
    const { dec, frames: out, corrupt } = collect();
    dec.push(Buffer.concat(parts));
    dec.expire();
    expect(norm(out)).toEqual(norm(frames));
    expect(corrupt.reduce((n, c) => n + c.skipped, 0)).toBe(50 + fake.length + 3 + 5);
    expect(dec.pendingBytes).toBe(0);
  });

  it('reports a truncated tail only when expired, and forgets it on reset', () => {
    const wire = encodeFrame({ type: FrameType.Data, session: 1, payload: Buffer.from('abcdef') });
    const { dec, frames, corrupt } = collect();
    dec.push(wire.subarray(0, 9));
    expect(corrupt).toEqual([]);
    expect(dec.pendingBytes).toBe(9);
    dec.expire();
    expect(corrupt).toEqual([{ reason: 'a truncated frame', skipped: 9 }]);
    dec.push(wire.subarray(0, 4));
    dec.reset();
    dec.push(wire);
    expect(frames).toHaveLength(1);
    expect(corrupt).toHaveLength(1);
  });

  it('delivers each frame once even when a handler throws', () => {
    const seen: number[] = [];
    let fail = true;
    const dec = new FrameDecoder({
      frame: (f) => {
        seen.push(f.session);
        if (fail) {
          fail = false;
          throw new Error('handler failed');
        }
      },
      corrupt: () => {},
    });
    const wire = Buffer.concat([1, 2].map((s) => encodeFrame({ type: FrameType.Ping, session: s, payload: Buffer.alloc(0) })));
    expect(() => dec.push(wire)).toThrow('handler failed');
    dec.push(Buffer.alloc(0));
    dec.expire();
    expect(seen).toEqual([1, 2]);
  });
});
