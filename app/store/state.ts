import {
  DEVICE_NODE_TYPE,
  EdgePointType,
  ROOT_PARENT,
  pointValue,
  wins,
  type OriginPoint,
  type Point,
} from '../siot/index.ts';

/** `type.key` is unambiguous: neither may contain a dot. */
export function typeKey(type: string, key: string): string {
  return `${type}.${key}`;
}

interface EdgeEntry {
  /** Each instance's own latest edge points: what its next full-set write builds on. */
  byInstance: Map<string, Map<string, Point>>;
  merged: Map<string, OriginPoint>;
}

function edgeTombstoned(merged: Map<string, OriginPoint>): boolean {
  for (const op of merged.values()) {
    if (op.point.type !== EdgePointType.Tombstone) continue;
    try {
      const v = pointValue(op.point);
      if ((typeof v === 'number' || typeof v === 'bigint') && Number(v) % 2 !== 0) return true;
    } catch {
      // A tombstone point we cannot read does not delete the edge.
    }
  }
  return false;
}

/**
 * The merged current state of every node and edge present locally: the tips
 * of all `inst_*` streams folded with the merge rule. Pure and in memory;
 * the store feeds it, tests drive it directly.
 */
export class MergedState {
  private readonly nodes = new Map<string, Map<string, OriginPoint>>();
  /** childId → parentId → edge */
  private readonly edges = new Map<string, Map<string, EdgeEntry>>();
  /** parentId → childIds */
  private readonly children = new Map<string, Set<string>>();
  /** Topology lookups sit on the write path (every write needs the node's
   * boundary and ancestors) but only change with edge points, which are
   * rare: cache them and drop the caches whenever an edge point changes. */
  private readonly boundaryCache = new Map<string, string>();
  private readonly ancestorCache = new Map<string, string[]>();
  private readonly typeCache = new Map<string, string>();

  /** Returns true when `op` became the node's current point. */
  applyNodePoint(nodeId: string, op: OriginPoint): boolean {
    let pts = this.nodes.get(nodeId);
    if (!pts) {
      pts = new Map();
      this.nodes.set(nodeId, pts);
    }
    const id = typeKey(op.point.type, op.point.key);
    if (!wins(op, pts.get(id))) return false;
    pts.set(id, op);
    return true;
  }

  /** Folds one instance's edge message in; returns the merged points that changed. */
  applyEdgePoints(childId: string, parentId: string, instance: string, points: readonly Point[]): OriginPoint[] {
    let byParent = this.edges.get(childId);
    if (!byParent) {
      byParent = new Map();
      this.edges.set(childId, byParent);
    }
    let edge = byParent.get(parentId);
    if (!edge) {
      edge = { byInstance: new Map(), merged: new Map() };
      byParent.set(parentId, edge);
      let kids = this.children.get(parentId);
      if (!kids) {
        kids = new Set();
        this.children.set(parentId, kids);
      }
      kids.add(childId);
    }
    let own = edge.byInstance.get(instance);
    if (!own) {
      own = new Map();
      edge.byInstance.set(instance, own);
    }
    const changed: OriginPoint[] = [];
    for (const point of points) {
      const id = typeKey(point.type, point.key);
      const op: OriginPoint = { point, instance };
      const prevOwn = own.get(id);
      if (wins(op, prevOwn ? { point: prevOwn, instance } : undefined)) own.set(id, point);
      if (wins(op, edge.merged.get(id))) {
        edge.merged.set(id, op);
        changed.push(op);
      }
    }
    if (changed.length) {
      this.boundaryCache.clear();
      this.ancestorCache.clear();
      this.typeCache.clear();
    }
    return changed;
  }

  nodePoints(nodeId: string): OriginPoint[] {
    return [...(this.nodes.get(nodeId)?.values() ?? [])];
  }

  nodePoint(nodeId: string, type: string, key: string): OriginPoint | undefined {
    return this.nodes.get(nodeId)?.get(typeKey(type, key));
  }

  edgePoints(childId: string, parentId: string): OriginPoint[] {
    return [...(this.edges.get(childId)?.get(parentId)?.merged.values() ?? [])];
  }

  /** An instance's own current set for an edge, which its next write extends. */
  ownEdgePoints(childId: string, parentId: string, instance: string): Point[] {
    return [...(this.edges.get(childId)?.get(parentId)?.byInstance.get(instance)?.values() ?? [])];
  }

  hasEdge(childId: string, parentId: string): boolean {
    return this.edges.get(childId)?.has(parentId) ?? false;
  }

