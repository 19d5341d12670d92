import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback between two instances' leaf link, so a test can
 * cut the link and restore it, and count bytes. Start it before the target
 * so the target can advertise the proxy's address: a leaf listener tells its
 * remotes where to reconnect, and a remote told the listener's own address
 * would silently reconnect around the proxy.
 */
export class LinkProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private up = true;
  bytesUp = 0;
  bytesDown = 0;
  port = 0;

  private targetPort = 0;

  /** Where connections go; set once the target listens. */
  target(port: number): this {
    this.targetPort = port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      if (!this.up || !this.targetPort) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, '127.0.0.1');
      this.sockets.add(client);
      this.sockets.add(upstream);
      client.on('data', (d) => {
        this.bytesUp += d.length;
        upstream.write(d);
      });
      upstream.on('data', (d) => {
        this.bytesDown += d.length;
        client.write(d);
      });
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
    await new Promise<void>((res) => this.server?.listen(port, '127.0.0.1', res));
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  get url(): string {
    return `nats-leaf://127.0.0.1:${this.port}`;
  }

  /** Drops every connection and refuses new ones until `restore`. */
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.up = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
  }
}
