#!/usr/bin/env node
// Draws the app icon (a node tree on a rounded blue square) and writes it as
// PNGs: build/icons/<N>x<N>.png for Linux, build/icon.png (1024 px) from
// which electron-builder makes the Windows .ico and macOS .icns. No image
// library and no download: pixels are computed here and encoded with zlib.
// Run it again after changing the drawing; the PNGs are committed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deflateSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LINUX_SIZES = [16, 32, 48, 64, 128, 256, 512];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** RGBA pixels (width*height*4) → PNG file bytes. */
export function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

// The drawing, in a unit square: signed distances (negative inside).
const roundedSquare = (x, y) => {
  const r = 0.2;
  const qx = Math.abs(x - 0.5) - (0.46 - r);
  const qy = Math.abs(y - 0.5) - (0.46 - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const segment = (ax, ay, bx, by, w) => (x, y) => {
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return Math.hypot(x - ax - t * (bx - ax), y - ay - t * (by - ay)) - w;
};
// A root node feeding three device nodes: the tree the app commissions.
const tree = [
  circle(0.5, 0.3, 0.085),
  circle(0.27, 0.7, 0.07),
  circle(0.5, 0.7, 0.07),
  circle(0.73, 0.7, 0.07),
  segment(0.5, 0.3, 0.27, 0.7, 0.022),
  segment(0.5, 0.3, 0.5, 0.7, 0.022),
  segment(0.5, 0.3, 0.73, 0.7, 0.022),
];

export function drawIcon(size) {
  const px = Buffer.alloc(size * size * 4);
  const aa = 1 / size; // one pixel of edge smoothing
  const cover = (d) => Math.max(0, Math.min(1, 0.5 - d / aa));
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const x = (i + 0.5) / size;
      const y = (j + 0.5) / size;
      const bg = cover(roundedSquare(x, y));
      const fg = cover(Math.min(...tree.map((f) => f(x, y)))) * bg;
      // Blue (#1f5fbf → #2f86e0 top to bottom) under white.
      const r = 31 + 16 * y;
      const g = 95 + 39 * y;
      const b = 191 + 33 * y;
      const o = (j * size + i) * 4;
      px[o] = Math.round(r + (255 - r) * fg);
      px[o + 1] = Math.round(g + (255 - g) * fg);
      px[o + 2] = Math.round(b + (255 - b) * fg);
      px[o + 3] = Math.round(255 * bg);
    }
  }
  return encodePng(size, size, px);
}

export function writeIcons(dir = join(root, 'build')) {
  mkdirSync(join(dir, 'icons'), { recursive: true });
  for (const n of LINUX_SIZES) writeFileSync(join(dir, 'icons', `${n}x${n}.png`), drawIcon(n));
  writeFileSync(join(dir, 'icon.png'), drawIcon(1024));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeIcons();
  process.stderr.write(`make-icons: wrote build/icon.png and build/icons/{${LINUX_SIZES.join(',')}}px\n`);
}
