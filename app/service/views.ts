// Plain-data views of the store for the client API (JSON-safe), and the
// checks on what a renderer sends back. Pure: no I/O.
import { ClientError, type PointInput, type TreeSnapshot, type UiNode, type UiPoint, type ValueKind } from '../client/index.ts';
import {
  DataType,
  EdgePointType,
  ROOT_PARENT,
  checkPointTokens,
  floatPoint,
  intPoint,
  jsonPoint,
  pointValue,
  stringPoint,
  timeToDate,
  type OriginPoint,
  type Point,
} from '../siot/index.ts';

export interface StateView {
  nodeIds(): string[];
  parentsOf(id: string, includeDeleted?: boolean): string[];
  nodePoints(id: string): OriginPoint[];
  edgePoints(id: string, parent: string): OriginPoint[];
  nodeType(id: string, parent?: string): string;
  isEdgeDeleted(id: string, parent: string): boolean;
  boundaryOf(id: string, instanceRoot: string): string;
}

function kindOf(dataType: number): ValueKind {
  switch (dataType) {
    case DataType.Float:
      return 'float';
    case DataType.Int:
      return 'int';
    case DataType.String:
      return 'string';
    case DataType.JSON:
      return 'json';
    default:
      return 'unknown';
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The value as the UI shows it. A point another writer corrupted is shown,
 * marked, rather than dropping the whole node. */
export function displayValue(p: Point): number | string {
  try {
    const v = pointValue(p);
    // JSON as its text (UiPoint.value), so an edit of it parses again: a
    // JSON string shown without its quotes would not.
    if (p.dataType === DataType.JSON) return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'string') return v;
    // Beyond ±2^53 a number would round; the exact digits are kept as text.
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return hex(v);
    return JSON.stringify(v);
  } catch (e) {
    return `⚠ unreadable ${kindOf(p.dataType)} (${hex(p.data).slice(0, 32)}): ${(e as Error).message}`;
  }
}

export function toUiPoint(op: OriginPoint): UiPoint {
  const p = op.point;
  return {
    type: p.type,
    key: p.key,
    time: p.time.toString(),
    timeMs: timeToDate(p.time).getTime(),
    kind: kindOf(p.dataType),
    value: displayValue(p),
    tombstone: p.tombstone,
    origin: p.origin,
    instance: op.instance,
  };
}

export function nodeView(state: StateView, id: string, parent: string, instanceRoot: string): UiNode {
  return {
    id,
    parent,
    type: state.nodeType(id, parent),
    boundary: state.boundaryOf(id, instanceRoot),
    deleted: parent !== ROOT_PARENT && state.isEdgeDeleted(id, parent),
    points: state.nodePoints(id).map(toUiPoint),
    edgePoints: state.edgePoints(id, parent).map(toUiPoint),
  };
}

/** Every node under every parent it has had (deleted edges included: the
 * renderer hides them by default but can show them). */
export function treeSnapshot(state: StateView, instanceRoot: string): TreeSnapshot {
  const nodes: UiNode[] = [];
  for (const id of state.nodeIds()) {
    const parents = state.parentsOf(id, true);
    // A node whose edge has not arrived yet is shown at the top rather than hidden.
    for (const parent of parents.length ? parents : [ROOT_PARENT]) nodes.push(nodeView(state, id, parent, instanceRoot));
  }
  return { rootId: instanceRoot, nodes };
}

const RESERVED_EDGE_TYPES: readonly string[] = [EdgePointType.NodeType];

/** A point from the renderer, checked: a bad one is refused with the reason,
 * never half-written. */
export function pointFromInput(input: PointInput, time: bigint, origin: string, edge = false): Point {
  const p = buildPoint(input, time, origin, edge);
  try {
    checkPointTokens(p);
  } catch (e) {
    throw new ClientError(`point ${p.type}.${p.key}: ${(e as Error).message}`);
  }
  return p;
}

function buildPoint(input: PointInput, time: bigint, origin: string, edge: boolean): Point {
  if (typeof input !== 'object' || input === null) throw new ClientError('each point must be an object with type and value');
  if (typeof input.type !== 'string' || input.type === '') throw new ClientError('a point needs a type (e.g. "pollPeriod")');
  const key = input.key === undefined || input.key === '' ? '0' : input.key;
  if (typeof key !== 'string') throw new ClientError(`point ${input.type}: key must be text`);
  if (edge && RESERVED_EDGE_TYPES.includes(input.type)) throw new ClientError(`edge point ${input.type} is managed by the app; create or move the node instead`);
  const tombstone = input.tombstone ?? 0;
  if (tombstone !== 0 && tombstone !== 1) throw new ClientError(`point ${input.type}: tombstone must be 0 or 1`);
  const opts = { key, time, tombstone, origin };
  const kind = input.kind ?? (typeof input.value === 'number' ? 'float' : 'string');
  const v = input.value;
  switch (kind) {
    case 'float': {
      const n = typeof v === 'number' ? v : Number(String(v).trim());
      if (String(v).trim() === '' || !Number.isFinite(n)) throw new ClientError(`point ${input.type}: "${String(v)}" is not a number`);
      return floatPoint(input.type, n, opts);
    }
    case 'int': {
      const s = String(v).trim();
      if (!/^-?\d+$/.test(s)) throw new ClientError(`point ${input.type}: "${s}" is not a whole number`);
      const b = BigInt(s);
      if (b < -(1n << 63n) || b >= 1n << 63n) throw new ClientError(`point ${input.type}: ${s} does not fit in 64 bits`);
      return intPoint(input.type, b, opts);
    }
    case 'string':
      if (typeof v !== 'string') throw new ClientError(`point ${input.type}: text value expected`);
      return stringPoint(input.type, v, opts);
    case 'json': {
      let parsed: unknown;
      try {
        parsed = typeof v === 'string' ? JSON.parse(v) : v;
      } catch (e) {
        throw new ClientError(`point ${input.type}: not valid JSON (${(e as Error).message})`);
      }
      return jsonPoint(input.type, parsed, opts);
    }
    default:
      throw new ClientError(`point ${input.type}: unknown value kind ${String(kind)}; use float, int, string or json`);
  }
}
