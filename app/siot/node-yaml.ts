// SIOT's node file (what `siot export` writes and `siot import` reads,
// simpleiot data/nodeyaml.go, apiVersion 1): the node type is the key of
// each node, every other key is a point type, `children:` and
// `edgePoints:` nest, `parent:` names where a top-level node attaches.
// Files carry configuration only: no ids, origins, times or tombstoned
// points. How a value is written decides its type: 9600 is an int point,
// 0.5 a float, "9600" text, true/false floats 1/0, an empty value a point
// with no data.
import { Document, isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap, type Node as YamlNode } from 'yaml';
import { normalizeKey } from './codec.ts';
import { SiotError } from './errors.ts';
import { DataType, type Point } from './types.ts';
import { floatData, intData, nowNs, pointFloat, pointIntNumber, pointString, stringData } from './values.ts';

export const NODE_FILE_API_VERSION = 1;
const PARENT = 'parent';
const CHILDREN = 'children';
const EDGE_POINTS = 'edgePoints';
const RESERVED = new Set([PARENT, CHILDREN, EDGE_POINTS]);

export interface NodeYaml {
  type: string;
  /** Match key of the node a top-level entry attaches to. */
  parent?: string;
  points: Point[];
  edgePoints: Point[];
  children: NodeYaml[];
}

export interface NodeFile {
  apiVersion: number;
  nodes: NodeYaml[];
}

function writable(p: Point): boolean {
  if (p.tombstone % 2 !== 0 || RESERVED.has(p.type)) return false;
  if (p.dataType === DataType.String || p.dataType === DataType.Float || p.dataType === DataType.Int) return true;
  return p.dataType === DataType.Unknown && p.data.length === 0;
}

function scalar(p: Point): Scalar {
  switch (p.dataType) {
    case DataType.String:
      // The stringifier quotes text that would read back as a number or bool.
      return new Scalar(pointString(p));
    case DataType.Int:
      return new Scalar(pointIntNumber(p));
    case DataType.Float: {
      const v = pointFloat(p);
      // Integral floats are written bare, as SIOT does.
      if (Number.isInteger(v) && Math.abs(v) < 1e15) return new Scalar(v);
      const s = new Scalar(v);
      s.minFractionDigits = Number.isInteger(v) ? 1 : 0;
      return s;
    }
    default:
      return new Scalar(null);
  }
}

function isIndexRun(keys: string[]): boolean {
  if (keys.length < 2) return false;
  const seen = new Set<number>();
  for (const k of keys) {
    if (!/^\d+$/.test(k)) return false;
    const i = Number(k);
    if (i >= keys.length || seen.has(i)) return false;
    seen.add(i);
  }
  return true;
}

function pointsToMap(doc: Document, points: readonly Point[]): YAMLMap {
  const groups = new Map<string, Map<string, Point>>();
  for (const p of points) {
    if (!writable(p)) continue;
    const g = groups.get(p.type) ?? new Map<string, Point>();
    g.set(normalizeKey(p.key), p);
    groups.set(p.type, g);
  }
  const out = new YAMLMap();
  for (const type of [...groups.keys()].sort()) {
    const g = groups.get(type) as Map<string, Point>;
    const keys = [...g.keys()].sort();
    if (keys.length === 1 && keys[0] === '0') {
      out.add(doc.createPair(type, scalar(g.get('0') as Point)));
    } else if (isIndexRun(keys)) {
      const seq = doc.createNode(keys.map((_k, i) => scalar(g.get(String(i)) as Point)));
      out.add(doc.createPair(type, seq));
    } else {
      const m = new YAMLMap();
      for (const k of keys) m.add(doc.createPair(k, scalar(g.get(k) as Point)));
      out.add(doc.createPair(type, m));
    }
  }
  return out;
}

function nodeToYaml(doc: Document, n: NodeYaml): YAMLMap {
  const body = new YAMLMap();
  if (n.parent) body.add(doc.createPair(PARENT, n.parent));
  for (const item of pointsToMap(doc, n.points).items) body.add(item);
  const edge = pointsToMap(doc, n.edgePoints);
  if (edge.items.length) body.add(doc.createPair(EDGE_POINTS, edge));
  if (n.children.length) body.add(doc.createPair(CHILDREN, doc.createNode(n.children.map((c) => nodeToYaml(doc, c)))));
  const wrap = new YAMLMap();
  wrap.add(doc.createPair(n.type, body));
  return wrap;
}

/** Writes a node file; points are sorted by type so an unchanged tree
 * exports byte-identically. */
export function stringifyNodeFile(nodes: readonly NodeYaml[]): string {
  const doc = new Document();
  const root = new YAMLMap();
  root.add(doc.createPair('apiVersion', NODE_FILE_API_VERSION));
  root.add(doc.createPair('nodes', doc.createNode(nodes.map((n) => nodeToYaml(doc, n)))));
  doc.contents = root;
  return doc.toString({ lineWidth: 0 });
}

