export { Instance, leafRemoteFor, UNREACHABLE_ADVERTISE } from './instance.ts';
export type { BoundaryLeafUser, InstanceOptions, PeerLink } from './types.ts';
