// Options, status and events of the serial bridge (bridge.ts).
import type { LineEndpoint } from './serial.ts';

export type BridgeMode = 'listen' | 'dial';

export interface SerialBridgeOptions {
  mode: BridgeMode;
  line: LineEndpoint;
  /** listen: loopback port for the leaf remote to dial; 0 (default) picks a free one, see `port`. */
  listenPort?: number;
  /** dial: where each session connects, e.g. the device's nats-server leaf port. */
  dialHost?: string;
  dialPort?: number;
  /** listen: compress the sessions this side opens. The dial side follows what each OPEN asks for. */
  compress?: boolean;
  /** Cap on what this side writes to the line, bits/s (8 per byte). */
  rateBps?: number;
  /** One-way latency added to what this side writes to the line, ms. */
  latencyMs?: number;
  /** Backoff between attempts to reopen the line. Default 250 ms doubling to 5 s. */
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** A partial frame idle this long is damage (its tail was lost). Default 2000 ms. */
  stallMs?: number;
  /** Bytes waiting for the line above which TCP reads pause. Default 64 KiB. */
  highWaterBytes?: number;
  /** listen: how long a session waits for the device side to answer its OPEN. Default 10 s. */
  answerTimeoutMs?: number;
  /** A PING goes out after this long without writing, so a dead line is noticed while idle. Default 2 s. */
  keepaliveMs?: number;
}

export interface BridgeStats {
  /** Wire bytes, framing and compression included. */
  lineBytesOut: number;
  lineBytesIn: number;
  /** Payload bytes read from / written to the TCP side. */
  tcpBytesIn: number;
  tcpBytesOut: number;
  framesOut: number;
  framesIn: number;
  corruptEvents: number;
  corruptBytes: number;
  sessions: number;
  lineOpens: number;
  lineDrops: number;
  /** Bytes accepted for the line and not yet written to it. */
  queuedBytes: number;
}

export type LineState = 'opening' | 'open' | 'stopped';

export interface BridgeStatus {
  mode: BridgeMode;
  line: LineState;
  /** Why the line is not open (missing, busy, permission denied, pulled), for the UI. */
  lineError?: string;
  /** Current session id, when a TCP connection is being carried. */
  session?: number;
  /** listen: the loopback TCP port the leaf remote should dial. */
  port?: number;
  stats: BridgeStats;
}

/**
 * 'open': on the listen side when the device side answered the OPEN (the
 * session reached the device), on the dial side when the leaf port accepted
 * the connection. 'close' comes for every session, opened or not, with why.
 */
export interface SessionEvent {
  id: number;
  event: 'open' | 'close';
  reason?: string;
}

export interface BridgeEvents {
  state: [BridgeStatus];
  session: [SessionEvent];
  corrupt: [{ reason: string; skipped: number; session?: number }];
  'line-error': [Error];
}
