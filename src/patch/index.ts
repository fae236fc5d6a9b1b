export * from "./types.js";
export { bestName, namesLeaving, namesWritten, parseNamedPatch, readsBeforePatch, parsePatch, splitLines } from "./parse.js";
export { bytesToName, nameToBytes, quotePath, unquotePath } from "./paths.js";
export { applyFilePatch, reverseFilePatch, describeHunkResult, formatRejects, formatHunk } from "./apply.js";
export { createFilePatch, diffHunks, filePatchBetween, gitBlobId } from "./create.js";
export { applyBinary, formatBinaryPatch, isBinaryContent } from "./binary.js";
export { bestMove, commonLines, moveSimilarity, pairMoves, sameFileMoved } from "./overlap.js";
