// Link report: the configurations measured, the constants of a run, and the
// shape of its options and results (what --json prints and --render reads).

export type ConfigId = 'plain' | 'bridge' | 's2_fast' | 's2_auto';

export interface ConfigSpec {
  id: ConfigId;
  label: string;
  /** Bridge compression (deflate, set on the laptop's side; the device side follows). */
  compress: boolean;
  /** nats-server leaf compression on the laptop's remote; undefined = the server's default. */
  leafCompression?: string;
}

export const CONFIGS: ConfigSpec[] = [
  { id: 'plain', label: 'plain', compress: false, leafCompression: 'off' },
  { id: 'bridge', label: 'bridge compression (deflate)', compress: true, leafCompression: 'off' },
  { id: 's2_fast', label: 'leaf compression s2_fast', compress: false, leafCompression: 's2_fast' },
  { id: 's2_auto', label: 'server default (s2_auto), today', compress: false },
];

export const POINTS_24H = 30 * 86_400;
export const LATENCY_MS = 100;
export const NODES = 30;

export interface LinkReportOptions {
  quick?: boolean;
  rates?: number[];
  configs?: ConfigId[];
  log?: (s: string) => void;
}

export interface Bytes {
  up: number;
  down: number;
  total: number;
}

export interface IdleResult {
  windowSec: number;
  /** Line bytes per minute, device→laptop (up) and laptop→device (down). */
  perMin: Bytes;
  /** Leaf protocol bytes (TCP side of the device bridge) per minute. */
  tcpPerMin: Bytes;
  /** Bridge frames sent per minute, both sides' counts from the device bridge (out + in). */
  framesPerMin: number;
  /** Round trip of one small request laptop→device JetStream right after the window (s). */
  rttSec: number | null;
}

export interface LiveResult {
  windowSec: number;
  /** Points the simulator wrote. */
  written: number;
  /** Points that reached the laptop before the drain wait ended. */
  points: number;
  /** From the first write to the replica holding the last one. */
  durationSec: number;
  /** After the simulator stopped, until the replica held its last write. */
  drainSec: number;
  complete: boolean;
  /** Largest number of points the replica was behind, sampled each second while writing. */
  maxLagPoints: number;
  line: Bytes;
  tcp: Bytes;
  bytesPerPoint: number;
  /** bytesPerPoint less the idle traffic of the same duration. */
  netBytesPerPoint: number;
  /** Line bytes per second the simulator's rate needs up, as a share of the link. */
  upUtilization: number;
}

export interface CatchUpResult {
  /** Points written while the cable was out. */
  written: number;
  /** Points the laptop lacked when the cable came back (written, plus any left from the live phase). */
  points: number;
  complete: boolean;
  /** Cable back to the first new point on the laptop. */
  firstSec: number | null;
  /** Cable back to the last point on the laptop (or given up). */
  totalSec: number;
  /** Cable back to the replicator's first pull (its consumer created on the device). */
  pullStartSec: number | null;
  /** Points moved per second between the first pull and the last point. */
  pointsPerSec: number;
  line: Bytes;
  tcp: Bytes;
  bytesPerPoint: number;
  /** Line bytes up over the whole run, over the link's rate. */
  upUtilization: number;
  /** 24 h of 30 nodes at 1 Hz at the measured points/s (extrapolated). */
  hours24h: number;
  /** The same from the upstream bytes per point alone, were the link busy all the time. */
  hours24hAtLineRate: number;
  missing: number;
  /** The laptop's copy has as many messages as the device's stream. */
  verified: string;
  /** Replica offline/error states seen during the run, with reasons. */
  replicaTrouble: string[];
  /** Times the laptop's sync marked the device unreachable during the run. */
  peerDownEvents: number;
  /** Consumers the laptop created on the device's stream during the run (a new one per replicator round). */
  consumersCreated: number;
  /** Leaf connections carried by the device bridge during the run. */
  sessions: number;
  /** [seconds since the cable came back, points on the laptop], every 10 s. */
  progress: Array<[number, number]>;
  /** [sent at, seconds until answered or null] of a small laptop→device request, every 15 s during the transfer. */
  rtts: Array<[number, number | null]>;
  /** Most bytes seen waiting in the device bridge's shaper for the line. */
  maxQueuedBytes: number;
  /** Replica states, reachability, server log lines of interest, stamped from the cable's return. */
  timeline: string[];
}

export interface TapRow {
  phase: string;
  direction: 'up' | 'down';
  kind: string;
  count: number;
  bytes: number;
  sample: string;
}

export interface PairResult {
  config: ConfigId;
  label: string;
  rateBps: number;
  /** Leaf compression in effect, from each server's /leafz. */
  leafCompression: { laptop: string; device: string; rttLaptop: string };
  idle?: IdleResult;
  live?: LiveResult;
  catchUp?: CatchUpResult;
  errors: string[];
}

export interface LinkReportResults {
  quick: boolean;
  startedAt: string;
  durationSec: number;
  command: string;
  machine: string;
  node: string;
  serverVersion: string;
  /** Commit of the measured code, and the uncommitted changes to app/ it ran with. */
  appVersion: string;
  /** Sync options in effect on the laptop (the product's defaults). */
  syncOptions: Record<string, unknown>;
  latencyMs: number;
  settleSec: number;
  /** One float point as the device writes it. */
  payload: { pointBytes: number; subjectBytes: number; subjectExample: string };
  maxMsgsPerSubject: number;
  pairs: PairResult[];
  /** Leaf protocol by kind, on the plain pairs (TCP side of the device bridge). */
  tap: Record<string, TapRow[]>;
  /** 1-minute load average at the end of each phase. */
  load: Record<string, number>;
  notes: string[];
}

export const kbit = (bps: number) => `${bps / 1000} kbit/s`;
