export * from "./types.js";
export { parsePatch, splitLines, unquotePath } from "./parse.js";
export { applyFilePatch, reverseFilePatch, describeHunkResult, formatRejects, formatHunk } from "./apply.js";
export { createFilePatch, diffHunks, gitBlobId, quotePath } from "./create.js";
export { applyBinary, formatBinaryPatch, isBinaryContent } from "./binary.js";
