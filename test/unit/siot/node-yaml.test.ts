import { describe, expect, it } from 'vitest';
import { DataType, floatPoint, intPoint, parseNodeFile, pointFloat, pointIntNumber, pointString, stringPoint, stringifyNodeFile, type NodeYaml, type Point } from '../../../app/siot/index.ts';

function find(points: Point[], type: string, key = '0'): Point {
  const p = points.find((x) => x.type === type && x.key === key);
  if (!p) throw new Error(`no ${type}:${key} in ${points.map((x) => `${x.type}:${x.key}`).join(', ')}`);
  return p;
}

describe('SIOT node file', () => {
  it('types values by how they are written, like siot import', () => {
    const f = parseNodeFile(`
nodes:
  - modbus:
      description: Modbus sensors
      port: "9600"
      baud: 9600
      scale: 0.5
      debug: true
      off: false
      blank:
`);
    const n = f.nodes[0] as NodeYaml;
    expect(n.type).toBe('modbus');
    expect(pointString(find(n.points, 'description'))).toBe('Modbus sensors');
    expect(find(n.points, 'port').dataType).toBe(DataType.String);
    expect(pointString(find(n.points, 'port'))).toBe('9600');
    expect(find(n.points, 'baud').dataType).toBe(DataType.Int);
    expect(pointIntNumber(find(n.points, 'baud'))).toBe(9600);
    expect(find(n.points, 'scale').dataType).toBe(DataType.Float);
    expect(pointFloat(find(n.points, 'debug'))).toBe(1);
    expect(pointFloat(find(n.points, 'off'))).toBe(0);
    expect(find(n.points, 'blank').data.length).toBe(0);
  });

  it('reads keyed and indexed points, children, parent and edge points', () => {
    const f = parseNodeFile(`
apiVersion: 1
nodes:
  - group:
      description: Sensors
      metric: { cpu0: 1400, cpu1: 1600 }
      tag: [alpha, beta]
      children:
        - modbusIO:
            description: Tank level
            edgePoints:
              role: admin
  - variable:
      parent: Sensors
`);
    const g = f.nodes[0] as NodeYaml;
    expect(pointIntNumber(find(g.points, 'metric', 'cpu1'))).toBe(1600);
    expect(pointString(find(g.points, 'tag', '1'))).toBe('beta');
    expect(g.children[0]?.type).toBe('modbusIO');
    expect(pointString(find(g.children[0]?.edgePoints ?? [], 'role'))).toBe('admin');
    expect(f.nodes[1]?.parent).toBe('Sensors');
  });

  it('round-trips a tree byte for byte, sorted by type, without origins or deleted points', () => {
    const nodes: NodeYaml[] = [
      {
        type: 'group',
        points: [stringPoint('description', 'Sensors', { origin: 'some-client' })],
        edgePoints: [],
        children: [
          {
            type: 'modbus',
            points: [
              stringPoint('port', '502'),
              floatPoint('baud', 9600),
              floatPoint('scale', 0.125),
              floatPoint('metric', 1400, { key: 'cpu0' }),
              floatPoint('metric', 1600, { key: 'cpu1' }),
              stringPoint('tag', 'alpha', { key: '0' }),
              stringPoint('tag', 'beta', { key: '1' }),
              intPoint('count', 3),
              stringPoint('gone', 'x', { tombstone: 1 }),
            ],
            edgePoints: [stringPoint('role', 'admin')],
            children: [],
          },
        ],
      },
    ];
    const text = stringifyNodeFile(nodes);
    expect(text).toContain('apiVersion: 1');
    expect(text).toContain('- group:');
    expect(text).toContain('port: "502"');
    expect(text).toContain('baud: 9600');
    expect(text).not.toContain('some-client');
    expect(text).not.toContain('gone');
    expect(text.indexOf('baud:')).toBeLessThan(text.indexOf('port:'));
    const back = parseNodeFile(text);
    expect(stringifyNodeFile(back.nodes)).toBe(text);
    const m = back.nodes[0]?.children[0] as NodeYaml;
    expect(pointFloat(find(m.points, 'scale'))).toBe(0.125);
    expect(pointString(find(m.points, 'tag', '0'))).toBe('alpha');
  });

  it('refuses the old format and other mistakes with the place named', () => {
    expect(() => parseNodeFile('nodes:\n  - id: x\n    type: device\n')).toThrow(/old export format/);
    expect(() => parseNodeFile('nodes:\n  - a: {x: 1}\n    b: {y: 2}\n')).toThrow(/nodes\[0\].*single key/);
    expect(() => parseNodeFile('apiVersion: 2\nnodes: []\n')).toThrow(/version 2 is not supported/);
    expect(() => parseNodeFile('nodes: [\n')).toThrow(/YAML/);
    expect(() => parseNodeFile('nodes:\n  - group:\n      children: 3\n')).toThrow(/children: must be a list/);
  });
});
