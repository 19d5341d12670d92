import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkPointTokens,
  edgeSubject,
  instEdgeFilter,
  instEdgeSubject,
  instPointFilter,
  instPointSubject,
  instStreamName,
  instStreamSubjects,
  nodesSubject,
  parseEdgeSubject,
  parseInstSubject,
  parseNodesSubject,
  parsePointSubject,
  parseUpSubject,
  pointSubject,
  SiotError,
  upEdgeSubject,
  upPointSubject,
  validateToken,
} from '../../../app/siot/index.ts';
import type { Point } from '../../../app/siot/index.ts';

// Independent oracle for the token rule: no ".", "*", ">", whitespace or control characters.
const BAD_TOKEN = /[.*>\s\p{Cc}]/u;
const token = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => !BAD_TOKEN.test(s));
const streamId = token.filter((s) => !/[/\\_]/.test(s));
const BAD_CHARS = ['.', '*', '>', ' ', '\t', '\n', '\r', '\u0000', '\u007f', '\u0085', '\u00a0', '\u2003', '\u2028', '\u3000', '\ufeff'];
const BAD_NO_DOT = BAD_CHARS.filter((c) => c !== '.');

function badSubject(fn: () => unknown, msg?: RegExp): void {
  try {
    fn();
    expect.unreachable('should have thrown');
  } catch (err) {
    expect(err).toBeInstanceOf(SiotError);
    expect((err as SiotError).code).toBe('bad-subject');
    if (msg) expect((err as Error).message).toMatch(msg);
  }
}

describe('validateToken', () => {
  it('agrees with the oracle on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 8 }), (s) => {
        const ok = s !== '' && !BAD_TOKEN.test(s);
        let threw = false;
        try {
          validateToken('thing', s);
        } catch {
          threw = true;
        }
        expect(threw).toBe(!ok);
      }),
      { numRuns: 2000 },
    );
  });
  it('names what was wrong and the offending character', () => {
    badSubject(() => validateToken('node id', 'a.b'), /node id "a\.b" contains "\." .* at index 1/);
    badSubject(() => validateToken('point key', 'x y'), /point key "x y" contains whitespace .* U\+0020 at index 1/);
    badSubject(() => validateToken('point type', '*'), /"\*" \(a NATS wildcard\)/);
    badSubject(() => validateToken('node id', ''), /node id "" is empty/);
    badSubject(() => validateToken('node id', 'a\ud800'), /lone UTF-16 surrogate U\+D800/);
  });
  it('accepts non-ASCII and surrogate pairs', () => {
    validateToken('node id', 'héllo-😀_/\\');
  });
  it('checkPointTokens allows empty type and key but not bad characters', () => {
    const p: Point = { type: '', key: '', time: 0n, dataType: 0, data: new Uint8Array(), tombstone: 0, origin: 'a b' };
    checkPointTokens(p);
    badSubject(() => checkPointTokens({ ...p, type: 'a.b' }), /point type/);
    badSubject(() => checkPointTokens({ ...p, key: 'k>' }), /point key/);
  });
});

describe('builders reject each bad character in each position', () => {
  const builders: [string, number, (args: string[]) => string][] = [
    ['pointSubject', 3, (a) => pointSubject(a[0]!, a[1]!, a[2]!)],
    ['edgeSubject', 2, (a) => edgeSubject(a[0]!, a[1]!)],
    ['nodesSubject', 2, (a) => nodesSubject(a[0]!, a[1]!)],
    ['upPointSubject', 4, (a) => upPointSubject(a[0]!, a[1]!, a[2]!, a[3]!)],
    ['upEdgeSubject', 5, (a) => upEdgeSubject(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!)],
    ['instPointSubject', 5, (a) => instPointSubject(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!)],
    ['instEdgeSubject', 4, (a) => instEdgeSubject(a[0]!, a[1]!, a[2]!, a[3]!)],
    ['instStreamName', 2, (a) => instStreamName(a[0]!, a[1]!)],
    ['instStreamSubjects', 2, (a) => instStreamSubjects(a[0]!, a[1]!)],
    ['instPointFilter', 5, (a) => instPointFilter(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!)],
  ];
  for (const [name, arity, build] of builders) {
    it(name, () => {
      const good = Array.from({ length: arity }, (_, i) => `t${i}`);
      expect(() => build(good)).not.toThrow();
      for (let pos = 0; pos < arity; pos++) {
        for (const c of BAD_CHARS) {
          for (const s of [c, `a${c}`, `${c}a`, `a${c}b`]) {
            // A lone "*" is the filters' wildcard for boundary and origin.
            if (name === 'instPointFilter' && pos < 2 && s === '*') continue;
            const args = good.slice();
            args[pos] = s;
            badSubject(() => build(args));
          }
        }
      }
    });
  }
  it('rejects empty node ids', () => {
    badSubject(() => pointSubject('', 't', 'k'), /node id "" is empty/);
    badSubject(() => edgeSubject('n', ''), /parent id "" is empty/);
    badSubject(() => upPointSubject('', 'n', 't', 'k'), /ancestor id/);
    badSubject(() => instEdgeSubject('b', 'o', 'p', ''), /child id/);
  });
});

