export { Sync, HELLO_SUBJECT } from './sync.ts';
export type { SyncEvents } from './sync.ts';
export { Replicator } from './replicator.ts';
export { CELLULAR_SYNC } from './profiles.ts';
export { findResumeSeq, lastOriginSeq, originSeqOf } from './remote.ts';
export type { Hello, PeerStatus, ReplicaState, ReplicaStatus, SyncOptions, SyncStatus, UpstreamStatus, WantPolicy } from './types.ts';
