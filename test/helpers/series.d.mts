// Types for series.mjs (plain JS so the benchmarks can use it without a TypeScript loader).
export declare const patchName: (k: number) => string;
export declare const notesAfter: (k: number) => string;
export declare function patchText(k: number): string;
export declare function seriesRepo(count: number): string;
export declare function writeSeries(tree: string, count: number): void;
