export { Instance, leafRemoteFor } from './instance.ts';
export type { InstanceOptions, PeerLink } from './types.ts';
