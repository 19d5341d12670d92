import { describe, expect, it } from 'vitest';
import { leafApiRefusal, leafApiStream } from '../../../app/instance/leaf-api.ts';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('leaf API: what a limited device may call', () => {
  it('names the stream each read reads, and offers nothing else', () => {
    expect(leafApiStream('INFO')).toBeNull();
    expect(leafApiStream('STREAM.INFO.inst_a_hub')).toBe('inst_a_hub');
    expect(leafApiStream('STREAM.MSG.GET.inst_a_hub')).toBe('inst_a_hub');
    expect(leafApiStream('DIRECT.GET.inst_a_hub.inst.a.hub.>')).toBe('inst_a_hub');
    expect(leafApiStream('CONSUMER.CREATE.inst_a_hub.c1.inst.a.hub.>')).toBe('inst_a_hub');
    expect(leafApiStream('CONSUMER.DELETE.inst_a_hub.c1')).toBe('inst_a_hub');
    for (const p of ['STREAM.CREATE.x', 'STREAM.DELETE.inst_a_hub', 'STREAM.PURGE.inst_a_hub', 'STREAM.LIST', 'STREAM.NAMES', 'STREAM.MSG.DELETE.inst_a_hub', 'CONSUMER.LIST.inst_a_hub', 'ACCOUNT.PURGE.x', 'META.LEADER.STEPDOWN', 'STREAM.INFO.a.b']) {
      expect(leafApiStream(p)).toBeUndefined();
    }
  });

  it('refuses other streams and push consumers', () => {
    const mine = new Set(['inst_a_hub']);
    expect(leafApiRefusal('STREAM.INFO.inst_a_hub', new Uint8Array(), mine)).toBeUndefined();
    expect(leafApiRefusal('STREAM.INFO.inst_b_hub', new Uint8Array(), mine)).toMatch(/not readable/);
    expect(leafApiRefusal('STREAM.PURGE.inst_a_hub', new Uint8Array(), mine)).toMatch(/not offered/);
    expect(leafApiRefusal('CONSUMER.CREATE.inst_a_hub.c1', enc({ stream_name: 'inst_a_hub', config: { ack_policy: 'none' } }), mine)).toBeUndefined();
    expect(leafApiRefusal('CONSUMER.CREATE.inst_a_hub.c1', enc({ config: { deliver_subject: 'inst.hub.hub.x' } }), mine)).toMatch(/pull consumers/);
    expect(leafApiRefusal('CONSUMER.CREATE.inst_a_hub.c1', new TextEncoder().encode('{'), mine)).toMatch(/unreadable/);
  });

  it('lets a trusted peer read every stream, still read-only and with pull consumers only', () => {
    expect(leafApiRefusal('STREAM.INFO.inst_b_hub', new Uint8Array(), 'all')).toBeUndefined();
    expect(leafApiRefusal('CONSUMER.CREATE.inst_hub_hub.c1', enc({ config: { ack_policy: 'none' } }), 'all')).toBeUndefined();
    expect(leafApiRefusal('CONSUMER.CREATE.inst_hub_hub.c1', enc({ config: { deliver_subject: 'inst.hub.hub.x' } }), 'all')).toMatch(/pull consumers/);
    for (const p of ['STREAM.PURGE.inst_hub_hub', 'STREAM.DELETE.inst_hub_hub', 'STREAM.CREATE.x', 'STREAM.MSG.DELETE.inst_hub_hub', 'ACCOUNT.PURGE.x']) {
      expect(leafApiRefusal(p, new Uint8Array(), 'all')).toMatch(/not offered/);
    }
  });
});
