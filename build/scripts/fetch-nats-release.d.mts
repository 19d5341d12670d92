// Types for fetch-nats-release.mjs (plain JavaScript so it runs before tsc), for the tests that use it.
export declare const outRoot: string;
export declare const ALL_TARGETS: string[];
export declare function releasePlatformFor(target: string): string;
export declare function currentTarget(platform?: NodeJS.Platform, arch?: string): string;
export declare function fetchTarget(target: string): Promise<string>;
export declare function copyDevBinary(): Promise<string>;
