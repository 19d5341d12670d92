// Public face of the pure SIOT layer: data model, codecs, subjects and the
// merge rule. Other folders import from here, never from the files behind it.

export { DataType, DEVICE_NODE_TYPE, EdgePointType, ROOT_PARENT } from './types.ts';
export type { KnownDataType, NodeView, OriginPoint, Point } from './types.ts';

export { PointsDecodeError, SiotError } from './errors.ts';
export type { SiotErrorCode } from './errors.ts';

export { decodePoints, encodedSize, encodePoints, MAX_POINTS, normalizeKey } from './codec.ts';

export {
  dateToTime,
  floatData,
  floatPoint,
  intData,
  intPoint,
  isDeleted,
  jsonData,
  jsonPoint,
  nowNs,
  pointFloat,
  pointInt,
  pointIntNumber,
  pointJSON,
  pointString,
  pointValue,
  stringData,
  stringPoint,
  timeToDate,
} from './values.ts';
export type { PointOptions } from './values.ts';

export {
  ANY,
  checkPointTokens,
  edgeSubject,
  instEdgeFilter,
  instEdgeSubject,
  instPointFilter,
  instPointSubject,
  instStreamName,
  instStreamSubjects,
  nodesSubject,
  parseEdgeSubject,
  parseInstSubject,
  parseNodesSubject,
  parsePointSubject,
  parseUpSubject,
  pointSubject,
  upEdgeSubject,
  upPointSubject,
  validateToken,
} from './subjects.ts';
export type { EdgeSubject, InstSubject, NodesSubject, PointSubject, UpSubject } from './subjects.ts';

export {
  compareOriginPoints,
  compareUtf8,
  edgePointId,
  mergeAll,
  mergePoints,
  pickWinner,
  pointId,
  wins,
} from './merge.ts';

export { decodeNodesReply, encodeNodesReply } from './nodes-proto.ts';

export { NODE_FILE_API_VERSION, parseNodeFile, stringifyNodeFile } from './node-yaml.ts';
export type { NodeFile, NodeYaml } from './node-yaml.ts';
