import { afterEach, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  decodeNodesReply,
  decodePoints,
  encodePoints,
  floatPoint,
  instEdgeSubject,
  instPointSubject,
  instStreamName,
  instStreamSubjects,
  pointFloat,
  pointString,
  stringPoint,
  type Point,
} from '../../../app/siot/index.ts';
import { Instances } from '../../helpers/instance.ts';

const instances = new Instances();
afterEach(() => instances.dispose());

/** Stores points as another origin's replica would hold them, on this server. */
async function storeAsOrigin(nc: Parameters<typeof jetstream>[0], boundary: string, origin: string, subjectPoints: Array<[string, Point[]]>) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: instStreamName(boundary, origin), subjects: [instStreamSubjects(boundary, origin)], max_msgs_per_subject: 20_000 });
  const js = jetstream(nc);
  for (const [subject, points] of subjectPoints) await js.publish(subject, encodePoints(points));
}

describe('store: writes, merged state, restart', () => {
  it('creates the instance root node once, as a device under root', async () => {
    const dataDir = instances.dir('root');
    const a = await instances.start({ dataDir, instanceId: 'lapA', description: 'Laptop A' });
    const [root] = a.store.nodes({ parentId: 'root', nodeId: 'lapA' });
    expect(root?.type).toBe('device');
    expect(root?.points.map((p) => [p.type, pointString(p)])).toEqual([['description', 'Laptop A']]);
    await instances.stop(a);
    const again = await instances.start({ dataDir });
    expect(again.id).toBe('lapA');
    expect((await again.store.streamStats())[0]?.messages).toBe(2);
  });

  it('merges node points across two origin streams by time, then by origin instance', async () => {
    const dataDir = instances.dir('merge');
    const a = await instances.start({ dataDir, instanceId: 'aaa' });
    const n = await a.store.createNode('aaa', 'variable');
    await a.store.writeNodePoints(n, [
      floatPoint('value', 1, { time: 1000n }),
      floatPoint('setpoint', 10, { time: 5000n }),
      floatPoint('tie', 1, { time: 7000n }),
      floatPoint('mine', 3, { time: 1n }),
    ]);
    // Another origin's replica (as sync would store it): newer value, older
    // setpoint, an equal-time tie that the greater instance id "zzz" wins.
    await storeAsOrigin(a.nc, 'aaa', 'zzz', [
      [instPointSubject('aaa', 'zzz', n, 'value', '0'), [floatPoint('value', 2, { time: 2000n })]],
      [instPointSubject('aaa', 'zzz', n, 'setpoint', '0'), [floatPoint('setpoint', 20, { time: 4000n })]],
      [instPointSubject('aaa', 'zzz', n, 'tie', '0'), [floatPoint('tie', 2, { time: 7000n })]],
      [instPointSubject('aaa', 'zzz', n, 'theirs', '0'), [floatPoint('theirs', 4, { time: 1n })]],
    ]);
    await instances.stop(a);
    const b = await instances.start({ dataDir });
    const got = Object.fromEntries(b.store.nodePoints(n).map((op) => [op.point.type, [pointFloat(op.point), op.instance]]));
    expect(got).toEqual({ value: [2, 'zzz'], setpoint: [10, 'aaa'], tie: [2, 'zzz'], mine: [3, 'aaa'], theirs: [4, 'zzz'] });
    // Both streams are present; the local one is still only ours.
    expect(b.store.streamRefs().map((r) => r.name).sort()).toEqual(['inst_aaa_aaa', 'inst_aaa_zzz']);
  });

  it('merges edge points per point across origins (delete on one side, rename on the other)', async () => {
    const dataDir = instances.dir('edges');
    const a = await instances.start({ dataDir, instanceId: 'e1' });
    const n = await a.store.createNode('e1', 'variable');
    await storeAsOrigin(a.nc, 'e1', 'e2', [[instEdgeSubject('e1', 'e2', 'e1', n), [floatPoint('tombstone', 1)]]]);
    await instances.stop(a);
    const b = await instances.start({ dataDir });
    expect(b.store.nodes({ parentId: 'e1', nodeId: 'all' })).toEqual([]);
    const withDeleted = b.store.nodes({ parentId: 'e1', nodeId: 'all', includeDeleted: true });
    expect(withDeleted.map((v) => [v.id, v.type])).toEqual([[n, 'variable']]);
  });

  it('keeps state identical across a restart of server and store', async () => {
    const dataDir = instances.dir('restart');
    const a = await instances.start({ dataDir, instanceId: 'rst' });
    const dev = await a.store.createNode('rst', 'device', [stringPoint('description', 'Pump controller')]);
    const kids: string[] = [];
    for (let i = 0; i < 20; i++) {
      kids.push(await a.store.createNode(dev, 'modbusIO', [floatPoint('value', i), stringPoint('description', `io ${i}`)]));
    }
    for (let i = 0; i < 200; i++) await a.store.writeNodePoints(kids[i % 20] as string, [floatPoint('value', i * 1.5)]);
    await a.store.moveNode(kids[3] as string, dev, 'rst');
    await a.store.deleteNode(kids[4] as string, dev);
    await a.store.addParent(kids[5] as string, 'rst');
    const snapshot = (s: typeof a.store) => s.state.nodeIds().map((id) => ({
      id,
      points: s.nodePoints(id).sort((x, y) => (x.point.type < y.point.type ? -1 : 1)),
      parents: s.state.parentsOf(id, true).map((p) => ({ p, edge: s.state.edgePoints(id, p) })),
    }));
    const before = snapshot(a.store);
    const streamsBefore = a.store.streamRefs().map((r) => r.name).sort();
    await instances.stop(a);
    const b = await instances.start({ dataDir });
    expect(snapshot(b.store)).toEqual(before);
    expect(b.store.streamRefs().map((r) => r.name).sort()).toEqual(streamsBefore);
    // The device is its own boundary; its children's points live in its streams.
    expect(streamsBefore).toEqual([`inst_${dev}_rst`, 'inst_rst_rst'].sort());
    expect(b.store.nodes({ parentId: dev, nodeId: 'all' }).length).toBe(18);
    expect(b.store.nodes({ parentId: 'all', nodeId: kids[5] as string }).map((v) => v.parent).sort()).toEqual([dev, 'rst'].sort());
  });
});

