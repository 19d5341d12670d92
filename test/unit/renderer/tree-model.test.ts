import { describe, expect, it } from 'vitest';
import type { TreeSnapshot, UiNode } from '../../../app/client/index.ts';
import { TreeModel, isTombstoneSet, type Row } from '../../../renderer/src/lib/tree-model.ts';
import { edgeChange, node, nodeChange, pt } from './helpers.ts';

// lap (this instance, root) ─ (no children)
// dev (device "Field device")
//   ├ grp (group "Pumps") ─ p1 (modbus "Pump A")
//   ├ in1 (signal "Input 1")
//   ├ in10 (signal "Input 10")
//   └ in2 (signal "Input 2")
function snapshot(): TreeSnapshot {
  return {
    rootId: 'lap',
    nodes: [
      node('dev', 'root', 'device', 'Field device', { boundary: 'dev' }),
      node('in10', 'dev', 'signal', 'Input 10', { points: [pt('value', 3.5)] }),
      node('in1', 'dev', 'signal', 'Input 1'),
      node('in2', 'dev', 'signal', 'Input 2'),
      node('grp', 'dev', 'group', 'Pumps'),
      node('p1', 'grp', 'modbus', 'Pump A'),
      node('lap', 'root', 'device', 'Laptop', { boundary: 'lap' }),
    ],
  };
}

function loaded(): TreeModel {
  const m = new TreeModel();
  m.load(snapshot());
  return m;
}

const all = (m: TreeModel): Set<string> => {
  const s = new Set<string>();
  for (const [id, byParent] of m.edges) for (const p of byParent.keys()) s.add(`${p}/${id}`);
  return s;
};

const ids = (rows: Row[]): string[] => rows.map((r) => r.id);
const line = (rows: Row[]): string[] => rows.map((r) => `${'  '.repeat(r.depth)}${r.id}`);

describe('TreeModel: snapshot', () => {
  it('loads nodes, points, edges and children', () => {
    const m = loaded();
    expect(m.size).toBe(7);
    expect(m.rootId).toBe('lap');
    expect(m.description('in1')).toBe('Input 1');
    expect(m.point('in10', 'value')?.value).toBe(3.5);
    expect(m.nodeType('grp')).toBe('group');
    expect(m.nodeType('grp', 'dev')).toBe('group');
    expect(m.nodeType('grp', 'nope')).toBe('');
    expect(m.nodeType('unknown')).toBe('');
    expect(m.boundary('dev')).toBe('dev');
    expect(m.boundary('p1')).toBe('dev');
    expect(m.boundary('lap')).toBe('lap');
    expect([...(m.children.get('dev') ?? [])].sort()).toEqual(['grp', 'in1', 'in10', 'in2']);
  });

  it('a second load replaces the first', () => {
    const m = loaded();
    const v = m.version;
    m.load({ rootId: 'x', nodes: [node('x', 'root', 'device', 'X')] });
    expect(m.size).toBe(1);
    expect(m.version).toBe(v + 1);
    expect(ids(m.rows({ expanded: new Set() }))).toEqual(['x']);
  });

  it('roots: this instance first, then the other roots', () => {
    expect(loaded().roots()).toEqual(['lap', 'dev']);
  });

  it('rows: collapsed roots only; expanded branches depth first, sorted by type then description (numeric)', () => {
    const m = loaded();
    expect(ids(m.rows({ expanded: new Set() }))).toEqual(['lap', 'dev']);
    const rows = m.rows({ expanded: new Set(['root/dev']) });
    expect(line(rows)).toEqual(['lap', 'dev', '  grp', '  in1', '  in2', '  in10']);
    const dev = rows[1] as Row;
    expect(dev).toMatchObject({ id: 'dev', parent: 'root', depth: 0, type: 'device', description: 'Field device', hasChildren: true, expanded: true, deleted: false, match: false });
    expect(rows[0]).toMatchObject({ id: 'lap', hasChildren: false, expanded: false });
    expect(rows[2]).toMatchObject({ id: 'grp', parent: 'dev', depth: 1, hasChildren: true, expanded: false });
    expect(line(m.rows({ expanded: new Set(['root/dev', 'dev/grp']) }))).toEqual(['lap', 'dev', '  grp', '    p1', '  in1', '  in2', '  in10']);
  });

  it('expand state of a collapsed ancestor hides its expanded descendants', () => {
    expect(ids(loaded().rows({ expanded: new Set(['dev/grp']) }))).toEqual(['lap', 'dev']);
  });
});

