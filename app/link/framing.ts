import * as zlib from 'node:zlib';

/**
 * Frames for a serial line between the app's bridge and a device's bridge.
 * A serial line has no checksum of its own: a dropped or flipped byte must
 * end the leaf connection (which then reconnects), never reach nats-server
 * as if it were good. Every frame carries a CRC-32; a frame that fails it
 * poisons its session.
 *
 *   0  'S' 'B'         magic
 *   2  type   u8       OPEN, DATA, CLOSE, PING
 *   3  session u16 LE  one per TCP connection the leaf makes
 *   5  length  u16 LE  payload bytes (<= MAX_PAYLOAD)
 *   7  payload         DATA: u32 LE sequence (per session and direction), bytes
 *   .. crc32   u32 LE  over bytes 2 .. end of payload
 */
export const FrameType = { Open: 1, Data: 2, Close: 3, Ping: 4 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  session: number;
  payload: Uint8Array;
}

export const MAX_PAYLOAD = 4096;

// zlib.crc32 arrived in Node 20.15 / 22.2; the engines field allows any
// Node 20 (and Electron 31 ships 20.14), where a named import would fail
// to link. A table-driven fallback keeps the module loadable everywhere.
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32Js(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const crc32: (data: Uint8Array) => number = typeof zlib.crc32 === 'function' ? (d) => zlib.crc32(d) : crc32Js;
/** The fallback, exported so a test can hold it to zlib's result. */
export const crc32Portable = crc32Js;
const MAGIC0 = 0x53;
const MAGIC1 = 0x42;
const HEADER = 7;
const TRAILER = 4;

export function encodeFrame(f: Frame): Buffer {
  if (f.payload.length > MAX_PAYLOAD) throw new Error(`frame payload of ${f.payload.length} bytes exceeds ${MAX_PAYLOAD}; split it`);
  const out = Buffer.allocUnsafe(HEADER + f.payload.length + TRAILER);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = f.type;
  out.writeUInt16LE(f.session & 0xffff, 3);
  out.writeUInt16LE(f.payload.length, 5);
  out.set(f.payload, HEADER);
  out.writeUInt32LE(crc32(out.subarray(2, HEADER + f.payload.length)), HEADER + f.payload.length);
  return out;
}

/** Splits a byte run into DATA frames of at most MAX_PAYLOAD bytes. */
/**
 * Splits a byte run into DATA frames. Each DATA payload starts with a u32
 * sequence number, counted per session and direction: a frame lost whole
 * (its CRC never fails, it simply is not there) leaves a hole the receiver
 * sees as a jump, and the session ends instead of carrying on without it.
 * Returns the frames and the next sequence number.
 */
export function dataFrames(session: number, data: Uint8Array, firstSeq = 0): { frames: Buffer[]; nextSeq: number } {
  const frames: Buffer[] = [];
  let seq = firstSeq;
  const room = MAX_PAYLOAD - DATA_SEQ_BYTES;
  for (let off = 0; off < data.length; off += room) {
    const chunk = data.subarray(off, Math.min(data.length, off + room));
    const payload = Buffer.allocUnsafe(DATA_SEQ_BYTES + chunk.length);
    payload.writeUInt32LE(seq >>> 0, 0);
    payload.set(chunk, DATA_SEQ_BYTES);
    frames.push(encodeFrame({ type: FrameType.Data, session, payload }));
    seq = (seq + 1) >>> 0;
  }
  return { frames, nextSeq: seq };
}

export const DATA_SEQ_BYTES = 4;

/** The sequence number and bytes of a DATA payload; null if it is too short. */
export function readDataPayload(payload: Uint8Array): { seq: number; bytes: Uint8Array } | null {
  if (payload.length < DATA_SEQ_BYTES) return null;
  const seq = (payload[0] as number) | ((payload[1] as number) << 8) | ((payload[2] as number) << 16) | ((payload[3] as number) << 24);
  return { seq: seq >>> 0, bytes: payload.subarray(DATA_SEQ_BYTES) };
}

export interface DecodeEvents {
  frame: (f: Frame) => void;
  /** Bytes were lost or damaged; `skipped` bytes were discarded to resync. */
  corrupt: (reason: string, skipped: number) => void;
}

/**
 * Streaming frame decoder. After damage it skips to the next magic and
 * reports what it discarded; callers end the affected session, because a
 * byte stream with a hole in it cannot be repaired.
 *
 * A hole in the last frame before the line goes quiet (or a header whose
 * length field grew) leaves the decoder waiting for bytes that never come;
 * the caller calls `expire()` when the line has been idle longer than a
 * frame can take, and the waiting bytes are then treated as damage.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly on: DecodeEvents) {}

  /** Bytes held while waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): void {
    if (!chunk.length) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    this.parse(false);
  }

  /** No more bytes are coming soon: whatever is held is damage; frames behind it are still delivered. */
  expire(): void {
    this.parse(true);
  }

  /** Forgets held bytes without reporting them (a fresh line). */
  reset(): void {
    this.buf = Buffer.alloc(0);
  }

  private parse(expired: boolean): void {
    let off = 0;
    let skipped = 0;
    let why = '';
    const skip = (reason: string) => {
      off++;
      skipped++;
      why ||= reason;
    };
    // State is committed before each callback so a handler that throws or
    // re-enters cannot make a frame be delivered twice.
    while (this.buf.length - off > 0) {
      if (this.buf.length - off < HEADER) {
        if (!expired) break;
        skipped += this.buf.length - off;
        why ||= 'a truncated frame';
        off = this.buf.length;
        break;
      }
      if (this.buf[off] !== MAGIC0 || this.buf[off + 1] !== MAGIC1) {
        skip('bytes outside a frame');
        continue;
      }
      const type = this.buf[off + 2] as number;
      const len = this.buf.readUInt16LE(off + 5);
      if (type < FrameType.Open || type > FrameType.Ping || len > MAX_PAYLOAD) {
        skip('a damaged frame header');
        continue;
      }
      if (this.buf.length - off < HEADER + len + TRAILER) {
        if (!expired) break; // wait for the rest
        skip('a truncated frame');
        continue;
      }
      const end = off + HEADER + len;
      if (crc32(this.buf.subarray(off + 2, end)) !== this.buf.readUInt32LE(end)) {
        skip('a checksum mismatch');
        continue;
      }
      const frame: Frame = { type: type as FrameType, session: this.buf.readUInt16LE(off + 3), payload: Buffer.from(this.buf.subarray(off + HEADER, end)) };
      this.buf = this.buf.subarray(end + TRAILER);
      off = 0;
      if (skipped) {
        const [n, r] = [skipped, why];
        skipped = 0;
        why = '';
        this.on.corrupt(r, n);
      }
      this.on.frame(frame);
    }
    this.buf = this.buf.subarray(off);
    if (skipped) this.on.corrupt(why, skipped);
  }
}