describe('store: SIOT core NATS API', () => {
  it('acks p.* writes with an empty reply and fans out on up.* for every ancestor', async () => {
    const a = await instances.start({ instanceId: 'api1' });
    const dev = await a.store.createNode('api1', 'device');
    const io = await a.store.createNode(dev, 'modbusIO');
    const seen: string[] = [];
    const sub = a.nc.subscribe('up.>', { callback: (_e, m) => void seen.push(m.subject) });
    const reply = await a.nc.request(`p.${io}.value.0`, encodePoints([floatPoint('value', 42)]));
    expect(reply.string()).toBe('');
    expect(pointFloat(a.store.state.nodePoint(io, 'value', '0')?.point as Point)).toBe(42);
    await a.nc.flush();
    sub.unsubscribe();
    expect(seen.sort()).toEqual([`up.${io}.${io}.value.0`, `up.${dev}.${io}.value.0`, `up.api1.${io}.value.0`, `up.root.${io}.value.0`].sort());
  });

  it('tells former parents when a node is deleted or moved, and survives a throwing listener', async () => {
    const a = await instances.start({ instanceId: 'api4' });
    const dev = await a.store.createNode('api4', 'device');
    const io = await a.store.createNode(dev, 'modbusIO');
    const heard: string[] = [];
    const sub = a.nc.subscribe(`up.${dev}.>`, { callback: (_e, m) => void heard.push(m.subject) });
    await a.nc.flush();
    await a.store.deleteNode(io, dev);
    await a.nc.flush();
    sub.unsubscribe();
    expect(heard).toContain(`up.${dev}.${io}.${dev}.tombstone.0`);

    a.store.onPoint(() => {
      throw new Error('listener bug');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    await a.store.writeNodePoints(io, [floatPoint('a', 1), floatPoint('b', 2)]);
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(a.store.state.nodePoint(io, 'a', '0')).toBeDefined();
    expect(a.store.state.nodePoint(io, 'b', '0')).toBeDefined();
    expect(warnings.join()).toMatch(/listener threw: listener bug/);
  });

  it('takes type and key from the subject and rejects a body that contradicts it', async () => {
    const a = await instances.start({ instanceId: 'api2' });
    const n = await a.store.createNode('api2', 'variable');
    expect((await a.nc.request(`p.${n}.value.3`, encodePoints([floatPoint('', 1)]))).string()).toBe('');
    expect(a.store.state.nodePoint(n, 'value', '3')).toBeDefined();
    const bad = (await a.nc.request(`p.${n}.value.0`, encodePoints([floatPoint('other', 1)]))).string();
    expect(bad).toMatch(/point type "other" in the body does not match "value"/);
  });

  it('writes edges over ep.* and answers nodes.* with SIOT protobuf', async () => {
    const a = await instances.start({ instanceId: 'api3' });
    const id = 'node-from-a-siot-client';
    expect((await a.nc.request(`ep.${id}.api3`, encodePoints([stringPoint('nodeType', 'variable'), floatPoint('tombstone', 0)]))).string()).toBe('');
    expect((await a.nc.request(`p.${id}.description.0`, encodePoints([stringPoint('description', 'tank level')]))).string()).toBe('');
    const children = decodeNodesReply((await a.nc.request('nodes.api3.all', new Uint8Array())).data);
    expect(children.error).toBe('');
    expect(children.nodes.map((v) => [v.id, v.type, v.parent])).toEqual([[id, 'variable', 'api3']]);
    expect(children.nodes[0]?.points.map((p) => pointString(p))).toEqual(['tank level']);
    const filtered = decodeNodesReply((await a.nc.request('nodes.api3.all', encodePoints([stringPoint('nodeType', 'device')]))).data);
    expect(filtered.nodes).toEqual([]);
    const missing = decodeNodesReply((await a.nc.request('nodes.api3.nope', new Uint8Array())).data);
    expect(missing.error).toMatch(/node nope not found under parent api3/);
    const root = decodeNodesReply((await a.nc.request('nodes.root.api3', new Uint8Array())).data);
    expect(root.nodes[0]?.type).toBe('device');
  });
});

describe('store: history', () => {
  it('queries by node, type, key and time range, newest kept under a limit, reading only matching subjects', async () => {
    const a = await instances.start({ instanceId: 'hist' });
    const n = await a.store.createNode('hist', 'variable');
    const other = await a.store.createNode('hist', 'variable');
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      writes.push(a.store.writeNodePoints(n, [floatPoint('value', i, { time: BigInt(1_000 + i) })]));
      writes.push(a.store.writeNodePoints(n, [floatPoint('temp', -i, { time: BigInt(1_000 + i) })]));
      writes.push(a.store.writeNodePoints(other, [floatPoint('value', i, { time: BigInt(1_000 + i) })]));
    }
    await Promise.all(writes);
    // A late-arriving old sample must be found by its own time.
    await a.store.writeNodePoints(n, [floatPoint('value', -1, { time: 500n })]);
    const all = await a.store.history({ nodeId: n, type: 'value' });
    expect(all.points.length).toBe(501);
    expect(all.scanned).toBe(501);
    expect(all.points[0]?.point.time).toBe(500n);
    const range = await a.store.history({ nodeId: n, type: 'value', key: '0', start: 1_100n, end: 1_200n });
    expect(range.points.map((h) => pointFloat(h.point))).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    // Each point says where it is stored; one subject's sequence numbers rise with write order.
    const seqs = range.points.map((h) => h.seq);
    expect(seqs.every((s, i) => s > 0 && (i === 0 || s > (seqs[i - 1] as number)))).toBe(true);
    const limited = await a.store.history({ nodeId: n, type: 'value', limit: 10 });
    expect(limited.truncated).toBe(true);
    expect(limited.points.map((h) => pointFloat(h.point))).toEqual([490, 491, 492, 493, 494, 495, 496, 497, 498, 499]);
    const both = await a.store.history({ nodeId: n });
    expect(both.points.length).toBe(1001);
    expect(both.scanned).toBe(1001);
  });

  it('keeps at most MaxMsgsPerSubject per subject and never loses a subject tip', async () => {
    const a = await instances.start({ instanceId: 'ret', maxMsgsPerSubject: 50 });
    const n = await a.store.createNode('ret', 'variable', [stringPoint('description', 'rarely written config')]);
    for (let i = 0; i < 200; i++) await a.store.writeNodePoints(n, [floatPoint('value', i)]);
    const h = await a.store.history({ nodeId: n, type: 'value' });
    expect(h.points.length).toBe(50);
    expect(pointFloat(h.points[49]?.point as Point)).toBe(199);
    expect((await a.store.history({ nodeId: n, type: 'description' })).points.length).toBe(1);
    await a.store.setRetention('inst_ret_ret', 5);
    expect((await a.store.history({ nodeId: n, type: 'value' })).points.length).toBe(5);
    await expect(a.store.setRetention('inst_ret_ret', 0)).rejects.toThrow(/>= 1/);
  });
});

describe('store: stored payloads are SIOT binary points', () => {
  it('stores one point per message on inst.<b>.<o>.<node>.p.<type>.<key>', async () => {
    const a = await instances.start({ instanceId: 'wire' });
    const n = await a.store.createNode('wire', 'variable');
    await a.store.writeNodePoints(n, [floatPoint('value', 7.25, { key: 'x', time: 123n, origin: 'client-1' })]);
    const jsm = await jetstreamManager(a.nc);
    const m = await jsm.streams.getMessage('inst_wire_wire', { last_by_subj: `inst.wire.wire.${n}.p.value.x` });
    const [p] = decodePoints(m?.data as Uint8Array);
    expect(p).toMatchObject({ type: 'value', key: 'x', time: 123n, origin: 'client-1', tombstone: 0 });
    expect(pointFloat(p as Point)).toBe(7.25);
  });
});
