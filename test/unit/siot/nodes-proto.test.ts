import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeNodesReply, encodeNodesReply, SiotError } from '../../../app/siot/index.ts';
import type { NodeView, Point } from '../../../app/siot/index.ts';

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

const NODE: NodeView = {
  id: 'n1',
  type: 'device',
  parent: 'root',
  hash: 7,
  points: [
    { type: 'value', key: '', time: 1_500_000_000n, dataType: 1, data: new Uint8Array([1]), tombstone: 0, origin: '' },
  ],
  edgePoints: [{ type: 'x', key: '0', time: -1n, dataType: 0, data: new Uint8Array(), tombstone: 1, origin: 'o' }],
};

// Written by hand from the field numbers in DESIGN.md §2; default values are
// omitted as Go's proto3 encoder does. tag = field << 3 | wire type.
// prettier-ignore
const NODE_BYTES = new Uint8Array([
  0x0a, 0x50, // NodesRequest.nodes (1, len) 80 bytes
  0x0a, 0x02, 0x6e, 0x31, // Node.id (1) "n1"
  0x12, 0x06, 0x64, 0x65, 0x76, 0x69, 0x63, 0x65, // Node.type (2) "device"
  0x1a, 0x1a, // Node.points (3) 26 bytes
  0x12, 0x05, 0x76, 0x61, 0x6c, 0x75, 0x65, //   Point.type (2) "value"
  0x2a, 0x08, //   Point.time (5) 8 bytes
  0x08, 0x01, //     Timestamp.seconds (1) 1
  0x10, 0x80, 0xca, 0xb5, 0xee, 0x01, //     Timestamp.nanos (2) 500000000
  0x5a, 0x01, 0x30, //   Point.key (11) "0" (normalized from "")
  0x72, 0x01, 0x01, //   Point.data (14) [1]
  0x80, 0x01, 0x01, //   Point.dataType (16, varint) 1
  0x20, 0x07, // Node.hash (4, varint) 7
  0x32, 0x04, 0x72, 0x6f, 0x6f, 0x74, // Node.parent (6) "root"
  0x3a, 0x1e, // Node.edgePoints (7) 30 bytes
  0x12, 0x01, 0x78, //   Point.type "x"
  0x2a, 0x11, //   Point.time 17 bytes: -1 ns = -1 s + 999999999 ns
  0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, //     seconds -1
  0x10, 0xff, 0x93, 0xeb, 0xdc, 0x03, //     nanos 999999999
  0x5a, 0x01, 0x30, //   Point.key "0"
  0x60, 0x01, //   Point.tombstone (12, varint) 1
  0x7a, 0x01, 0x6f, //   Point.origin (15) "o"
  0x12, 0x01, 0x65, // NodesRequest.error (2) "e"
]);

describe('nodes reply protobuf', () => {
  it('encodes one small node to the hand-computed bytes', () => {
    expect(encodeNodesReply([NODE], 'e')).toEqual(NODE_BYTES);
  });

  it('decodes the hand-computed bytes', () => {
    const { nodes, error } = decodeNodesReply(NODE_BYTES);
    expect(error).toBe('e');
    expect(nodes).toEqual([{ ...NODE, points: [{ ...NODE.points[0]!, key: '0' }] }]);
  });

  it('encodes an empty reply as zero bytes and decodes it back', () => {
    expect(encodeNodesReply([])).toEqual(new Uint8Array());
    expect(decodeNodesReply(new Uint8Array())).toEqual({ nodes: [], error: '' });
  });

  it('writes a zero time as an empty Timestamp and reads a missing one as 0', () => {
    const p: Point = { type: 't', key: '0', time: 0n, dataType: 0, data: new Uint8Array(), tombstone: 0, origin: '' };
    const buf = encodeNodesReply([{ id: 'a', type: '', parent: '', hash: 0, points: [p], edgePoints: [] }]);
    // nodes(13 bytes) { id "a", points(8 bytes) { type "t", time(0 bytes), key "0" } }
    // prettier-ignore
    expect(buf).toEqual(new Uint8Array([
      0x0a, 0x0d, 0x0a, 0x01, 0x61, 0x1a, 0x08, 0x12, 0x01, 0x74, 0x2a, 0x00, 0x5a, 0x01, 0x30,
    ]));
    // A point without field 5 at all.
    const noTime = new Uint8Array([0x0a, 0x07, 0x1a, 0x05, 0x12, 0x01, 0x74, 0x5a, 0x00]);
    expect(decodeNodesReply(noTime).nodes[0]?.points[0]).toMatchObject({ type: 't', key: '0', time: 0n });
  });

  it('round-trips arbitrary nodes, int64 extremes and negative times exactly', () => {
    const str = fc.string({ unit: 'binary', maxLength: 8 });
    const point: fc.Arbitrary<Point> = fc.record({
      type: str,
      key: str.map((k) => (k === '' ? '0' : k)),
      time: fc.oneof(
        fc.bigInt(INT64_MIN, INT64_MAX),
        fc.constantFrom(INT64_MIN, INT64_MAX, -1n, 0n, 1n, -1_000_000_000n, -999_999_999n, -1_000_000_001n),
      ),
      dataType: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 16 }),
      tombstone: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
      origin: str,
    });
    const node: fc.Arbitrary<NodeView> = fc.record({
      id: str,
      type: str,
      parent: str,
      hash: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
      points: fc.array(point, { maxLength: 4 }),
      edgePoints: fc.array(point, { maxLength: 3 }),
    });
    fc.assert(
      fc.property(fc.array(node, { maxLength: 4 }), str, (nodes, error) => {
        expect(decodeNodesReply(encodeNodesReply(nodes, error))).toEqual({ nodes, error });
      }),
      { numRuns: 300 },
    );
  });

  it('returns data that does not alias the input buffer', () => {
    const buf = NODE_BYTES.slice();
    const { nodes } = decodeNodesReply(buf);
    buf.fill(0);
    expect(nodes[0]?.points[0]?.data).toEqual(new Uint8Array([1]));
  });

  it('rejects malformed input with SiotError("decode")', () => {
    for (const bad of [NODE_BYTES.subarray(0, 10), new Uint8Array([0x0f]), new Uint8Array([0x0a, 0xff])]) {
      try {
        decodeNodesReply(bad);
        expect.unreachable('should have thrown');
      } catch (err) {
        expect(err).toBeInstanceOf(SiotError);
        expect((err as SiotError).code).toBe('decode');
        expect((err as Error).message).toMatch(/cannot decode nodes reply/);
      }
    }
  });

  it('rejects values that are not int32 on encode', () => {
    expect(() => encodeNodesReply([{ ...NODE, hash: 2 ** 31 }])).toThrow(/hash 2147483648 is not an int32/);
    expect(() => encodeNodesReply([{ ...NODE, points: [{ ...NODE.points[0]!, tombstone: 0.5 }] }])).toThrow(
      /tombstone 0.5 is not an int32/,
    );
  });
});
