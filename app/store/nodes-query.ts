import { EdgePointType, ROOT_PARENT, pointValue, type NodeView, type Point } from '../siot/index.ts';
import type { MergedState } from './state.ts';
import type { NodesQuery } from './types.ts';

const ALL = 'all';

/** Reads the options SIOT clients put in a `nodes.*` request body: a
 * `tombstone` point (non-zero: include deleted nodes) and a `nodeType` point
 * (only nodes of that type). */
export function nodesOptionsFromPoints(points: readonly Point[]): Pick<NodesQuery, 'includeDeleted' | 'nodeType'> {
  const out: Pick<NodesQuery, 'includeDeleted' | 'nodeType'> = {};
  for (const p of points) {
    if (p.type === EdgePointType.Tombstone) {
      const v = pointValue(p);
      out.includeDeleted = typeof v === 'number' || typeof v === 'bigint' ? Number(v) !== 0 : Boolean(v);
    } else if (p.type === EdgePointType.NodeType) {
      const v = pointValue(p);
      if (typeof v === 'string' && v) out.nodeType = v;
      else if (p.data.length) out.nodeType = new TextDecoder().decode(p.data);
    }
  }
  return out;
}

function view(state: MergedState, id: string, parent: string): NodeView {
  return {
    id,
    type: state.nodeType(id, parent),
    parent,
    points: state.nodePoints(id).map((op) => op.point),
    edgePoints: state.edgePoints(id, parent).map((op) => op.point),
    hash: 0,
  };
}

/**
 * Answers a `nodes.<parentId>.<nodeId>` request from the merged state:
 * `nodeId` = `all` lists the children of `parentId`; `parentId` = `all`
 * returns one view per parent edge of `nodeId`; otherwise the one edge.
 * Throws with a client-facing message when the node is not there.
 */
export function queryNodes(state: MergedState, q: NodesQuery): NodeView[] {
  const includeDeleted = q.includeDeleted ?? false;
  let pairs: Array<[string, string]>;
  if (q.nodeId === ALL) {
    if (q.parentId === ALL) throw new Error('nodes.all.all is not a valid request: name a parent or a node');
    pairs = state.childrenOf(q.parentId, includeDeleted).map((c) => [c, q.parentId]);
  } else if (q.parentId === ALL) {
    pairs = state.parentsOf(q.nodeId, includeDeleted).map((p) => [q.nodeId, p]);
    if (pairs.length === 0 && !state.hasEdge(q.nodeId, ROOT_PARENT)) {
      throw new Error(`node ${q.nodeId} not found`);
    }
  } else {
    if (!state.hasEdge(q.nodeId, q.parentId)) throw new Error(`node ${q.nodeId} not found under parent ${q.parentId}`);
    if (!includeDeleted && state.isEdgeDeleted(q.nodeId, q.parentId)) {
      throw new Error(`node ${q.nodeId} is deleted under parent ${q.parentId}`);
    }
    pairs = [[q.nodeId, q.parentId]];
  }
  const out = pairs.map(([id, parent]) => view(state, id, parent));
  return q.nodeType ? out.filter((n) => n.type === q.nodeType) : out;
}
