import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TapRow } from './types.ts';

/**
 * A transparent TCP relay in front of the device's leaf listener that reads
 * the (uncompressed) leaf protocol going through it and counts bytes by kind
 * and phase. Nothing it forwards is changed or delayed beyond a loopback hop.
 */
export class LeafTap {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly replyKind = new Map<string, string>();
  readonly rows = new Map<string, TapRow>();
  phase = 'setup';
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      const pending: Record<'up' | 'down', Buffer> = { up: Buffer.alloc(0), down: Buffer.alloc(0) };
      const feed = (dir: 'up' | 'down', d: Buffer) => {
        pending[dir] = this.parse(dir, pending[dir].length ? Buffer.concat([pending[dir], d]) : d);
      };
      client.on('data', (d: Buffer) => {
        feed('down', d);
        if (!upstream.write(d)) client.pause();
      });
      upstream.on('data', (d: Buffer) => {
        feed('up', d);
        if (!client.write(d)) upstream.pause();
      });
      upstream.on('drain', () => client.resume());
      client.on('drain', () => upstream.resume());
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    this.server = server;
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }

  /** Consumes whole protocol units from `b`; returns the rest. */
  private parse(dir: 'up' | 'down', b: Buffer): Buffer {
    for (;;) {
      const nl = b.indexOf('\r\n');
      if (nl < 0) break;
      const line = b.subarray(0, nl).toString('latin1');
      const t = line.split(' ');
      const op = (t[0] ?? '').toUpperCase();
      // Leaf connections carry LMSG, and HMSG when the message has headers.
      const isMsg = op === 'LMSG' || op === 'HMSG' || op === 'HLMSG';
      const size = isMsg ? Number(t[t.length - 1]) : 0;
      const total = nl + 2 + (isMsg ? size + 2 : 0);
      if (b.length < total) break;
      let kind = op || '(empty line)';
      if (isMsg) {
        const subject = t[1] ?? '';
        const args = t.slice(2, t.length - (op === 'LMSG' ? 1 : 2));
        const reply = args[0] === '+' || args[0] === '|' ? undefined : args[0];
        kind = this.kind(subject, reply);
      } else if (op === 'LS+' || op === 'LS-') {
        kind = `${op} (interest)`;
      }
      const key = `${this.phase}|${dir}|${kind}`;
      const row = this.rows.get(key) ?? { phase: this.phase, direction: dir, kind, count: 0, bytes: 0, sample: '' };
      row.count++;
      row.bytes += total;
      if (!row.sample) row.sample = isMsg ? `${line.slice(0, 400)} (+${size} B body)` : line.slice(0, 200);
      this.rows.set(key, row);
      b = b.subarray(total);
    }
    return Buffer.from(b);
  }

  private kind(subject: string, reply: string | undefined): string {
    if (reply?.startsWith('$JS.ACK.')) return 'JetStream delivery (one point)';
    const api = /^\$JS\.[^.]+\.API\.(.*)$/.exec(subject);
    if (api) {
      const p = (api[1] ?? '').split('.');
      let what = p.slice(0, 2).join('.');
      if (p[0] === 'CONSUMER' && p[1] === 'MSG') what = 'CONSUMER.MSG.NEXT (pull request)';
      else if (p[0] === 'STREAM' && p[1] === 'MSG') what = 'STREAM.MSG.GET';
      else if (p[0] === 'DIRECT') what = 'DIRECT.GET';
      else if (p[0] === 'CONSUMER' && (p[1] === 'CREATE' || p[1] === 'DURABLE')) what = 'CONSUMER.CREATE';
      else if (p[0] === 'INFO') what = 'INFO (account)';
      if (reply) this.remember(reply, p[0] === 'CONSUMER' && p[1] === 'MSG' ? 'pull status / heartbeat' : `reply to ${what}`);
      return `request ${what}`;
    }
    if (subject === 'siot.sync.hello' || subject.startsWith('siot.sync.hello.')) {
      if (reply) this.remember(reply, 'hello answer');
      return 'sync hello';
    }
    const known = this.replyKind.get(subject);
    if (known) return known;
    if (subject.startsWith('_INBOX.')) return 'to _INBOX (other)';
    return subject.split('.').slice(0, 2).join('.');
  }

  private remember(reply: string, kind: string): void {
    if (this.replyKind.size > 20_000) this.replyKind.clear();
    this.replyKind.set(reply, kind);
  }
}
