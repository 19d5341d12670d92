// Protobuf reply of the `nodes.<parent>.<id>` request, wire-compatible with
// SIOT's `NodesRequest` (DESIGN.md §2). Types are built by reflection so that
// no .proto file is read at runtime and no generated code is checked in.

import protobuf from 'protobufjs/light.js';
import { normalizeKey } from './codec.ts';
import { SiotError } from './errors.ts';
import type { NodeView, Point } from './types.ts';

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Timestamp: {
              fields: {
                seconds: { type: 'int64', id: 1 },
                nanos: { type: 'int32', id: 2 },
              },
            },
          },
        },
      },
    },
    pb: {
      nested: {
        NodesRequest: {
          fields: {
            nodes: { rule: 'repeated', type: 'Node', id: 1 },
            error: { type: 'string', id: 2 },
          },
        },
        Node: {
          fields: {
            id: { type: 'string', id: 1 },
            type: { type: 'string', id: 2 },
            points: { rule: 'repeated', type: 'Point', id: 3 },
            hash: { type: 'int32', id: 4 },
            parent: { type: 'string', id: 6 },
            edgePoints: { rule: 'repeated', type: 'Point', id: 7 },
          },
        },
        Point: {
          fields: {
            type: { type: 'string', id: 2 },
            time: { type: 'google.protobuf.Timestamp', id: 5 },
            key: { type: 'string', id: 11 },
            tombstone: { type: 'int32', id: 12 },
            data: { type: 'bytes', id: 14 },
            origin: { type: 'string', id: 15 },
            dataType: { type: 'int32', id: 16 },
          },
        },
      },
    },
  },
});
root.resolveAll();
const NodesRequestType = root.lookupType('pb.NodesRequest');

// Plain-object shapes handed to / read from protobufjs. A field left out is
// not written, which is how Go's proto3 encoder treats default values; that
// keeps our bytes identical to SIOT's.
interface PbLong {
  low: number;
  high: number;
}
interface PbTimestamp {
  seconds?: number | PbLong;
  nanos?: number;
}
interface PbPoint {
  type?: string;
  time?: PbTimestamp;
  key?: string;
  tombstone?: number;
  data?: Uint8Array;
  origin?: string;
  dataType?: number;
}
interface PbNode {
  id?: string;
  type?: string;
  points?: PbPoint[];
  hash?: number;
  parent?: string;
  edgePoints?: PbPoint[];
}
interface PbNodesRequest {
  nodes?: PbNode[];
  error?: string;
}

const NS_PER_S = 1_000_000_000n;
const U32 = 0x1_0000_0000n;

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= -0x8000_0000 && n <= 0x7fff_ffff;
}

function toTimestamp(ns: bigint): PbTimestamp {
  // Timestamp wants floored seconds and nanos in 0..999,999,999; bigint
  // division truncates toward zero, so negative times need a correction.
  let s = ns / NS_PER_S;
  let nanos = ns - s * NS_PER_S;
  if (nanos < 0n) {
    s -= 1n;
    nanos += NS_PER_S;
  }
  const ts: PbTimestamp = {};
  if (s !== 0n) {
    // Passed as low/high bits so precision never depends on whether
    // protobufjs found the `long` package.
    const bits = BigInt.asUintN(64, s);
    ts.seconds = { low: Number(bits % U32) | 0, high: Number(bits / U32) | 0 };
  }
  if (nanos !== 0n) ts.nanos = Number(nanos);
  return ts;
}

function secondsToBigint(v: unknown): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number') {
    // Only happens without the `long` package; reject rather than return a rounded time.
    if (!Number.isSafeInteger(v)) {
      throw new SiotError('decode', 'cannot decode nodes reply: timestamp seconds lost precision; install the "long" package');
    }
    return BigInt(v);
  }
  if (typeof v === 'object' && 'low' in v && 'high' in v) {
    const { low, high } = v as PbLong;
    return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
  }
  throw new SiotError('decode', `cannot decode nodes reply: unexpected timestamp seconds value ${String(v)}`);
}