describe('TreeModel: changes', () => {
  it('a new node appears once its edge arrives (shape change)', () => {
    const m = loaded();
    const v = m.version;
    // Its points may come first: not shown yet (no edge), but a shape change.
    expect(m.apply([nodeChange('in3', pt('description', 'Input 3', { time: 2_000_000_000n }))])).toBe(true);
    expect(m.version).toBe(v + 1);
    expect(ids(m.rows({ expanded: new Set(['root/dev']) }))).not.toContain('in3');
    expect(m.apply([edgeChange('in3', 'dev', pt('nodeType', 'signal', { time: 2_000_000_000n }))])).toBe(true);
    expect(line(m.rows({ expanded: new Set(['root/dev']) }))).toEqual(['lap', 'dev', '  grp', '  in1', '  in2', '  in3', '  in10']);
    // Its boundary is the device above it.
    expect(m.boundary('in3')).toBe('dev');
  });

  it('a description change is a shape change (sort order); a value change is not', () => {
    const m = loaded();
    expect(m.apply([nodeChange('in10', pt('value', 4, { time: 2_000_000_000n }))])).toBe(false);
    expect(m.point('in10', 'value')?.value).toBe(4);
    expect(m.apply([nodeChange('in10', pt('description', 'Input 0', { time: 2_000_000_000n }))])).toBe(true);
    expect(m.description('in10')).toBe('Input 0');
    const rows = m.rows({ expanded: new Set(['root/dev']) });
    expect(ids(rows)).toEqual(['lap', 'dev', 'grp', 'in10', 'in1', 'in2']);
    expect(rows.find((r) => r.id === 'in10')?.description).toBe('Input 0');
  });

  it('an event older than the snapshot does not overwrite it; a tie goes to the greater instance', () => {
    const m = loaded();
    const snapTime = 1_000_000_000n;
    m.apply([nodeChange('in1', pt('description', 'stale', { time: snapTime - 1n }))]);
    expect(m.description('in1')).toBe('Input 1');
    m.apply([nodeChange('in1', pt('description', 'tie, smaller instance', { time: snapTime, instance: 'a' }))]);
    expect(m.description('in1')).toBe('Input 1');
    m.apply([nodeChange('in1', pt('description', 'tie, greater instance', { time: snapTime, instance: 'z' }))]);
    expect(m.description('in1')).toBe('tie, greater instance');
    // Times are compared as ns integers, not as text ("9" > "10" as text).
    m.apply([nodeChange('in1', pt('description', 'newer', { time: 10_000_000_000n }))]);
    m.apply([nodeChange('in1', pt('description', 'older', { time: 9_000_000_000n }))]);
    expect(m.description('in1')).toBe('newer');
    // Edge points too.
    m.apply([edgeChange('in1', 'dev', pt('nodeType', 'old', { time: 1n }))]);
    expect(m.nodeType('in1', 'dev')).toBe('signal');
  });

  it('an edge tombstone hides the node unless showDeleted; a newer 0 restores it', () => {
    const m = loaded();
    expect(m.apply([edgeChange('grp', 'dev', pt('tombstone', 1, { time: 2_000_000_000n }))])).toBe(true);
    expect(m.isDeleted('grp', 'dev')).toBe(true);
    const open = new Set(['root/dev', 'dev/grp']);
    expect(ids(m.rows({ expanded: open }))).toEqual(['lap', 'dev', 'in1', 'in2', 'in10']);
    const shown = m.rows({ expanded: open, showDeleted: true });
    expect(ids(shown)).toEqual(['lap', 'dev', 'grp', 'p1', 'in1', 'in2', 'in10']);
    expect(shown.find((r) => r.id === 'grp')?.deleted).toBe(true);
    expect(shown.find((r) => r.id === 'p1')?.deleted).toBe(false);
    // A filter does not find deleted nodes either.
    expect(ids(m.rows({ expanded: new Set(), filter: 'pump' }))).toEqual([]);
    expect(ids(m.rows({ expanded: new Set(), filter: 'pump', showDeleted: true }))).toEqual(['dev', 'grp', 'p1']);
    m.apply([edgeChange('grp', 'dev', pt('tombstone', 0, { time: 3_000_000_000n }))]);
    expect(m.isDeleted('grp', 'dev')).toBe(false);
    expect(ids(m.rows({ expanded: open }))).toContain('p1');
  });

  it('a tombstone edge point under any key deletes the edge, as in the store', () => {
    const m = loaded();
    m.apply([edgeChange('grp', 'dev', pt('tombstone', 1, { key: 'x', time: 2_000_000_000n }))]);
    expect(m.isDeleted('grp', 'dev')).toBe(true);
  });

  it('a device whose only child is deleted has no children to expand', () => {
    const m = loaded();
    m.apply([edgeChange('p1', 'grp', pt('tombstone', 1, { time: 2_000_000_000n }))]);
    const grp = m.rows({ expanded: new Set(['root/dev']) }).find((r) => r.id === 'grp');
    expect(grp?.hasChildren).toBe(false);
  });

  it('a node with two parents appears under both, each with its own expand state', () => {
    const m = loaded();
    m.apply([edgeChange('p1', 'dev', pt('nodeType', 'modbus', { time: 2_000_000_000n }))]);
    const rows = m.rows({ expanded: new Set(['root/dev', 'dev/grp']) });
    expect(rows.filter((r) => r.id === 'p1').map((r) => r.parent).sort()).toEqual(['dev', 'grp']);
    expect(line(rows)).toEqual(['lap', 'dev', '  grp', '    p1', '  p1', '  in1', '  in2', '  in10']);
    // Deleting one edge leaves the other.
    m.apply([edgeChange('p1', 'grp', pt('tombstone', 1, { time: 3_000_000_000n }))]);
    const after = m.rows({ expanded: new Set(['root/dev', 'dev/grp']) });
    expect(after.filter((r) => r.id === 'p1').map((r) => r.parent)).toEqual(['dev']);
  });

  it('a moved node (new edge, old edge tombstoned) shows only under its new parent', () => {
    const m = loaded();
    m.apply([edgeChange('p1', 'dev', pt('nodeType', 'modbus', { time: 2_000_000_000n })), edgeChange('p1', 'grp', pt('tombstone', 1, { time: 2_000_000_000n }))]);
    const rows = m.rows({ expanded: new Set(['root/dev', 'dev/grp']) });
    expect(line(rows)).toEqual(['lap', 'dev', '  grp', '  p1', '  in1', '  in2', '  in10']);
    expect(rows.find((r) => r.id === 'grp')?.hasChildren).toBe(false);
  });

  it('a node whose parent is not held is shown at the top', () => {
    const m = loaded();
    m.apply([edgeChange('orphan', 'elsewhere', pt('nodeType', 'signal')), nodeChange('orphan', pt('description', 'Lost'))]);
    const rows = m.rows({ expanded: new Set() });
    expect(ids(rows)).toContain('orphan');
    expect(rows.find((r) => r.id === 'orphan')).toMatchObject({ parent: 'elsewhere', depth: 0, type: 'signal', description: 'Lost' });
  });

  it('an empty batch changes nothing', () => {
    const m = loaded();
    const v = m.version;
    expect(m.apply([])).toBe(false);
    expect(m.version).toBe(v);
  });
});

