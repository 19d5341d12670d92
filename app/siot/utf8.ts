// UTF-8 helpers shared by the codecs. Internal to app/siot (not re-exported).

// ignoreBOM: by default TextDecoder silently drops a leading U+FEFF, which
// would change a string on a round trip. fatal: malformed bytes must be an
// error, not U+FFFD, so that corrupt input never looks like valid data.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

// Below this many bytes, a hand loop beats TextDecoder's per-call overhead;
// types, keys and origins are nearly always short ASCII.
const SMALL_ASCII = 64;

/** UTF-8 byte length of `s`, or -1 if `s` holds a lone surrogate (which has
 * no UTF-8 form; TextEncoder would silently turn it into U+FFFD). */
export function utf8Length(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c < 0xd800 || c > 0xdfff) {
      bytes += 2;
    } else if (c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d < 0xdc00 || d > 0xdfff) return -1;
      bytes += 2; // two UTF-16 units become four bytes
      i++;
    } else {
      return -1;
    }
  }
  return bytes;
}

/** Writes `s` (whose UTF-8 length `len` the caller computed) at `off`. */
export function writeUtf8(out: Uint8Array, off: number, s: string, len: number): void {
  if (len === s.length) {
    for (let i = 0; i < len; i++) out[off + i] = s.charCodeAt(i);
    return;
  }
  encoder.encodeInto(s, out.subarray(off, off + len));
}

/** Decodes `buf[start, end)`; throws TypeError on malformed UTF-8. */
export function readUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= SMALL_ASCII) {
    // Build and check in one pass; bail out to the decoder on the first non-ASCII byte.
    let r = '';
    let i = start;
    for (; i < end; i++) {
      const b = buf[i] as number;
      if (b >= 0x80) break;
      r += String.fromCharCode(b);
    }
    if (i === end) return r;
  }
  return strictDecoder.decode(buf.subarray(start, end));
}

/** UTF-8 encoding of `s` (lone surrogates become U+FFFD). */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
