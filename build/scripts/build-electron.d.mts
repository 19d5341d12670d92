// Types for build-electron.mjs (plain JavaScript so it runs before tsc), for the tests that use it.
export declare const root: string;
export declare const preloadSource: string;
export declare const preloadOutput: string;
export declare const rendererIndex: string;
export declare function compilePreload(source: string, fileName?: string): string;
export declare function buildElectron(opts?: { renderer?: boolean }): void;
