import { EventEmitter } from 'node:events';
import { SerialBridge, type BridgeStatus } from './bridge.ts';
import { LinkRelay, type RelayStatus } from './relay.ts';
import { listSerialPorts, serialEndpoint, type SerialPortInfo } from './serial.ts';
import type { LinkConfig, LinkStatus } from './types.ts';

interface Link {
  name: string;
  relay: LinkRelay;
  config?: LinkConfig;
  bridge?: SerialBridge;
}

/**
 * The laptop's links to devices and hubs. Each link is a named slot with a
 * fixed loopback port (a relay) that the embedded nats-server's leaf remote
 * dials; connecting points the slot at a device's address (Ethernet) or at
 * a serial bridge the manager starts for the chosen port. The server's
 * configuration never changes when a link comes, goes, or moves between
 * Ethernet and serial.
 */
export class LinkManager extends EventEmitter<{ status: [LinkStatus] }> {
  private readonly links = new Map<string, Link>();

  /** Creates a slot; returns the URL its leaf remote must dial. */
  async addSlot(name: string, port = 0): Promise<string> {
    if (this.links.has(name)) throw new Error(`link "${name}" exists already`);
    const relay = new LinkRelay();
    await relay.start(port);
    const link: Link = { name, relay };
    relay.on('status', () => this.emit('status', this.status(name)));
    this.links.set(name, link);
    return this.slotUrl(name);
  }

  slotUrl(name: string): string {
    return `nats-leaf://127.0.0.1:${this.get(name).relay.port}`;
  }

  private get(name: string): Link {
    const l = this.links.get(name);
    if (!l) throw new Error(`no link named "${name}"; known: ${[...this.links.keys()].join(', ') || 'none'}`);
    return l;
  }

  /** Points a slot at a device: replaces whatever it was connected to. */
  async connect(name: string, config: LinkConfig): Promise<LinkStatus> {
    const link = this.get(name);
    await this.disconnect(name);
    if (config.kind === 'ethernet') {
      if (!config.host || !Number.isInteger(config.port) || config.port <= 0 || config.port > 65535) {
        throw new Error(`an Ethernet link needs the device's host and leaf port (1-65535), got ${config.host}:${config.port}`);
      }
      link.config = config;
      link.relay.setTarget({ host: config.host, port: config.port });
    } else {
      if (!config.path) throw new Error('a serial link needs a port path, e.g. /dev/ttyUSB0 or COM3');
      if (!Number.isInteger(config.baudRate) || config.baudRate <= 0) throw new Error(`baud rate must be a positive whole number, got ${config.baudRate}`);
      const bridge = new SerialBridge({
        mode: 'listen',
        line: serialEndpoint({ path: config.path, baudRate: config.baudRate }),
        ...(config.compress ? { compress: true } : {}),
        ...(config.rateBps ? { rateBps: config.rateBps } : {}),
        ...(config.latencyMs ? { latencyMs: config.latencyMs } : {}),
      });
      bridge.on('state', () => this.emit('status', this.status(name)));
      await bridge.start();
      const port = bridge.port;
      if (port === undefined) {
        await bridge.stop();
        throw new Error(`the serial bridge for ${config.path} did not open its loopback port`);
      }
      link.bridge = bridge;
      link.config = config;
      link.relay.setTarget({ host: '127.0.0.1', port });
    }
    const st = this.status(name);
    this.emit('status', st);
    return st;
  }

  async disconnect(name: string): Promise<void> {
    const link = this.get(name);
    link.relay.setTarget(null);
    delete link.config;
    const bridge = link.bridge;
    delete link.bridge;
    await bridge?.stop();
    this.emit('status', this.status(name));
  }

  status(name: string): LinkStatus {
    const link = this.get(name);
    return combine(link.name, link.config, link.relay.status, link.bridge?.status());
  }

  statuses(): LinkStatus[] {
    return [...this.links.keys()].map((n) => this.status(n));
  }

  listSerialPorts(): Promise<SerialPortInfo[]> {
    return listSerialPorts();
  }

  async stop(): Promise<void> {
    for (const l of this.links.values()) {
      await l.bridge?.stop();
      await l.relay.stop();
    }
    this.links.clear();
  }
}

/** One status for the UI: the relay's view, refined by the serial line's. */
export function combine(name: string, config: LinkConfig | undefined, relay: RelayStatus, bridge: BridgeStatus | undefined): LinkStatus {
  const out: LinkStatus = { name, state: relay.state, bytesIn: relay.bytesIn, bytesOut: relay.bytesOut, sessions: relay.sessions };
  if (config) out.config = config;
  if (relay.error) out.error = relay.error;
  if (relay.connectedSince) out.connectedSince = relay.connectedSince;
  if (bridge) {
    // On a serial link the wire is the serial line: report its bytes.
    out.bytesIn = bridge.stats.lineBytesIn;
    out.bytesOut = bridge.stats.lineBytesOut;
    if (bridge.line !== 'open') {
      out.state = bridge.lineError ? 'error' : 'connecting';
      if (bridge.lineError) out.error = bridge.lineError;
      delete out.connectedSince;
    }
  }
  if (!config) out.state = 'disconnected';
  return out;
}