  isEdgeDeleted(childId: string, parentId: string): boolean {
    const edge = this.edges.get(childId)?.get(parentId);
    return edge ? edgeTombstoned(edge.merged) : true;
  }

  parentsOf(childId: string, includeDeleted = false): string[] {
    const byParent = this.edges.get(childId);
    if (!byParent) return [];
    const out: string[] = [];
    for (const [parent, edge] of byParent) {
      if (includeDeleted || !edgeTombstoned(edge.merged)) out.push(parent);
    }
    return out.sort();
  }

  childrenOf(parentId: string, includeDeleted = false): string[] {
    const kids = this.children.get(parentId);
    if (!kids) return [];
    const out: string[] = [];
    for (const c of kids) if (includeDeleted || !this.isEdgeDeleted(c, parentId)) out.push(c);
    return out.sort();
  }

  /** The node type as its edge under `parentId` says, or under any live parent. */
  nodeType(nodeId: string, parentId?: string): string {
    if (parentId !== undefined) return this.readNodeType(nodeId, parentId);
    let t = this.typeCache.get(nodeId);
    if (t === undefined) {
      t = this.readNodeType(nodeId, undefined);
      this.typeCache.set(nodeId, t);
    }
    return t;
  }

  private readNodeType(nodeId: string, parentId: string | undefined): string {
    const byParent = this.edges.get(nodeId);
    if (!byParent) return '';
    const read = (e: EdgeEntry | undefined): string | undefined => {
      const op = e?.merged.get(typeKey(EdgePointType.NodeType, '0'));
      return op ? new TextDecoder().decode(op.point.data) : undefined;
    };
    if (parentId !== undefined) {
      const t = read(byParent.get(parentId));
      if (t) return t;
    }
    for (const p of this.parentsOf(nodeId, false)) {
      const t = read(byParent.get(p));
      if (t) return t;
    }
    for (const e of byParent.values()) {
      const t = read(e);
      if (t) return t;
    }
    return '';
  }

  /** Every ancestor through live edges, nearest first, each once (the tree
   * is a DAG), excluding the virtual `root` parent. */
  ancestors(nodeId: string): string[] {
    let cached = this.ancestorCache.get(nodeId);
    if (!cached) {
      cached = this.findAncestors(nodeId);
      this.ancestorCache.set(nodeId, cached);
    }
    return cached;
  }

  private findAncestors(nodeId: string): string[] {
    const out: string[] = [];
    const seen = new Set<string>([nodeId]);
    let frontier = [nodeId];
    while (frontier.length) {
      const next: string[] = [];
      for (const n of frontier) {
        for (const p of this.parentsOf(n)) {
          if (p === ROOT_PARENT || seen.has(p)) continue;
          seen.add(p);
          out.push(p);
          next.push(p);
        }
      }
      frontier = next;
    }
    return out;
  }

  /** The nearest boundary at or above a node: the instance root, or a node of
   * type `device`. A node under several parents follows the first live one
   * (sorted), so every instance picks the same boundary. */
  boundaryOf(nodeId: string, instanceRoot: string): string {
    const key = `${instanceRoot}\u0000${nodeId}`;
    let b = this.boundaryCache.get(key);
    if (b === undefined) {
      b = this.findBoundary(nodeId, instanceRoot);
      this.boundaryCache.set(key, b);
    }
    return b;
  }

  private findBoundary(nodeId: string, instanceRoot: string): string {
    const seen = new Set<string>();
    let n: string | undefined = nodeId;
    while (n !== undefined && !seen.has(n)) {
      seen.add(n);
      if (n === instanceRoot || this.nodeType(n) === DEVICE_NODE_TYPE) return n;
      n = this.parentsOf(n).find((p) => p !== ROOT_PARENT);
    }
    return instanceRoot;
  }

  /** An edge belongs to its parent's boundary; a top-level edge (virtual
   * parent `root`) to its child's. */
  edgeBoundary(childId: string, parentId: string, instanceRoot: string): string {
    return parentId === ROOT_PARENT ? this.boundaryOf(childId, instanceRoot) : this.boundaryOf(parentId, instanceRoot);
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  get pointCount(): number {
    let n = 0;
    for (const pts of this.nodes.values()) n += pts.size;
    return n;
  }

  /** Every node id that has points or edges. */
  nodeIds(): string[] {
    const ids = new Set<string>(this.nodes.keys());
    for (const c of this.edges.keys()) ids.add(c);
    return [...ids].sort();
  }
}
