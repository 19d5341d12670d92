export { NatsServer } from './server.ts';
export type { NatsServerEvents } from './server.ts';
export { findNatsServer, binaryVersion, compareVersions, minimumVersion } from './binary.ts';
export type { FindOptions, FoundBinary } from './binary.ts';
export { instanceIdOfServerName, jetStreamDomain, jetStreamReadApi, jetStreamWriteApi, LOCAL_ONLY_SUBJECTS, serverName, renderConfig, parsePortsFile, parseLeafListenLine } from './config.ts';
export { DEVICE_LINK_ACCOUNT, LEAF_API_PREFIX, leafAccountName, limitedHelloSubject, MAIN_ACCOUNT, PEERS_ACCOUNT, peersClientUser } from './accounts.ts';
export { loadOrCreateCredentials } from './credentials.ts';
export type { InstanceCredentials } from './credentials.ts';
export { connectToServer } from './connect.ts';
export type {
  Credentials,
  LeafUser,
  LeafRemote,
  NatsServerOptions,
  ServerConfigInput,
  ServerPorts,
  ServerState,
  ServerStatus,
} from './types.ts';
