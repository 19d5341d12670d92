export { Instance, leafRemoteFor, UNREACHABLE_ADVERTISE } from './instance.ts';
export type { InstanceOptions, PeerLink } from './types.ts';
