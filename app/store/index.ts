export { ORIGIN_SEQ_HEADER, Store } from './store.ts';
export { StoreWriteError } from './write-errors.ts';
export type { Ack } from './publisher.ts';
export { streamSeqFromReply } from './read.ts';
export { MergedState } from './state.ts';
export { loadOrCreateIdentity } from './identity.ts';
export type { InstanceIdentity } from './identity.ts';
export { DEFAULT_MAX_MSGS_PER_SUBJECT } from './streams.ts';
export { HIGH_WATER, LOW_WATER } from './budget.ts';
export type {
  HistoryPoint,
  HistoryQuery,
  HistoryResult,
  NodesQuery,
  PointChange,
  StoreEvents,
  StoreOptions,
  StreamRef,
  StreamStats,
} from './types.ts';
