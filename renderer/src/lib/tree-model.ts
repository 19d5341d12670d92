// The renderer's copy of the merged tree: loaded from a snapshot, then kept
// current by point-change events. Pure (no DOM) so it is tested in Node and
// so a 10,000-node tree is cheap: rows() walks only expanded branches.
import type { PointChangeView, TreeSnapshot, UiNode, UiPoint } from '../../../app/client/index.ts';

export interface NodeEntry {
  id: string;
  points: Map<string, UiPoint>;
}

export interface EdgeEntry {
  id: string;
  parent: string;
  points: Map<string, UiPoint>;
}

export interface Row {
  id: string;
  parent: string;
  depth: number;
  type: string;
  description: string;
  deleted: boolean;
  hasChildren: boolean;
  expanded: boolean;
  /** The row matched the search itself (not only as an ancestor of a match). */
  match: boolean;
}

export interface RowOptions {
  expanded: ReadonlySet<string>;
  filter?: string;
  showDeleted?: boolean;
  /** Only nodes of this type (and their ancestors). */
  nodeType?: string;
}

const ROOT = 'root';

// One collator for every comparison: `localeCompare(b, undefined, options)`
// builds a new one per call (about 20x slower), which made sorting 10,000
// children take over a second.
const collator = new Intl.Collator(undefined, { numeric: true });
const plain = new Intl.Collator();

export function pointId(type: string, key: string): string {
  return `${type}\u0000${key}`;
}

/** Whether `b` replaces `a` (newer time; the main process already merged,
 * this only keeps a late stale event from undoing a newer snapshot). */
function newer(a: UiPoint | undefined, b: UiPoint): boolean {
  if (!a) return true;
  const ta = BigInt(a.time);
  const tb = BigInt(b.time);
  return tb > ta || (tb === ta && b.instance >= a.instance);
}

export function isTombstoneSet(p: UiPoint | undefined): boolean {
  return p !== undefined && typeof p.value === 'number' && p.value % 2 !== 0;
}

export class TreeModel {
  rootId = '';
  readonly nodes = new Map<string, NodeEntry>();
  /** child id → parent id → edge */
  readonly edges = new Map<string, Map<string, EdgeEntry>>();
  readonly children = new Map<string, Set<string>>();
  /** Bumped on every change; views compare it to know when to redraw. */
  version = 0;

  load(s: TreeSnapshot): void {
    this.rootId = s.rootId;
    this.nodes.clear();
    this.edges.clear();
    this.children.clear();
    for (const n of s.nodes) this.loadNode(n);
    this.version++;
  }

  private loadNode(n: UiNode): void {
    const node = this.node(n.id);
    for (const p of n.points) node.points.set(pointId(p.type, p.key), p);
    const e = this.edge(n.id, n.parent);
    for (const p of n.edgePoints) e.points.set(pointId(p.type, p.key), p);
  }

  private node(id: string): NodeEntry {
    let n = this.nodes.get(id);
    if (!n) {
      n = { id, points: new Map() };
      this.nodes.set(id, n);
    }
    return n;
  }

  private edge(id: string, parent: string): EdgeEntry {
    let byParent = this.edges.get(id);
    if (!byParent) {
      byParent = new Map();
      this.edges.set(id, byParent);
    }
    let e = byParent.get(parent);
    if (!e) {
      e = { id, parent, points: new Map() };
      byParent.set(parent, e);
      let kids = this.children.get(parent);
      if (!kids) {
        kids = new Set();
        this.children.set(parent, kids);
      }
      kids.add(id);
    }
    return e;
  }

  /** Applies a batch; returns whether the tree's shape (not only values) changed. */
  apply(changes: readonly PointChangeView[]): boolean {
    let shape = false;
    for (const c of changes) {
      if (c.parentId !== undefined) {
        const known = this.edges.get(c.nodeId)?.has(c.parentId) ?? false;
        const e = this.edge(c.nodeId, c.parentId);
        const id = pointId(c.point.type, c.point.key);
        if (newer(e.points.get(id), c.point)) e.points.set(id, c.point);
        if (!known || c.point.type === 'tombstone' || c.point.type === 'nodeType') shape = true;
      } else {
        const fresh = !this.nodes.has(c.nodeId);
        const n = this.node(c.nodeId);
        const id = pointId(c.point.type, c.point.key);
        if (newer(n.points.get(id), c.point)) n.points.set(id, c.point);
        if (fresh || c.point.type === 'description') shape = true;
      }
    }
    if (changes.length) this.version++;
    return shape;
  }

  point(id: string, type: string, key = '0'): UiPoint | undefined {
    return this.nodes.get(id)?.points.get(pointId(type, key));
  }

  description(id: string): string {
    const v = this.point(id, 'description')?.value;
    return v === undefined ? '' : String(v);
  }

