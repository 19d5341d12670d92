// NATS subjects of the SIOT API and of our storage streams (DESIGN.md §2, §3).
// Parsing runs once per message, so it splits once and checks characters
// with a charCode loop instead of regular expressions.

import { normalizeKey } from './codec.ts';
import { SiotError } from './errors.ts';
import type { Point } from './types.ts';
import { utf8Length } from './utf8.ts';

export interface PointSubject {
  nodeId: string;
  type: string;
  key: string;
}
export interface EdgeSubject {
  nodeId: string;
  parentId: string;
}
export interface NodesSubject {
  /** May be the literal `all`. */
  parentId: string;
  /** May be the literal `all`. */
  nodeId: string;
}
export type UpSubject =
  | { kind: 'point'; ancestorId: string; nodeId: string; type: string; key: string }
  | { kind: 'edge'; ancestorId: string; nodeId: string; parentId: string; type: string; key: string };
export type InstSubject =
  | { kind: 'point'; boundary: string; origin: string; nodeId: string; type: string; key: string }
  | { kind: 'edge'; boundary: string; origin: string; parentId: string; childId: string };

/** Matches any single token in the filter builders. */
export const ANY = '*';

// Longest stream name most filesystems accept as a directory name.
const MAX_STREAM_NAME_BYTES = 255;

