import { MsgHdrsImpl } from '@nats-io/nats-core';

/**
 * Headers of one replicated append: `<seqHeader>: <originSeq>` and
 * `Nats-Expected-Last-Sequence: <expectedLastSeq>`, the same bytes that
 * `headers()` with two `set()` calls puts on the wire. Built directly: the
 * generic path (key lookups and validation per `set`, a string, then a
 * `TextEncoder` call) was a measurable share of a catch-up's CPU, once per
 * message. Both values are integers, so nothing needs validating.
 */
export class AppendHeaders extends MsgHdrsImpl {
  constructor(
    private readonly seqHeader: string,
    private readonly originSeq: number,
    private readonly expectedLastSeq: number,
  ) {
    super();
    this.headers.set(seqHeader, [String(originSeq)]);
    this.headers.set('Nats-Expected-Last-Sequence', [String(expectedLastSeq)]);
  }

  override encode(): Uint8Array {
    if (!(Number.isSafeInteger(this.originSeq) && this.originSeq >= 0 && Number.isSafeInteger(this.expectedLastSeq) && this.expectedLastSeq >= 0)) return super.encode();
    const head = headBytes(this.seqHeader);
    const a = digits(this.originSeq);
    const b = digits(this.expectedLastSeq);
    const out = slice(head.length + a + EXPECTED.length + b + END.length);
    out.set(head, 0);
    let i = writeInt(out, head.length, this.originSeq, a);
    out.set(EXPECTED, i);
    i = writeInt(out, i + EXPECTED.length, this.expectedLastSeq, b);
    out.set(END, i);
    return out;
  }
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const EXPECTED = ascii('\r\nNats-Expected-Last-Sequence: ');
const END = ascii('\r\n\r\n');
const heads = new Map<string, Uint8Array>();

/** Header bytes are cut from a shared slab: a typed array of more than 64
 * bytes gets its own off-heap store, which cost ten times the rest of
 * encode(). A slab is never written twice (a full one is replaced, not
 * reused), so a view stays valid for as long as the client holds it. */
const SLAB_BYTES = 64 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;
function slice(n: number): Uint8Array {
  if (n > SLAB_BYTES) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const v = slab.subarray(slabUsed, slabUsed + n);
  slabUsed += n;
  return v;
}
function headBytes(name: string): Uint8Array {
  let h = heads.get(name);
  if (!h) heads.set(name, (h = ascii(`NATS/1.0\r\n${name}: `)));
  return h;
}

/** Decimal digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/** Writes `n` (`len` digits) at `at`; returns the index after it. */
function writeInt(out: Uint8Array, at: number, n: number, len: number): number {
  let x = n;
  for (let i = at + len - 1; i >= at; i--) {
    out[i] = 48 + (x % 10);
    x = Math.floor(x / 10);
  }
  return at + len;
}