describe('live API subjects', () => {
  it('uses "_" for an empty type and "0" for an empty key', () => {
    expect(pointSubject('n1', '', '')).toBe('p.n1._.0');
    expect(parsePointSubject('p.n1._.0')).toEqual({ nodeId: 'n1', type: '', key: '0' });
    expect(upPointSubject('a', 'n', '', '')).toBe('up.a.n._.0');
    expect(upEdgeSubject('a', 'n', 'p', '', '')).toBe('up.a.n.p._.0');
    expect(instPointSubject('b', 'o', 'n', '', '')).toBe('inst.b.o.n.p._.0');
  });

  it('round-trips point, edge, nodes and up subjects', () => {
    fc.assert(
      fc.property(token, token, token, token, token, (a, b, c, d, e) => {
        const type = c === '_' ? '' : c;
        expect(parsePointSubject(pointSubject(a, c, d))).toEqual({ nodeId: a, type, key: d });
        expect(parseEdgeSubject(edgeSubject(a, b))).toEqual({ nodeId: a, parentId: b });
        expect(parseNodesSubject(nodesSubject(a, b))).toEqual({ parentId: a, nodeId: b });
        expect(parseUpSubject(upPointSubject(a, b, c, d))).toEqual({ kind: 'point', ancestorId: a, nodeId: b, type, key: d });
        expect(parseUpSubject(upEdgeSubject(a, b, e, c, d))).toEqual({
          kind: 'edge',
          ancestorId: a,
          nodeId: b,
          parentId: e,
          type,
          key: d,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('accepts "all" in nodes subjects', () => {
    expect(parseNodesSubject(nodesSubject('all', 'all'))).toEqual({ parentId: 'all', nodeId: 'all' });
  });

  it('reports wrong prefix, token count and empty tokens, quoting the subject', () => {
    badSubject(() => parsePointSubject('x.n.t.k'), /bad subject "x\.n\.t\.k": does not start with "p\."/);
    badSubject(() => parsePointSubject('p.n.t'), /has 3 dot-separated tokens, not 4/);
    badSubject(() => parsePointSubject('p.n.t.k.x'), /has 5 dot-separated tokens, not 4/);
    badSubject(() => parsePointSubject('p'), /has 1 dot-separated tokens/);
    badSubject(() => parsePointSubject(''), /does not start with "p\."/);
    badSubject(() => parsePointSubject('p..t.k'), /token 2 \(node id\) is empty/);
    badSubject(() => parsePointSubject('p.n.t.'), /token 4 \(point key\) is empty/);
    badSubject(() => parseEdgeSubject('ep.n'), /has 2 dot-separated tokens, not 3/);
    badSubject(() => parseEdgeSubject('p.n.x'), /does not start with "ep\."/);
    badSubject(() => parseNodesSubject('nodes.a.b.c'), /not 3/);
    badSubject(() => parseUpSubject('up.a.b.c'), /has 4 dot-separated tokens, not 5 or 6/);
    badSubject(() => parseUpSubject('up.a.b.c.d.e.f'), /not 5 or 6/);
    badSubject(() => parseUpSubject('p.a.b.c.d'), /does not start with "up\."/);
  });

  it('rejects each bad character in each token when parsing', () => {
    const cases: [(s: string) => unknown, string[]][] = [
      [parsePointSubject, ['p', 'n', 't', 'k']],
      [parseEdgeSubject, ['ep', 'n', 'p']],
      [parseNodesSubject, ['nodes', 'p', 'n']],
      [parseUpSubject, ['up', 'a', 'n', 't', 'k']],
      [parseUpSubject, ['up', 'a', 'n', 'p', 't', 'k']],
      [parseInstSubject, ['inst', 'b', 'o', 'n', 'p', 't', 'k']],
      [parseInstSubject, ['inst', 'b', 'o', 'p', 'ep', 'c']],
    ];
    for (const [parse, toks] of cases) {
      expect(() => parse(toks.join('.'))).not.toThrow();
      for (let pos = 1; pos < toks.length; pos++) {
        for (const c of BAD_NO_DOT) {
          const t = toks.slice();
          t[pos] = `${t[pos]}${c}`;
          badSubject(() => parse(t.join('.')), new RegExp(`token ${pos + 1} `));
        }
      }
    }
  });
});

describe('storage subjects', () => {
  it('builds stream names, stream subjects and message subjects', () => {
    expect(instStreamName('dev1', 'lap1')).toBe('inst_dev1_lap1');
    expect(instStreamSubjects('dev1', 'lap1')).toBe('inst.dev1.lap1.>');
    expect(instPointSubject('dev1', 'lap1', 'n1', 'value', '')).toBe('inst.dev1.lap1.n1.p.value.0');
    expect(instEdgeSubject('dev1', 'lap1', 'par', 'kid')).toBe('inst.dev1.lap1.par.ep.kid');
  });

  it('rejects "/", "\\" and "_" in boundary and origin ids', () => {
    for (const c of ['/', '\\', '_']) {
      badSubject(() => instStreamName(`a${c}b`, 'o'), /boundary id .* ids used in stream names/);
      badSubject(() => instStreamName('b', `a${c}b`), /origin id/);
      badSubject(() => instStreamSubjects(`a${c}b`, 'o'), /boundary id/);
      badSubject(() => instPointSubject('b', `${c}`, 'n', 't', 'k'), /origin id/);
      badSubject(() => instEdgeSubject(`${c}`, 'o', 'p', 'c'), /boundary id/);
      badSubject(() => parseInstSubject(`inst.a${c}.o.n.p.t.k`), /token 2 \(boundary id\)/);
      badSubject(() => parseInstSubject(`inst.b.o${c}.p.ep.c`), /token 3 \(origin id\)/);
    }
    // Node ids inside subjects are not stream names.
    expect(instPointSubject('b', 'o', 'n/_\\', 't', 'k')).toBe('inst.b.o.n/_\\.p.t.k');
  });

  it('rejects stream names longer than 255 bytes', () => {
    badSubject(() => instStreamName('b'.repeat(200), 'o'.repeat(60)), /longer than 255 bytes/);
    expect(instStreamName('b'.repeat(200), 'o'.repeat(49))).toHaveLength(255);
  });

  it('round-trips inst point and edge subjects', () => {
    fc.assert(
      fc.property(streamId, streamId, token, token, token, (b, o, n, t, k) => {
        expect(parseInstSubject(instPointSubject(b, o, n, t, k))).toEqual({
          kind: 'point',
          boundary: b,
          origin: o,
          nodeId: n,
          type: t === '_' ? '' : t,
          key: k,
        });
        expect(parseInstSubject(instEdgeSubject(b, o, n, t))).toEqual({
          kind: 'edge',
          boundary: b,
          origin: o,
          parentId: n,
          childId: t,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('reports malformed inst subjects', () => {
    badSubject(() => parseInstSubject('inst.b.o.n.x.t.k'), /token 5 is "x", not "p" \(7 tokens\) or "ep" \(6 tokens\)/);
    badSubject(() => parseInstSubject('inst.b.o.n.p.t'), /token 5 is "p"/);
    badSubject(() => parseInstSubject('inst.b.o.n'), /has 4 dot-separated tokens, not 7 \(point\) or 6 \(edge\)/);
    badSubject(() => parseInstSubject('ins.b.o.n.p.t.k'), /does not start with "inst\."/);
    badSubject(() => parseInstSubject('inst.b..n.p.t.k'), /token 3 \(origin id\) is empty/);
  });

  it('builds history filters with wildcards only where asked', () => {
    expect(instPointFilter('b', 'o', 'n', 'value', '1')).toBe('inst.b.o.n.p.value.1');
    expect(instPointFilter('*', '*', 'n', 'value')).toBe('inst.*.*.n.p.value.*');
    expect(instPointFilter('b', '*', 'n')).toBe('inst.b.*.n.p.*.*');
    expect(instPointFilter('b', 'o', 'n', undefined, 'k')).toBe('inst.b.o.n.p.*.k');
    expect(instPointFilter('b', 'o', 'n', '', '')).toBe('inst.b.o.n.p._.0');
    expect(instEdgeFilter('*', 'o', 'par')).toBe('inst.*.o.par.ep.*');
    expect(instEdgeFilter('b', 'o', '*', 'kid')).toBe('inst.b.o.*.ep.kid');
    badSubject(() => instPointFilter('b', 'o', '*'), /node id "\*"/);
    badSubject(() => instPointFilter('b', 'o', 'n', '>'), /point type/);
  });
});
