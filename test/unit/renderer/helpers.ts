// Builders for the renderer's plain-data client types.
import type { PointChangeView, UiNode, UiPoint } from '../../../app/client/index.ts';

export function pt(type: string, value: number | string, o: { key?: string; time?: bigint | number; instance?: string; origin?: string } = {}): UiPoint {
  const time = BigInt(o.time ?? 1_000_000_000n);
  return {
    type,
    key: o.key ?? '0',
    time: time.toString(),
    timeMs: Number(time / 1_000_000n),
    kind: typeof value === 'number' ? 'float' : 'string',
    value,
    tombstone: 0,
    origin: o.origin ?? '',
    instance: o.instance ?? 'inst',
  };
}

/** A node under `parent` with a nodeType edge point and optional description. */
export function node(id: string, parent: string, type: string, description?: string, extra: { points?: UiPoint[]; edgePoints?: UiPoint[]; boundary?: string } = {}): UiNode {
  return {
    id,
    parent,
    type,
    boundary: extra.boundary ?? 'dev',
    deleted: false,
    points: [...(description !== undefined ? [pt('description', description)] : []), ...(extra.points ?? [])],
    edgePoints: [pt('nodeType', type), ...(extra.edgePoints ?? [])],
  };
}

export function nodeChange(nodeId: string, point: UiPoint): PointChangeView {
  return { nodeId, point };
}

export function edgeChange(nodeId: string, parentId: string, point: UiPoint): PointChangeView {
  return { nodeId, parentId, point };
}
