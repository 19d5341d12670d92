import { afterEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { decodeNodesReply, decodePoints, encodePoints, floatPoint, pointFloat, type Point } from '../../../app/siot/index.ts';
import { StoreWriteError } from '../../../app/store/index.ts';
import { Instances } from '../../helpers/instance.ts';
import { rng } from '../../helpers/rng.ts';

const instances = new Instances();
afterEach(() => instances.dispose());


describe('store: crash safety', () => {
  it('keeps every acknowledged point when nats-server is killed -9 during 10,000 writes', async () => {
    const dataDir = instances.dir('kill');
    const a = await instances.start({ dataDir, instanceId: 'kill' });
    const n = await a.store.createNode('kill', 'variable');
    const acked = new Map<string, bigint>();
    let attempts = 0;
    let failures = 0;
    let killed = false;
    let next = 0;
    // 32 writers in parallel, each writing distinct keys until 10,000 are acked.
    const writer = async () => {
      while (acked.size < 10_000) {
        const key = String(next++);
        const p = floatPoint('value', Number(key), { key });
        attempts++;
        try {
          await a.store.writeNodePoints(n, [p]);
          acked.set(key, p.time);
        } catch (e) {
          expect(e).toBeInstanceOf(StoreWriteError);
          failures++;
          await new Promise((r) => setTimeout(r, 20));
        }
        if (!killed && acked.size >= 5_000) {
          killed = true;
          process.kill(a.server.pid as number, 'SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, writer));
    expect(killed).toBe(true);
    expect(a.server.status.restarts).toBeGreaterThanOrEqual(1);
    // Writes that ended without an answer are looked up again after the
    // reconnect, so the running store's cache matches what is stored.
    await a.store.reconcile();
    const cached = new Map(a.store.state.nodePoints(n).map((op) => [op.point.key, op.point.time]));
    await instances.stop(a);

    const b = await instances.start({ dataDir });
    let missing = 0;
    for (const [key, time] of acked) {
      const op = b.store.state.nodePoint(n, 'value', key);
      if (!op || op.point.time !== time) missing++;
    }
    expect(missing).toBe(0);
    expect(acked.size).toBeGreaterThanOrEqual(10_000);
    const reloaded = new Map(b.store.state.nodePoints(n).map((op) => [op.point.key, op.point.time]));
    expect(reloaded).toEqual(cached);
    // Unacknowledged writes may or may not have been stored; none is invented.
    expect(b.store.state.nodePoints(n).length).toBeLessThanOrEqual(attempts);
    expect(failures + acked.size).toBeLessThanOrEqual(attempts);
  });
});

describe('store: hostile input', () => {
  it('answers 10,000 random subjects and payloads with errors, stores nothing invalid, stays up', async () => {
    const a = await instances.start({ instanceId: 'fuzz' });
    const n = await a.store.createNode('fuzz', 'variable');
    const jsm = await jetstreamManager(a.nc);
    const before = (await jsm.streams.info('inst_fuzz_fuzz')).state.messages;
    const rand = rng(20261128);
    const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const token = () => {
      const chars = 'abcXYZ019-_~%$#@!';
      let s = '';
      const len = 1 + Math.floor(rand() * 12);
      for (let i = 0; i < len; i++) s += pick([...chars]);
      return s;
    };
    const subject = () => {
      const kind = pick(['p', 'ep', 'nodes']);
      const tokens = Math.floor(rand() * 6);
      const parts = [kind];
      for (let i = 0; i < tokens; i++) parts.push(rand() < 0.5 ? n : token());
      return parts.join('.');
    };
    const payload = () => {
      const len = Math.floor(rand() * 120);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
      // Sometimes a well-formed header with a lying count or truncated body.
      if (len >= 4 && rand() < 0.3) new DataView(b.buffer).setUint32(0, pick([1, 2, 10_001, 0xffffffff]), true);
      return b;
    };
    let errors = 0;
    let valid = 0;
    for (let batch = 0; batch < 20; batch++) {
      const reqs: Promise<void>[] = [];
      for (let i = 0; i < 500; i++) {
        const s = subject();
        const body = payload();
        let decodable = true;
        try {
          decodePoints(body);
        } catch {
          decodable = false;
        }
        reqs.push(
          a.nc.request(s, body, { timeout: 10_000 }).then(
            (m) => {
              const text = s.startsWith('nodes.') ? decodeNodesReply(m.data).error : m.string();
              if (text !== '') errors++;
              else if (decodable) valid++;
              else throw new Error(`no error for ${s} with undecodable body`);
            },
            (e: Error) => {
              // Subjects with too few tokens (e.g. "p") have no responder.
              if (!/no responders|503/i.test(e.message) || s.split('.').length > 2) throw e;
              errors++;
            },
          ),
        );
      }
      await Promise.all(reqs);
    }
    expect(errors + valid).toBe(10_000);
    expect(valid).toBe(0);
    const after = (await jsm.streams.info('inst_fuzz_fuzz')).state.messages;
    expect(after).toBe(before);
    // Still serving: a good write succeeds.
    const reply = await a.nc.request(`p.${n}.value.0`, encodePoints([floatPoint('value', 1)]));
    expect(reply.string()).toBe('');
    expect(pointFloat(a.store.state.nodePoint(n, 'value', '0')?.point as Point)).toBe(1);
  });

  it('rejects bad direct writes with clear errors', async () => {
    const a = await instances.start({ instanceId: 'bad' });
    await expect(a.store.writeNodePoints('a.b', [floatPoint('v', 1)])).rejects.toThrow(/node id "a\.b"/);
    await expect(a.store.writeNodePoints('n', [floatPoint('v>', 1)])).rejects.toThrow(/point type "v>"/);
    await expect(a.store.writeNodePoints('n', [])).rejects.toThrow(/no points/);
    await expect(a.store.deleteNode('nope', 'bad')).rejects.toThrow(/no edge/);
  });
});

describe('store: disk budget', () => {
  it('halves the longest history, not the average one', async () => {
    const budget = 2 * 1024 * 1024;
    const a = await instances.start({ instanceId: 'skew', diskBudgetBytes: budget });
    const n = await a.store.createNode('skew', 'variable');
    // 400 one-message configuration subjects and one long telemetry subject.
    await Promise.all(Array.from({ length: 400 }, (_, i) => a.store.writeNodePoints(n, [floatPoint('config', i, { key: String(i) })])));
    const blob = new TextEncoder().encode('y'.repeat(400));
    for (let i = 0; i < 4_400; i += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, j) => a.store.writeNodePoints(n, [{ ...floatPoint('value', i + j), data: blob }]).catch(() => undefined)));
    }
    const { thinned } = await a.store.enforceBudget();
    expect(thinned.length).toBeGreaterThan(0);
    const kept = (await a.store.history({ nodeId: n, type: 'value' })).points.length;
    // Just enough history goes to get under 75 %: well over a tenth stays.
    expect(kept).toBeGreaterThan(400);
    for (let k = 0; k < 400; k += 57) expect(a.store.state.nodePoint(n, 'config', String(k))).toBeDefined();
  });

  it('thins history under the budget, keeps every subject tip, and keeps accepting writes', async () => {
    const budget = 4 * 1024 * 1024;
    const a = await instances.start({ instanceId: 'disk', diskBudgetBytes: budget });
    const n = await a.store.createNode('disk', 'variable', [floatPoint('config', 7)]);
    const blob = 'x'.repeat(900);
    let written = 0;
    for (let round = 0; round < 12; round++) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 500; i++) {
        batch.push(
          a.store.writeNodePoints(n, [{ ...floatPoint('value', written + i, { key: String(i % 20) }), data: new TextEncoder().encode(blob) }]).then(
            () => void written++,
            // A write may be refused while thinning catches up; it must say why.
            (e: Error) => expect(e.message).toMatch(/disk budget is used up/),
          ),
        );
      }
      await Promise.all(batch);
      await a.store.enforceBudget();
    }
    const { usage } = await a.store.enforceBudget();
    expect(usage).toBeLessThanOrEqual(budget);
    expect(written).toBeGreaterThan(5_000);
    const [stats] = await a.store.streamStats();
    expect(stats?.maxMsgsPerSubject).toBeLessThan(20_000);
    // Rarely written configuration survived the thinning.
    expect(pointFloat(a.store.state.nodePoint(n, 'config', '0')?.point as Point)).toBe(7);
    expect((await a.store.history({ nodeId: n, type: 'config' })).points.length).toBe(1);
    for (let k = 0; k < 20; k++) expect((await a.store.history({ nodeId: n, type: 'value', key: String(k) })).points.length).toBeGreaterThan(0);
  });
});