function fromTimestamp(ts: PbTimestamp | null | undefined): bigint {
  if (ts === undefined || ts === null) return 0n;
  const nanos = ts.nanos ?? 0;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new SiotError('decode', `cannot decode nodes reply: timestamp nanos ${nanos} outside 0..999999999`);
  }
  return secondsToBigint(ts.seconds) * NS_PER_S + BigInt(nanos);
}

function checkInt32(what: string, n: number): void {
  if (!isInt32(n)) {
    throw new SiotError('bad-point', `cannot encode nodes reply: ${what} ${String(n)} is not an int32`);
  }
}

function toPbPoint(p: Point): PbPoint {
  checkInt32('tombstone', p.tombstone);
  checkInt32('dataType', p.dataType);
  const out: PbPoint = { time: toTimestamp(p.time), key: normalizeKey(p.key) };
  if (p.type !== '') out.type = p.type;
  if (p.tombstone !== 0) out.tombstone = p.tombstone;
  if (p.data.byteLength > 0) out.data = p.data;
  if (p.origin !== '') out.origin = p.origin;
  if (p.dataType !== 0) out.dataType = p.dataType;
  return out;
}

function toPbNode(n: NodeView): PbNode {
  checkInt32('hash', n.hash);
  const out: PbNode = {};
  if (n.id !== '') out.id = n.id;
  if (n.type !== '') out.type = n.type;
  if (n.points.length > 0) out.points = n.points.map(toPbPoint);
  if (n.hash !== 0) out.hash = n.hash;
  if (n.parent !== '') out.parent = n.parent;
  if (n.edgePoints.length > 0) out.edgePoints = n.edgePoints.map(toPbPoint);
  return out;
}

/** Encodes SIOT's `NodesRequest` reply. Keys are normalized ("" → "0"). */
export function encodeNodesReply(nodes: NodeView[], error?: string): Uint8Array {
  const msg: PbNodesRequest = {};
  if (nodes.length > 0) msg.nodes = nodes.map(toPbNode);
  if (error !== undefined && error !== '') msg.error = error;
  const buf = NodesRequestType.encode(msg).finish();
  // A plain Uint8Array view (protobufjs hands out a Buffer in Node) so callers
  // and tests see one type.
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function fromPbPoint(p: PbPoint): Point {
  // Copy: protobufjs returns views into the input buffer (see codec.ts for why not to pin it).
  const data = new Uint8Array(p.data?.byteLength ?? 0);
  if (p.data !== undefined) data.set(p.data);
  return {
    type: p.type ?? '',
    key: normalizeKey(p.key ?? ''),
    time: fromTimestamp(p.time),
    dataType: p.dataType ?? 0,
    data,
    tombstone: p.tombstone ?? 0,
    origin: p.origin ?? '',
  };
}

function fromPbNode(n: PbNode): NodeView {
  return {
    id: n.id ?? '',
    type: n.type ?? '',
    parent: n.parent ?? '',
    points: (n.points ?? []).map(fromPbPoint),
    edgePoints: (n.edgePoints ?? []).map(fromPbPoint),
    hash: n.hash ?? 0,
  };
}

/** Decodes SIOT's `NodesRequest` reply; throws SiotError('decode') on malformed input. */
export function decodeNodesReply(buf: Uint8Array): { nodes: NodeView[]; error: string } {
  let msg: PbNodesRequest;
  try {
    msg = NodesRequestType.decode(buf) as unknown as PbNodesRequest;
  } catch (err) {
    throw new SiotError(
      'decode',
      `cannot decode nodes reply (${buf.byteLength} bytes): ${err instanceof Error ? err.message : String(err)}; ` +
        'the reply is corrupt or not a NodesRequest protobuf',
      { cause: err },
    );
  }
  return { nodes: (msg.nodes ?? []).map(fromPbNode), error: msg.error ?? '' };
}
