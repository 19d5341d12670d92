export { Instance } from './instance.ts';
export type { InstanceOptions } from './types.ts';
