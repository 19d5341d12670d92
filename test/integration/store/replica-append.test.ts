import { afterEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { encodePoints, floatPoint, pointFloat, type Point } from '../../../app/siot/index.ts';
import { Instances } from '../../helpers/instance.ts';

const instances = new Instances();
afterEach(() => instances.dispose());

// Messages of device `dev`'s own stream, as a replicator appends them to the
// laptop's copy: origin sequence k carries value k under key k.
const subject = (k: number) => `inst.dev.dev.dev.p.value.${k}`;
const data = (k: number) => encodePoints([floatPoint('value', k, { key: String(k), time: BigInt(k) * 1_000n })]);
const held = (i: { store: { state: { nodePoint(n: string, t: string, k: string): { point: unknown } | undefined } } }, k: number) => {
  const p = i.store.state.nodePoint('dev', 'value', String(k))?.point;
  return p === undefined ? undefined : pointFloat(p as Point);
};

describe('store: replicated appends settled in runs', () => {
  it('merges unconfirmed appends only once the acknowledged one after them is stored, and a broken chain only as far as the stream holds it', async () => {
    const lap = await instances.start({ instanceId: 'lap', sync: false });
    const ref = await lap.store.ensureReplicaStream('dev', 'dev');
    const jsm = await jetstreamManager(lap.nc);

    // Origin 1..10 without acknowledgement: stored, but not merged yet.
    for (let k = 1; k <= 10; k++) lap.store.appendReplicatedUnconfirmed(ref, subject(k), data(k), k, k - 1);
    await lap.nc.flush();
    await expect.poll(() => jsm.streams.info(ref.name).then((i) => i.state.last_seq)).toBe(10);
    expect(held(lap, 1)).toBeUndefined();
    expect(lap.store.lastOriginSeq(ref.name)).toBe(0);
    // Origin 11, acknowledged at 11: all eleven are merged, in order.
    const ack = await lap.store.appendReplicated(ref, subject(11), data(11), 11, 10);
    expect(ack.seq).toBe(11);
    expect(Array.from({ length: 11 }, (_, i) => held(lap, i + 1))).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(lap.store.lastOriginSeq(ref.name)).toBe(11);

    // A broken chain: 12..14 fit; then one append never arrives (the one
    // that would have been stored at 15), so 16 (expecting 15) is refused,
    // silently: nobody asked for its answer. 17 and the acknowledged 18 are
    // refused too, and that refusal names where the stream ends.
    for (let k = 12; k <= 14; k++) lap.store.appendReplicatedUnconfirmed(ref, subject(k), data(k), k, k - 1);
    for (let k = 16; k <= 17; k++) lap.store.appendReplicatedUnconfirmed(ref, subject(k), data(k), k, k - 1);
    await expect(lap.store.appendReplicated(ref, subject(18), data(18), 18, 17)).rejects.toThrow(/wrong last sequence: 14/);
    expect([12, 13, 14].map((k) => held(lap, k))).toEqual([12, 13, 14]);
    expect([15, 16, 17, 18].map((k) => held(lap, k))).toEqual([undefined, undefined, undefined, undefined]);
    expect(lap.store.lastOriginSeq(ref.name)).toBe(14);
    expect((await jsm.streams.info(ref.name)).state.last_seq).toBe(14);

    // The next run starts where the stream ends, as a new round would.
    lap.store.appendReplicatedUnconfirmed(ref, subject(15), data(15), 15, 14);
    await lap.store.appendReplicated(ref, subject(16), data(16), 16, 15);
    expect([15, 16].map((k) => held(lap, k))).toEqual([15, 16]);
  });
});
