export { APPLIED_POINT, appliedKey, DeviceSim, SIM_NODE_TYPE } from './device.ts';
export type { DeviceSimOptions } from './device.ts';
export { sample, signalFor } from './signals.ts';
export type { SignalKind, SignalSpec } from './signals.ts';
