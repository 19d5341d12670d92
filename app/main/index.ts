// The Electron shell's portable part (no `electron` import here: main.ts and
// preload.ts are the only files that have one).
export { APP_TITLE, parseDesktopArgs, startDesktop } from './desktop.ts';
export type { Desktop, DesktopOptions } from './desktop.ts';
export { locateElectron, planLaunch } from './launcher.ts';
export type { LaunchPlan, PlanInput } from './launcher.ts';
export { CALL_CHANNEL, EVENT_CHANNEL } from './ipc.ts';
export type { CallEnvelope } from './ipc.ts';
export { APP_ORIGIN, CONTENT_SECURITY_POLICY } from './security.ts';
export type { ElectronLike } from './electron-like.ts';