function fail(where: string, what: string): never {
  throw new SiotError('bad-point', `node file: ${where}: ${what}`);
}

function pointFrom(type: string, key: string, node: unknown, where: string, time: bigint): Point {
  const p: Point = { type, key: normalizeKey(key), time, dataType: DataType.Unknown, data: new Uint8Array(), tombstone: 0, origin: '' };
  if (node === null || node === undefined) return p;
  if (!isScalar(node)) fail(where, `a point value has to be a scalar, a mapping or a sequence`);
  const v = node.value;
  if (v === null) return p;
  if (typeof v === 'string') return { ...p, dataType: DataType.String, data: stringData(v) };
  if (typeof v === 'bigint') return { ...p, dataType: DataType.Int, data: intData(v) };
  if (typeof v === 'number') return { ...p, dataType: DataType.Float, data: floatData(v) };
  if (typeof v === 'boolean') return { ...p, dataType: DataType.Float, data: floatData(v ? 1 : 0) };
  return fail(where, `unsupported value ${String(v)}`);
}

function pointsFrom(type: string, node: unknown, where: string, time: bigint): Point[] {
  if (isMap(node)) return node.items.map((it) => pointFrom(type, keyOf(it.key, where), it.value, `${where}.${keyOf(it.key, where)}`, time));
  if (isSeq(node)) return node.items.map((it, i) => pointFrom(type, String(i), it, `${where}[${i}]`, time));
  return [pointFrom(type, '', node, where, time)];
}

function keyOf(k: unknown, where: string): string {
  if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number' || typeof k.value === 'bigint')) return String(k.value);
  return fail(where, 'keys must be plain names');
}

function nodeFrom(item: unknown, where: string, time: bigint): NodeYaml {
  if (!isMap(item)) fail(where, 'a node is a mapping with one key, its node type');
  if (item.items.some((it) => keyOf(it.key, where) === 'type')) {
    fail(where, 'this looks like the old export format (a `type:` field); nodes are now spelled `- <nodeType>:` with points below it. Re-export with a current `siot export`');
  }
  if (item.items.length !== 1) fail(where, `a node is a single key, the node type, with its points below it; found ${item.items.length} keys`);
  const pair = item.items[0] as { key: unknown; value: unknown };
  const type = keyOf(pair.key, where);
  const n: NodeYaml = { type, points: [], edgePoints: [], children: [] };
  const here = `${where} (${type})`;
  if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) return n;
  if (!isMap(pair.value)) fail(here, 'expected the node\'s points as a mapping');
  for (const f of pair.value.items) {
    const key = keyOf(f.key, here);
    if (key === PARENT) {
      if (!isScalar(f.value) || typeof f.value.value !== 'string') fail(here, 'parent: must be text');
      n.parent = f.value.value;
    } else if (key === CHILDREN) {
      if (!isSeq(f.value)) fail(here, 'children: must be a list of nodes');
      n.children = f.value.items.map((c, i) => nodeFrom(c, `${here}.children[${i}]`, time));
    } else if (key === EDGE_POINTS) {
      if (!isMap(f.value)) fail(here, 'edgePoints: must be a mapping of point types');
      for (const e of f.value.items) n.edgePoints.push(...pointsFrom(keyOf(e.key, here), e.value, `${here}.edgePoints.${keyOf(e.key, here)}`, time));
    } else {
      n.points.push(...pointsFrom(key, f.value, `${here}.${key}`, time));
    }
  }
  return n;
}

/** Reads a node file. Every point gets `time` (default: now), since files
 * carry no times. Throws a SiotError naming the place that is wrong. */
export function parseNodeFile(text: string, time: bigint = nowNs()): NodeFile {
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true });
  if (doc.errors.length) fail('YAML', doc.errors.map((e) => e.message).join('; '));
  const root = doc.contents as YamlNode | null;
  if (!isMap(root)) fail('top level', 'expected `apiVersion:` and `nodes:`');
  const version = root.get('apiVersion');
  const apiVersion = version === undefined ? NODE_FILE_API_VERSION : Number(version);
  if (apiVersion !== NODE_FILE_API_VERSION) fail('apiVersion', `version ${String(version)} is not supported; this app reads version ${NODE_FILE_API_VERSION}`);
  const nodes = root.get('nodes', true);
  if (nodes === undefined) return { apiVersion, nodes: [] };
  if (!isSeq(nodes)) fail('nodes', 'must be a list');
  return { apiVersion, nodes: nodes.items.map((it, i) => nodeFrom(it, `nodes[${i}]`, time)) };
}