describe('TreeModel: boundary', () => {
  it('the nearest device or this instance root above a node, over live edges, cycles included', () => {
    const m = loaded();
    m.apply([edgeChange('sub', 'grp', pt('nodeType', 'device')), edgeChange('x', 'sub', pt('nodeType', 'signal'))]);
    expect(m.boundary('x')).toBe('sub');
    expect(m.boundary('sub')).toBe('sub');
    // Moved to this laptop: the deleted edge no longer counts.
    m.apply([edgeChange('p1', 'lap', pt('nodeType', 'modbus', { time: 2_000_000_000n })), edgeChange('p1', 'grp', pt('tombstone', 1, { time: 2_000_000_000n }))]);
    expect(m.boundary('p1')).toBe('lap');
    // A cycle with no device in it ends at this instance's root.
    m.apply([edgeChange('a', 'b', pt('nodeType', 'x')), edgeChange('b', 'a', pt('nodeType', 'x'))]);
    expect(m.boundary('a')).toBe('lap');
  });
});

describe('TreeModel: filter', () => {
  it('shows matches with their ancestors, whatever the expand state; case-insensitive', () => {
    const m = loaded();
    const rows = m.rows({ expanded: new Set(), filter: 'PUMP a' });
    expect(line(rows)).toEqual(['dev', '  grp', '    p1']);
    expect(rows.map((r) => r.match)).toEqual([false, false, true]);
    expect(rows.every((r) => r.expanded)).toBe(true);
  });

  it('matches by description, id and type; siblings that do not match are left out', () => {
    const m = loaded();
    expect(ids(m.rows({ expanded: new Set(), filter: 'input 1' }))).toEqual(['dev', 'in1', 'in10']);
    expect(ids(m.rows({ expanded: new Set(), filter: 'IN2' }))).toEqual(['dev', 'in2']);
    expect(ids(m.rows({ expanded: new Set(), filter: 'modb' }))).toEqual(['dev', 'grp', 'p1']);
    // "device" matches both roots by type; nothing below them matches, so
    // their children are left out.
    const devs = m.rows({ expanded: new Set(), filter: 'device' });
    expect(ids(devs)).toEqual(['lap', 'dev']);
    expect(devs.filter((r) => r.match).map((r) => r.id)).toEqual(['lap', 'dev']);
  });

  it('a filter that matches nothing shows nothing; surrounding spaces are ignored', () => {
    const m = loaded();
    expect(m.rows({ expanded: new Set(['root/dev']), filter: 'zzz' })).toEqual([]);
    expect(ids(m.rows({ expanded: new Set(), filter: '  pumps  ' }))).toEqual(['dev', 'grp']);
    // Only spaces: no filter.
    expect(ids(m.rows({ expanded: new Set(), filter: '   ' }))).toEqual(['lap', 'dev']);
  });

  it('nodeType keeps nodes of that type and their ancestors, and combines with the text', () => {
    const m = loaded();
    const rows = m.rows({ expanded: new Set(), nodeType: 'signal' });
    expect(ids(rows)).toEqual(['dev', 'in1', 'in2', 'in10']);
    expect(rows.find((r) => r.id === 'dev')?.match).toBe(false);
    expect(ids(m.rows({ expanded: new Set(), nodeType: 'signal', filter: '10' }))).toEqual(['dev', 'in10']);
    // The text alone would match the group; the type filter excludes it.
    expect(ids(m.rows({ expanded: new Set(), nodeType: 'signal', filter: 'pumps' }))).toEqual([]);
    expect(ids(m.rows({ expanded: new Set(), nodeType: 'modbus' }))).toEqual(['dev', 'grp', 'p1']);
  });
});

