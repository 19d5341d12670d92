export { startService } from './service.ts';
export type { Service, ServiceOptions } from './types.ts';
export type { Demo } from './demo.ts';
export { APP_NAME, defaultDataDir } from './data-dir.ts';
