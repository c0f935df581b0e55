// Types of js-cache.js, which is JavaScript because bin/tweetpipe.js and js-cache-hooks.js load it before any
// TypeScript can be.
export declare const ROOT: string;
export declare const CACHE_DIR: string;
export declare function entryPath(sourcePath: string): string | undefined;
export declare function cachedJs(sourcePath: string, source: Uint8Array): string | undefined;
export declare function writeEntry(sourcePath: string, source: Uint8Array, js: string): void;