describe('TreeModel: cycles', () => {
  it('a cycle under a root is shown once per path and does not hang', () => {
    const m = loaded();
    // grp → p1 → grp (p1 claims grp as a child).
    m.apply([edgeChange('grp', 'p1', pt('nodeType', 'group'))]);
    const rows = m.rows({ expanded: all(m) });
    expect(line(rows)).toEqual(['lap', 'dev', '  grp', '    p1', '  in1', '  in2', '  in10']);
    // Filter mode walks everything: still terminates.
    expect(ids(m.rows({ expanded: new Set(), filter: 'pump a' }))).toEqual(['dev', 'grp', 'p1']);
    expect(ids(m.rows({ expanded: new Set(), filter: 'nothing' }))).toEqual([]);
  });

  it('a node that is its own parent, and a cycle not reachable from any root, do not hang', () => {
    const m = loaded();
    m.apply([edgeChange('in1', 'in1', pt('nodeType', 'signal')), edgeChange('a', 'b', pt('nodeType', 'x')), edgeChange('b', 'a', pt('nodeType', 'x'))]);
    const rows = m.rows({ expanded: all(m) });
    expect(rows.filter((r) => r.id === 'in1')).toHaveLength(1);
    expect(m.rows({ expanded: all(m), filter: 'x' }).length).toBeGreaterThanOrEqual(0);
  });
});

