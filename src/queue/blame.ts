/**
 * Which applied patch last touched a line of the working tree: the answer a compiler
 * error wants next to it. Walks the applied patches from the top down, following the
 * line back through each patch's hunks until some patch added it (or it predates them).
 * Hunks are mapped at their stated positions: exact for patches pq refreshed, a close
 * approximation for ones that applied with an offset.
 */
import { parsePatch, type FilePatch } from "../patch/index.js";
import type { Stack } from "./stack.js";

export type LineBlame = (file: string, line: number) => string | undefined;

export async function stackBlame(stack: Stack): Promise<LineBlame> {
  const patches: { name: string; files: FilePatch[] }[] = [];
  for (const name of stack.applied()) {
    try {
      patches.push({ name, files: parsePatch(await stack.readPatch(name)).files });
    } catch {
      patches.push({ name, files: [] }); // unreadable: it simply never claims a line
    }
  }
  return (file, line) => blameLine(patches, file.replace(/^\.\//, ""), line);
}

export function blameLine(patches: { name: string; files: FilePatch[] }[], file: string, line: number): string | undefined {
  let path = file;
  let at = line;
  for (let i = patches.length - 1; i >= 0; i--) {
    const fp = patches[i].files.find((f) => f.newPath === path);
    if (!fp) continue;
    if (fp.kind === "create") return patches[i].name;
    let shift = 0;
    let mapped: number | null = null;
    for (const hunk of fp.hunks) {
      if (at < hunk.newStart) break;
      if (at < hunk.newStart + hunk.newLines) {
        // Inside the hunk: find the line and see whether this patch added it.
        let n = hunk.newStart;
        let o = hunk.oldStart;
        for (const l of hunk.lines) {
          if (l.op === "-") {
            o++;
            continue;
          }
          if (n === at) {
            if (l.op === "+") return patches[i].name;
            mapped = o;
            break;
          }
          n++;
          if (l.op === " ") o++;
        }
        break;
      }
      shift += hunk.newLines - hunk.oldLines;
    }
    at = mapped ?? at - shift;
    if (fp.oldPath) path = fp.oldPath;
  }
  return undefined;
}
