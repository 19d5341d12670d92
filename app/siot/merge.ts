// The merge rule (DESIGN.md §2): last writer wins, deterministically on every
// instance. Newer `point.time` wins; on equal time the greater instance id,
// compared as UTF-8 bytes like Go's string comparison; an identical
// (time, instance) is a no-op. The JetStream timestamp is never consulted:
// it differs between an origin and its replicas.

import { normalizeKey } from './codec.ts';
import type { OriginPoint } from './types.ts';

/** Compares two well-formed strings in UTF-8 byte order without encoding
 * them. UTF-16 unit order equals code point order (hence UTF-8 byte order)
 * except that surrogates (U+10000 and up) sort below U+E000..U+FFFF; the
 * fix-up at the first differing unit corrects that. For ASCII it is a plain
 * unit compare. Returns <0, 0 or >0. */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800 && cb >= 0xd800) {
      ca += ca >= 0xe000 ? -0x800 : 0x2000;
      cb += cb >= 0xe000 ? -0x800 : 0x2000;
    }
    return ca - cb;
  }
  return a.length - b.length;
}

/** >0 when `a` wins over `b`, <0 when `b` wins, 0 when they tie (same time
 * and instance; then neither replaces the other). */
export function compareOriginPoints(a: OriginPoint, b: OriginPoint): number {
  const ta = a.point.time;
  const tb = b.point.time;
  if (ta !== tb) return ta > tb ? 1 : -1;
  return Math.sign(compareUtf8(a.instance, b.instance));
}

/** Whether `incoming` should replace `current`. */
export function wins(incoming: OriginPoint, current: OriginPoint | undefined): boolean {
  return current === undefined || compareOriginPoints(incoming, current) > 0;
}

// NUL cannot occur in a valid subject token (validateToken rejects control
// characters), so joining on it is unambiguous.
const SEP = '\u0000';

/** Map key of one node point. The key is normalized, so "" and "0" are one point. */
export function pointId(nodeId: string, type: string, key: string): string {
  return nodeId + SEP + type + SEP + normalizeKey(key);
}

/** Map key of one edge point (edge `nodeId` → `parentId`). */
export function edgePointId(nodeId: string, parentId: string, type: string, key: string): string {
  return nodeId + SEP + parentId + SEP + type + SEP + normalizeKey(key);
}

/** Stores `incoming` under `id` in `current` if it wins; returns whether the map changed. */
export function mergePoints(current: Map<string, OriginPoint>, incoming: OriginPoint, id: string): boolean {
  if (!wins(incoming, current.get(id))) return false;
  current.set(id, incoming);
  return true;
}

/** Batch form of `mergePoints`: merges each point under `idOf(point)` and
 * returns the ids whose winner changed. */
export function mergeAll(
  current: Map<string, OriginPoint>,
  incoming: Iterable<OriginPoint>,
  idOf: (p: OriginPoint) => string,
): Set<string> {
  const changed = new Set<string>();
  for (const op of incoming) {
    const id = idOf(op);
    if (mergePoints(current, op, id)) changed.add(id);
  }
  return changed;
}

/** The winner among candidates for one point id, or undefined if there are none. */
export function pickWinner(candidates: Iterable<OriginPoint>): OriginPoint | undefined {
  let best: OriginPoint | undefined;
  for (const c of candidates) if (wins(c, best)) best = c;
  return best;
}
