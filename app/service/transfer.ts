// Export (history as CSV, a subtree as a SIOT node file) and import (a node
// file as configuration under a parent).
import { ClientError, type ExportFile, type HistoryRequest, type HistorySeries, type ImportResult } from '../client/index.ts';
import { EdgePointType, ROOT_PARENT, isDeleted, parseNodeFile, stringifyNodeFile, timeToDate, type NodeYaml, type Point } from '../siot/index.ts';
import type { HistoryQuery, Store } from '../store/index.ts';
import { displayValue } from './views.ts';

const NS_PER_MS = 1_000_000n;
export const DEFAULT_HISTORY_LIMIT = 10_000;
export const MAX_HISTORY_LIMIT = 100_000;

export function historyQuery(req: HistoryRequest, anyType = false): HistoryQuery {
  if (typeof req !== 'object' || req === null || typeof req.nodeId !== 'string' || !req.nodeId) throw new ClientError('history needs a nodeId');
  if (typeof req.type !== 'string' || (!req.type && !anyType)) throw new ClientError('history needs a point type (e.g. "value")');
  const limit = req.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) throw new ClientError(`history limit must be 1-${MAX_HISTORY_LIMIT}`);
  const q: HistoryQuery = { nodeId: req.nodeId, limit };
  if (req.type) q.type = req.type;
  if (req.key) q.key = req.key;
  for (const [name, v] of [['startMs', req.startMs], ['endMs', req.endMs]] as const) {
    if (v === undefined || v === null) continue;
    if (!Number.isFinite(v)) throw new ClientError(`history ${name} must be ms since the epoch`);
    if (name === 'startMs') q.start = BigInt(Math.floor(v)) * NS_PER_MS;
    else q.end = BigInt(Math.ceil(v)) * NS_PER_MS;
  }
  if (q.start !== undefined && q.end !== undefined && q.end <= q.start) throw new ClientError('history endMs must be after startMs');
  return q;
}

export async function historySeries(store: Store, req: HistoryRequest): Promise<HistorySeries> {
  const q = historyQuery(req);
  const r = await store.history(q);
  const pts = r.points.filter((h) => !isDeleted(h.point)).sort((a, b) => (a.point.time < b.point.time ? -1 : a.point.time > b.point.time ? 1 : 0));
  const raw = pts.map((h) => displayValue(h.point));
  return {
    nodeId: q.nodeId,
    type: req.type,
    key: req.key ?? '',
    times: pts.map((h) => timeToDate(h.point.time).getTime()),
    values: raw.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)),
    raw,
    instances: pts.map((h) => h.instance),
    truncated: r.truncated,
  };
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'node';
}

function description(store: Store, nodeId: string): string {
  const p = store.state.nodePoint(nodeId, 'description', '0');
  return p ? String(displayValue(p.point)) : '';
}

/** History of one point type as CSV: one row per stored sample, oldest
 * first, with the exact ns time next to an ISO time for spreadsheets. */
export async function historyCsv(store: Store, req: HistoryRequest): Promise<ExportFile> {
  const q = historyQuery({ ...req, limit: req.limit ?? MAX_HISTORY_LIMIT }, true);
  const r = await store.history(q);
  const rows = r.points.sort((a, b) => (a.point.time < b.point.time ? -1 : a.point.time > b.point.time ? 1 : 0));
  const lines = ['time,time_ns,node_id,type,key,value,tombstone,origin,instance'];
  for (const h of rows) {
    const p = h.point;
    lines.push(
      [timeToDate(p.time).toISOString(), p.time.toString(), h.nodeId, p.type, p.key, String(displayValue(p)), String(p.tombstone), p.origin, h.instance]
        .map(csvField)
        .join(','),
    );
  }
  const name = safeName(description(store, req.nodeId) || req.nodeId);
  return { filename: `${name}-${req.type ? safeName(req.type) : 'all'}.csv`, mimeType: 'text/csv', text: lines.join('\r\n') + '\r\n' };
}