function isUnicodeSpace(c: number): boolean {
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Index of the first character not allowed in a token, or -1. Control
 * characters count as whitespace: NATS splits the protocol line on them. With
 * `pathSafe`, `/` and `\` are rejected too (stream names become directories). */
function badCharIndex(s: string, pathSafe: boolean): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x20 && c < 0x7f) {
      if (c === 0x2e || c === 0x2a || c === 0x3e) return i;
      if (pathSafe && (c === 0x2f || c === 0x5c)) return i;
    } else if (c <= 0x20 || (c >= 0x7f && c <= 0x9f) || isUnicodeSpace(c)) {
      return i;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate would go on the wire as U+FFFD and name another subject.
      const d = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return i;
      i++;
    }
  }
  return -1;
}

function describeChar(c: string): string {
  switch (c) {
    case '.':
      return '"." (the subject separator)';
    case '*':
    case '>':
      return `"${c}" (a NATS wildcard)`;
    case '/':
    case '\\':
      return `"${c}" (a path separator; stream names become directory names)`;
    default: {
      const code = c.charCodeAt(0);
      const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      return code >= 0xd800 && code <= 0xdfff
        ? `a lone UTF-16 surrogate ${hex} (not encodable as UTF-8)`
        : `whitespace or control character ${hex}`;
    }
  }
}

function tokenProblem(s: string, pathSafe: boolean): string | undefined {
  if (s === '') return 'is empty';
  const i = badCharIndex(s, pathSafe);
  if (i < 0) return undefined;
  return `contains ${describeChar(s.charAt(i))} at index ${i}`;
}

const RULE = 'tokens may not contain ".", "*", ">", whitespace or control characters';

/** Throws SiotError('bad-subject') unless `s` can be one subject token.
 * `what` names the token in the message, e.g. "node id". */
export function validateToken(what: string, s: string): void {
  const problem = tokenProblem(s, false);
  if (problem !== undefined) {
    throw new SiotError('bad-subject', `${what} "${s}" ${problem}; ${RULE}`);
  }
}

/** Boundary and origin ids also name streams (`inst_<b>_<o>`): besides the
 * token rules they may not hold `/` or `\`, nor `_`, which would make two
 * (b, o) pairs share one stream name and break the single-writer rule. */
function validateStreamId(what: string, s: string): void {
  const problem = tokenProblem(s, true) ?? (s.includes('_') ? 'contains "_" (it separates ids in stream names)' : undefined);
  if (problem !== undefined) {
    throw new SiotError(
      'bad-subject',
      `${what} "${s}" ${problem}; ids used in stream names may not contain ".", "*", ">", "/", "\\", "_", whitespace or control characters`,
    );
  }
}

/** Throws SiotError('bad-subject') if the point's type or key cannot go on a
 * subject. Empty type and key are fine (written `_` and `0`). */
export function checkPointTokens(p: Point): void {
  if (p.type !== '') validateToken('point type', p.type);
  if (p.key !== '') validateToken('point key', p.key);
}

function typeToken(type: string): string {
  const t = type === '' ? '_' : type;
  validateToken('point type', t);
  return t;
}

function keyToken(key: string): string {
  const k = normalizeKey(key);
  validateToken('point key', k);
  return k;
}

function typeFromToken(t: string): string {
  return t === '_' ? '' : t;
}

// ---- parsing helpers ------------------------------------------------------

function badSubject(s: string, problem: string, shape: string): SiotError {
  return new SiotError('bad-subject', `bad subject "${s}": ${problem} (expected ${shape})`);
}

/** Splits `s`, checks prefix and token count, and validates tokens 1.. named by `names`. */
function split(s: string, prefix: string, names: readonly string[], shape: string): string[] {
  const t = s.split('.');
  if (t[0] !== prefix) throw badSubject(s, `does not start with "${prefix}."`, shape);
  checkCount(s, t, names.length + 1, shape);
  checkTokens(s, t, names, shape, 0);
  return t;
}

function checkCount(s: string, t: readonly string[], want: number, shape: string): void {
  if (t.length !== want) {
    throw badSubject(s, `has ${t.length} dot-separated tokens, not ${want}`, shape);
  }
}

/** Validates `t[1..]`; tokens whose bit is set in `streamIdMask` (bit i for
 * token i) follow the stream-name rules. */
function checkTokens(s: string, t: readonly string[], names: readonly string[], shape: string, streamIdMask: number): void {
  for (let i = 1; i < t.length; i++) {
    const tok = t[i] as string;
    const pathSafe = (streamIdMask & (1 << i)) !== 0;
    let problem = tokenProblem(tok, pathSafe);
    if (problem === undefined && pathSafe && tok.includes('_')) problem = 'contains "_"';
    if (problem !== undefined) {
      throw badSubject(s, `token ${i + 1} (${names[i - 1] ?? 'token'}) ${problem}`, shape);
    }
  }
}

// ---- live API subjects ----------------------------------------------------

const POINT_SHAPE = 'p.<nodeId>.<type>.<key>';
const POINT_NAMES = ['node id', 'point type', 'point key'] as const;

export function pointSubject(nodeId: string, type: string, key: string): string {
  validateToken('node id', nodeId);
  return `p.${nodeId}.${typeToken(type)}.${keyToken(key)}`;
}

export function parsePointSubject(s: string): PointSubject {
  const t = split(s, 'p', POINT_NAMES, POINT_SHAPE);
  return { nodeId: t[1] as string, type: typeFromToken(t[2] as string), key: t[3] as string };
}

const EDGE_SHAPE = 'ep.<nodeId>.<parentId>';
const EDGE_NAMES = ['node id', 'parent id'] as const;

export function edgeSubject(nodeId: string, parentId: string): string {
  validateToken('node id', nodeId);
  validateToken('parent id', parentId);
  return `ep.${nodeId}.${parentId}`;
}

export function parseEdgeSubject(s: string): EdgeSubject {
  const t = split(s, 'ep', EDGE_NAMES, EDGE_SHAPE);
  return { nodeId: t[1] as string, parentId: t[2] as string };
}

const NODES_SHAPE = 'nodes.<parentId>.<nodeId>';
const NODES_NAMES = ['parent id', 'node id'] as const;

/** Either id may be the literal `all`. */
export function nodesSubject(parentId: string, nodeId: string): string {
  validateToken('parent id', parentId);
  validateToken('node id', nodeId);
  return `nodes.${parentId}.${nodeId}`;
}

export function parseNodesSubject(s: string): NodesSubject {
  const t = split(s, 'nodes', NODES_NAMES, NODES_SHAPE);
  return { parentId: t[1] as string, nodeId: t[2] as string };
}

const UP_SHAPE = 'up.<ancestorId>.<nodeId>.<type>.<key> or up.<ancestorId>.<nodeId>.<parentId>.<type>.<key>';
const UP_POINT_NAMES = ['ancestor id', 'node id', 'point type', 'point key'] as const;
const UP_EDGE_NAMES = ['ancestor id', 'node id', 'parent id', 'point type', 'point key'] as const;

export function upPointSubject(ancestorId: string, nodeId: string, type: string, key: string): string {
  validateToken('ancestor id', ancestorId);
  validateToken('node id', nodeId);
  return `up.${ancestorId}.${nodeId}.${typeToken(type)}.${keyToken(key)}`;
}

export function upEdgeSubject(ancestorId: string, nodeId: string, parentId: string, type: string, key: string): string {
  validateToken('ancestor id', ancestorId);
  validateToken('node id', nodeId);
  validateToken('parent id', parentId);
  return `up.${ancestorId}.${nodeId}.${parentId}.${typeToken(type)}.${keyToken(key)}`;
}

export function parseUpSubject(s: string): UpSubject {
  const t = s.split('.');
  if (t[0] !== 'up') throw badSubject(s, 'does not start with "up."', UP_SHAPE);
  if (t.length === 5) {
    checkTokens(s, t, UP_POINT_NAMES, UP_SHAPE, 0);
    return {
      kind: 'point',
      ancestorId: t[1] as string,
      nodeId: t[2] as string,
      type: typeFromToken(t[3] as string),
      key: t[4] as string,
    };
  }
  if (t.length === 6) {
    checkTokens(s, t, UP_EDGE_NAMES, UP_SHAPE, 0);
    return {
      kind: 'edge',
      ancestorId: t[1] as string,
      nodeId: t[2] as string,
      parentId: t[3] as string,
      type: typeFromToken(t[4] as string),
      key: t[5] as string,
    };
  }
  throw badSubject(s, `has ${t.length} dot-separated tokens, not 5 or 6`, UP_SHAPE);
}

// ---- storage subjects -----------------------------------------------------

const INST_SHAPE = 'inst.<boundary>.<origin>.<nodeId>.p.<type>.<key> or inst.<boundary>.<origin>.<parentId>.ep.<childId>';
const INST_POINT_NAMES = ['boundary id', 'origin id', 'node id', '"p"', 'point type', 'point key'] as const;
const INST_EDGE_NAMES = ['boundary id', 'origin id', 'parent id', '"ep"', 'child id'] as const;
/** Tokens 1 (boundary) and 2 (origin) of inst subjects name a stream. */
const STREAM_ID_TOKENS = (1 << 1) | (1 << 2);

/** `inst_<b>_<o>`: the stream holding what origin `o` wrote under boundary `b`. */
export function instStreamName(boundary: string, origin: string): string {
  validateStreamId('boundary id', boundary);
  validateStreamId('origin id', origin);
  const name = `inst_${boundary}_${origin}`;
  if (utf8Length(name) > MAX_STREAM_NAME_BYTES) {
    throw new SiotError(
      'bad-subject',
      `stream name "${name}" is longer than ${MAX_STREAM_NAME_BYTES} bytes and cannot be a directory name; use shorter ids`,
    );
  }
  return name;
}

/** The subject filter of stream `inst_<b>_<o>`. */
export function instStreamSubjects(boundary: string, origin: string): string {
  validateStreamId('boundary id', boundary);
  validateStreamId('origin id', origin);
  return `inst.${boundary}.${origin}.>`;
}

export function instPointSubject(boundary: string, origin: string, nodeId: string, type: string, key: string): string {
  validateStreamId('boundary id', boundary);
  validateStreamId('origin id', origin);
  validateToken('node id', nodeId);
  return `inst.${boundary}.${origin}.${nodeId}.p.${typeToken(type)}.${keyToken(key)}`;
}

export function instEdgeSubject(boundary: string, origin: string, parentId: string, childId: string): string {
  validateStreamId('boundary id', boundary);
  validateStreamId('origin id', origin);
  validateToken('parent id', parentId);
  validateToken('child id', childId);
  return `inst.${boundary}.${origin}.${parentId}.ep.${childId}`;
}

export function parseInstSubject(s: string): InstSubject {
  const t = s.split('.');
  if (t[0] !== 'inst') throw badSubject(s, 'does not start with "inst."', INST_SHAPE);
  if (t.length === 7 && t[4] === 'p') {
    checkTokens(s, t, INST_POINT_NAMES, INST_SHAPE, STREAM_ID_TOKENS);
    return {
      kind: 'point',
      boundary: t[1] as string,
      origin: t[2] as string,
      nodeId: t[3] as string,
      type: typeFromToken(t[5] as string),
      key: t[6] as string,
    };
  }
  if (t.length === 6 && t[4] === 'ep') {
    checkTokens(s, t, INST_EDGE_NAMES, INST_SHAPE, STREAM_ID_TOKENS);
    return {
      kind: 'edge',
      boundary: t[1] as string,
      origin: t[2] as string,
      parentId: t[3] as string,
      childId: t[5] as string,
    };
  }
  if (t.length === 7 || t.length === 6) {
    throw badSubject(s, `token 5 is "${t[4] ?? ''}", not "p" (7 tokens) or "ep" (6 tokens)`, INST_SHAPE);
  }
  throw badSubject(s, `has ${t.length} dot-separated tokens, not 7 (point) or 6 (edge)`, INST_SHAPE);
}

function streamIdOrAny(what: string, s: string): string {
  if (s !== ANY) validateStreamId(what, s);
  return s;
}

/** Filter for the point history of one node. Pass `'*'` for any boundary or
 * origin; omit `type`/`key` (undefined) to match any — an empty string means
 * the empty type / key "0", not a wildcard. */
export function instPointFilter(
  boundary: string,
  origin: string,
  nodeId: string,
  type?: string,
  key?: string,
): string {
  const b = streamIdOrAny('boundary id', boundary);
  const o = streamIdOrAny('origin id', origin);
  validateToken('node id', nodeId);
  const t = type === undefined ? ANY : typeToken(type);
  const k = key === undefined ? ANY : keyToken(key);
  return `inst.${b}.${o}.${nodeId}.p.${t}.${k}`;
}

/** Filter for edge points under a parent. Pass `'*'` for any boundary, origin
 * or parent; omit `childId` to match every child. */
export function instEdgeFilter(boundary: string, origin: string, parentId: string, childId?: string): string {
  const b = streamIdOrAny('boundary id', boundary);
  const o = streamIdOrAny('origin id', origin);
  if (parentId !== ANY) validateToken('parent id', parentId);
  if (childId !== undefined) validateToken('child id', childId);
  return `inst.${b}.${o}.${parentId}.ep.${childId ?? ANY}`;
}
