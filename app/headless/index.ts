export { startHeadless } from './server.ts';
export type { HeadlessOptions, HeadlessServer } from './server.ts';
export { resolveStatic } from './static.ts';