  nodeType(id: string, parent?: string): string {
    const byParent = this.edges.get(id);
    if (!byParent) return '';
    const edges = parent !== undefined ? [byParent.get(parent)] : [...byParent.values()];
    for (const e of edges) {
      const v = e?.points.get(pointId('nodeType', '0'))?.value;
      if (typeof v === 'string' && v) return v;
    }
    return '';
  }

  /** The nearest boundary at or above a node, as the store computes it
   * (app/store MergedState.boundaryOf): this instance's root or a `device`
   * node; with several parents, the first live one in sorted order. */
  boundary(id: string): string {
    const seen = new Set<string>();
    let n: string | undefined = id;
    while (n !== undefined && !seen.has(n)) {
      seen.add(n);
      if (n === this.rootId || this.nodeType(n) === 'device') return n;
      const parents: string[] = [...(this.edges.get(n)?.keys() ?? [])].filter((p) => p !== ROOT && !this.isDeleted(n as string, p)).sort();
      n = parents[0];
    }
    return this.rootId;
  }

  isDeleted(id: string, parent: string): boolean {
    if (parent === ROOT) return false;
    // Any tombstone point of the edge counts, whatever its key (as the store does).
    const e = this.edges.get(id)?.get(parent);
    if (!e) return false;
    for (const p of e.points.values()) if (p.type === 'tombstone' && isTombstoneSet(p)) return true;
    return false;
  }

  childrenOf(parent: string, showDeleted = false): string[] {
    const kids: Array<{ id: string; type: string; description: string }> = [];
    for (const c of this.children.get(parent) ?? []) if (showDeleted || !this.isDeleted(c, parent)) kids.push({ id: c, type: this.nodeType(c, parent), description: this.description(c) });
    // Sort keys read once per child, not once per comparison.
    kids.sort((a, b) => plain.compare(a.type, b.type) || collator.compare(a.description, b.description) || plain.compare(a.id, b.id));
    return kids.map((k) => k.id);
  }

  private compare(a: string, b: string, parent: string): number {
    return plain.compare(this.nodeType(a, parent), this.nodeType(b, parent)) || collator.compare(this.description(a), this.description(b)) || plain.compare(a, b);
  }

  /** Top-level nodes: instance roots (this one first), and any node whose
   * only known edge is to a parent we do not hold. */
  roots(): string[] {
    const out = [...(this.children.get(ROOT) ?? [])];
    for (const [id, byParent] of this.edges) {
      if (byParent.has(ROOT)) continue;
      if (![...byParent.keys()].some((p) => this.nodes.has(p) || this.edges.has(p))) out.push(id);
    }
    return out.sort((a, b) => (a === this.rootId ? -1 : b === this.rootId ? 1 : this.compare(a, b, ROOT)));
  }

  private matches(id: string, parent: string, f: string, nodeType?: string): boolean {
    if (nodeType && this.nodeType(id, parent) !== nodeType) return false;
    if (!f) return true;
    return this.description(id).toLowerCase().includes(f) || id.toLowerCase().includes(f) || this.nodeType(id, parent).toLowerCase().includes(f);
  }

  /**
   * The visible rows, depth first. With a filter, every matching node is
   * shown with its ancestors (expanded), whatever the expand state.
   */
  rows(opts: RowOptions): Row[] {
    const f = (opts.filter ?? '').trim().toLowerCase();
    const filtering = f !== '' || Boolean(opts.nodeType);
    const showDeleted = opts.showDeleted ?? false;
    const out: Row[] = [];
    const visiting = new Set<string>();
    // Returns whether anything in this subtree matched (filter mode).
    const walk = (id: string, parent: string, depth: number): boolean => {
      if (visiting.has(id)) return false; // a cycle in the data: shown once
      visiting.add(id);
      const kids = this.childrenOf(id, showDeleted);
      const match = filtering && this.matches(id, parent, f, opts.nodeType);
      const at = out.length;
      const row: Row = {
        id,
        parent,
        depth,
        type: this.nodeType(id, parent),
        description: this.description(id),
        deleted: this.isDeleted(id, parent),
        hasChildren: kids.length > 0,
        expanded: filtering || opts.expanded.has(`${parent}/${id}`),
        match,
      };
      out.push(row);
      let any = match;
      if (row.expanded) for (const k of kids) any = walk(k, id, depth + 1) || any;
      visiting.delete(id);
      if (filtering && !any) out.length = at;
      return any;
    };
    for (const r of this.roots()) walk(r, this.edges.get(r)?.has(ROOT) ? ROOT : ([...(this.edges.get(r)?.keys() ?? [])][0] ?? ROOT), 0);
    return out;
  }

  get size(): number {
    return this.nodes.size;
  }
}
