/** How the laptop reaches a device (or hub). */
export type LinkConfig = EthernetLink | SerialLink;

export interface EthernetLink {
  kind: 'ethernet';
  /** The device's leaf listener. */
  host: string;
  port: number;
}

export interface SerialLink {
  kind: 'serial';
  /** e.g. /dev/ttyUSB0, COM3 */
  path: string;
  baudRate: number;
  /** Compress the byte stream (both bridges must agree; the device side follows the app side). */
  compress?: boolean;
  /** Cap on what the app sends down the line, bits/s (to share a slow link). */
  rateBps?: number;
  /** Added one-way latency, ms (to rehearse a cellular link). */
  latencyMs?: number;
}

export type LinkState = 'disconnected' | 'connecting' | 'connected' | 'error';

export interface LinkStatus {
  name: string;
  state: LinkState;
  config?: LinkConfig;
  /** Bytes from the device to us / from us to the device, on this link. */
  bytesIn: number;
  bytesOut: number;
  /** TCP sessions the leaf made through the link (each reconnect is one). */
  sessions: number;
  error?: string;
  connectedSince?: number;
}