const EDGE_MANAGED: readonly string[] = [EdgePointType.NodeType, EdgePointType.Tombstone];

function subtree(store: Store, id: string, parent: string, seen: Set<string>): NodeYaml {
  seen.add(id);
  const st = store.state;
  const children = st
    .childrenOf(id)
    .filter((c) => !seen.has(c))
    .map((c) => subtree(store, c, id, seen));
  return {
    type: st.nodeType(id, parent) || 'node',
    points: st.nodePoints(id).map((op) => op.point),
    edgePoints: st
      .edgePoints(id, parent)
      .map((op) => op.point)
      .filter((p) => !EDGE_MANAGED.includes(p.type)),
    children,
  };
}

/** A subtree as SIOT's node file (`siot export` format). */
export function subtreeYaml(store: Store, nodeId: string, parentId?: string): ExportFile {
  const parents = store.state.parentsOf(nodeId);
  const parent = parentId ?? parents[0];
  if (parent === undefined) throw new ClientError(`node ${nodeId} not found`, 'not-found');
  if (!store.state.hasEdge(nodeId, parent)) throw new ClientError(`node ${nodeId} has no edge to ${parent}`, 'not-found');
  const text = stringifyNodeFile([subtree(store, nodeId, parent, new Set())]);
  return { filename: `${safeName(description(store, nodeId) || nodeId)}.siot.yaml`, mimeType: 'application/yaml', text };
}

function countNodes(ns: readonly NodeYaml[]): { nodes: number; points: number } {
  let nodes = 0;
  let points = 0;
  for (const n of ns) {
    const c = countNodes(n.children);
    nodes += 1 + c.nodes;
    points += n.points.length + n.edgePoints.length + c.points;
  }
  return { nodes, points };
}

/** `parent:` in a file names a node by id or by description, searched below
 * (and including) the node the file is imported under. */
function resolveParent(store: Store, under: string, name: string): string {
  if (store.state.hasEdge(name, ROOT_PARENT) || store.state.parentsOf(name).length) return name;
  const queue = [under];
  const seen = new Set<string>();
  while (queue.length) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    if (description(store, id) === name) return id;
    queue.push(...store.state.childrenOf(id));
  }
  throw new ClientError(`parent "${name}" named in the file matches no node id or description below the chosen node`, 'not-found');
}

async function create(store: Store, parent: string, n: NodeYaml, time: bigint): Promise<string> {
  const id = await store.createNode(parent, n.type, n.points);
  if (n.edgePoints.length) await store.writeEdgePoints(id, parent, n.edgePoints.map((p: Point) => ({ ...p, time })));
  for (const c of n.children) await create(store, id, c, time);
  return id;
}

/** Imports a node file as configuration under `parentId`. The whole file is
 * parsed and every parent resolved before anything is written. */
export async function importNodeFile(store: Store, parentId: string, text: string, time: bigint): Promise<ImportResult> {
  if (typeof parentId !== 'string' || !parentId) throw new ClientError('import needs the node to import under (parentId)');
  if (!store.state.nodePoints(parentId).length && !store.state.parentsOf(parentId).length) throw new ClientError(`node ${parentId} not found`, 'not-found');
  if (typeof text !== 'string' || !text.trim()) throw new ClientError('the file is empty');
  let file;
  try {
    file = parseNodeFile(text, time);
  } catch (e) {
    throw new ClientError((e as Error).message, 'bad-file');
  }
  const targets = file.nodes.map((n) => (n.parent ? resolveParent(store, parentId, n.parent) : parentId));
  const nodeIds: string[] = [];
  for (let i = 0; i < file.nodes.length; i++) {
    try {
      nodeIds.push(await create(store, targets[i] as string, file.nodes[i] as NodeYaml, time));
    } catch (e) {
      throw new ClientError(`import stopped at nodes[${i}] after creating ${nodeIds.length} top-level node(s): ${(e as Error).message}`, 'failed');
    }
  }
  return { nodeIds, ...countNodes(file.nodes) };
}