describe('TreeModel: 10,000 nodes', () => {
  function big(): TreeModel {
    // A device with 100 groups of 99 inputs, inserted in shuffled order.
    const nodes: UiNode[] = [node('dev', 'root', 'device', 'Device', { boundary: 'dev' })];
    const order: number[] = [];
    for (let g = 0; g < 100; g++) {
      nodes.push(node(`g${g}`, 'dev', 'group', `Group ${g}`));
      for (let i = 0; i < 99; i++) order.push(g * 1000 + i);
    }
    let seed = 7;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const k of order) {
      const g = Math.floor(k / 1000);
      const i = k % 1000;
      nodes.push(node(`n${g}-${i}`, `g${g}`, 'signal', `Input ${i}`, { points: [pt('value', i)] }));
    }
    const m = new TreeModel();
    m.load({ rootId: 'lap', nodes });
    return m;
  }

  it('rows() with everything expanded returns every node once, in order', () => {
    const m = big();
    expect(m.size).toBe(10_001);
    const rows = m.rows({ expanded: all(m) });
    expect(rows).toHaveLength(10_001);
    expect(new Set(rows.map((r) => `${r.parent}/${r.id}`)).size).toBe(10_001);
    expect(ids(rows.slice(0, 5))).toEqual(['dev', 'g0', 'n0-0', 'n0-1', 'n0-2']);
    // Numeric order within a group: Input 9 before Input 10.
    const g0 = rows.filter((r) => r.parent === 'g0').map((r) => r.description);
    expect(g0.slice(8, 12)).toEqual(['Input 8', 'Input 9', 'Input 10', 'Input 11']);
    expect(rows.filter((r) => r.parent === 'dev').map((r) => r.id).slice(0, 3)).toEqual(['g0', 'g1', 'g2']);
    expect(rows.at(-1)).toMatchObject({ id: 'n99-98', depth: 2 });
  });

  it('filtering 10,000 nodes', () => {
    const m = big();
    const rows = m.rows({ expanded: new Set(), filter: 'input 98' });
    // "Input 98" in each of 100 groups, with its group and the device.
    expect(rows).toHaveLength(1 + 100 * 2);
    expect(rows.filter((r) => r.match)).toHaveLength(100);
  });
});

describe('isTombstoneSet', () => {
  it('odd numbers delete; even, text and missing do not', () => {
    expect(isTombstoneSet(pt('tombstone', 1))).toBe(true);
    expect(isTombstoneSet(pt('tombstone', 3))).toBe(true);
    expect(isTombstoneSet(pt('tombstone', 0))).toBe(false);
    expect(isTombstoneSet(pt('tombstone', 2))).toBe(false);
    expect(isTombstoneSet(pt('tombstone', '1'))).toBe(false);
    expect(isTombstoneSet(undefined)).toBe(false);
  });
});
