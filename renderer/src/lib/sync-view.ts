// Numbers the Sync screen shows, computed from the sync status. Pure.
import type { StatusSnapshot, SyncStatus } from '../../../app/client/index.ts';

export interface ReplicaProgress {
  stream: string;
  origin: string;
  boundary: string;
  source: string;
  state: string;
  have: number;
  total: number;
  percent: number;
  pendingMessages: number;
  pendingBytes: number;
  lastError?: string;
}

export interface UploadProgress {
  peer: string;
  role: string;
  reachable: boolean;
  /** Messages of ours the peer holds / that it wants. */
  have: number;
  total: number;
  percent: number;
  complete: boolean;
  /** Of the above, this instance's own writes (edits made here). */
  ownHave: number;
  ownTotal: number;
}

/** Origin instance of a stream `inst_<boundary>_<origin>` (ids hold no `_`). */
export function streamOrigin(stream: string): string {
  return stream.slice(stream.lastIndexOf('_') + 1);
}

export function replicaProgress(s: SyncStatus): ReplicaProgress[] {
  return s.replicas.map((r) => {
    const total = r.lastOriginSeq + r.pendingMessages;
    return {
      stream: r.stream,
      origin: r.origin,
      boundary: r.boundary,
      source: r.source,
      state: r.state,
      have: r.lastOriginSeq,
      total,
      percent: total === 0 ? 100 : Math.floor((r.lastOriginSeq / total) * 100),
      pendingMessages: r.pendingMessages,
      pendingBytes: r.pendingBytes,
      ...(r.lastError ? { lastError: r.lastError } : {}),
    };
  });
}

export function uploadProgress(s: SyncStatus): UploadProgress[] {
  return s.peers.map((p) => {
    let have = 0;
    let total = 0;
    let ownHave = 0;
    let ownTotal = 0;
    for (const u of p.upstream) {
      const h = Math.min(u.peerLastOriginSeq, u.localLastOriginSeq);
      total += u.localLastOriginSeq;
      have += h;
      if (streamOrigin(u.stream) === s.instanceId) {
        ownTotal += u.localLastOriginSeq;
        ownHave += h;
      }
    }
    const complete = p.upstreamComplete;
    return {
      peer: p.id,
      role: p.role,
      reachable: p.reachable,
      have,
      total,
      // 100 only when sync says so: sequence gaps make the ratio an estimate.
      percent: complete ? 100 : total === 0 ? 0 : Math.min(99, Math.floor((have / total) * 100)),
      complete,
      ownHave,
      ownTotal,
    };
  });
}

export type Banner = { level: 'error' | 'warn'; text: string } | undefined;

/** The banner across the top, most serious first. */
export function banner(status: StatusSnapshot | undefined, serviceUp: boolean): Banner {
  if (!serviceUp) return { level: 'error', text: 'The app service is not reachable. Reconnecting…' };
  if (!status) return undefined;
  const st = status.server.state;
  if (st === 'failed') return { level: 'error', text: `The local store (nats-server) stopped and could not be restarted: ${status.server.error ?? 'see the log'}. Restart the app.` };
  if (st !== 'ready') return { level: 'warn', text: `The local store is ${st}; edits wait until it is back.` };
  if (!status.sync.peers.some((p) => p.reachable)) return { level: 'warn', text: 'Offline: no device or hub reachable. Edits are kept here and sent when a link returns.' };
  return undefined;
}
