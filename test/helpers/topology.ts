import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Instance } from '../../app/instance/index.ts';
import { ORIGIN_SEQ_HEADER } from '../../app/store/index.ts';
import type { SyncOptions } from '../../app/sync/index.ts';
import { Instances } from './instance.ts';
import { LinkProxy } from './proxy.ts';

/** Fast timings so tests notice links coming and going quickly. */
export const FAST_SYNC: SyncOptions = { helloIntervalMs: 2_000, scanIntervalMs: 2_000, heartbeatMs: 1_000, pullExpiresMs: 5_000 };

/**
 * Real instances wired by leaf links through proxies a test can cut:
 * `link(a, b)` makes `a` dial `b`'s leaf listener through a new proxy.
 */
export class Topology {
  readonly instances = new Instances();
  readonly proxies: LinkProxy[] = [];

  async start(id: string, role: 'device' | 'laptop' | 'hub', links: Array<{ to: Instance; proxy: LinkProxy }> = [], dataDir?: string): Promise<Instance> {
    return this.instances.start({
      instanceId: id,
      ...(dataDir ? { dataDir } : {}),
      leafPort: -1,
      peers: links.map((l) => ({ url: l.proxy.url, credentials: l.to.credentials.leaf })),
      sync: { ...FAST_SYNC, role, want: role === 'device' ? 'own' : 'all' },
    });
  }

  /** A proxy to `to`'s leaf listener, for a dialling instance to use. */
  async proxyTo(to: Instance): Promise<LinkProxy> {
    const p = new LinkProxy();
    await p.start();
    p.target(to.server.ports.leaf as number);
    this.proxies.push(p);
    return p;
  }

  async dispose(): Promise<void> {
    await this.instances.dispose();
    for (const p of this.proxies.splice(0)) await p.close();
  }
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await cond()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Every message of a local stream as (origin seq, subject, payload hex), in stream order. */
export async function streamLog(inst: Instance, stream: string): Promise<Array<{ originSeq: number; subject: string; data: string }>> {
  const jsm = await jetstreamManager(inst.nc);
  const info = await jsm.streams.info(stream).catch(() => null);
  if (!info || info.state.messages === 0) return [];
  const consumer = await jetstream(inst.nc).consumers.get(stream);
  const out: Array<{ originSeq: number; subject: string; data: string }> = [];
  const iter = await consumer.consume({ max_messages: 5_000 });
  for await (const m of iter) {
    const h = m.headers?.get(ORIGIN_SEQ_HEADER);
    out.push({ originSeq: h ? Number(h) : m.seq, subject: m.subject, data: Buffer.from(m.data).toString('hex') });
    if (m.info.pending === 0) break;
  }
  await consumer.delete().catch(() => undefined);
  return out;
}
