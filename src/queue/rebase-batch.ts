/**
 * How many of the next patches apply exactly (no offset, no fuzz) one after another on
 * the tree as it is: those can be pushed in one go, a single transaction instead of one
 * per patch. Applied in memory with pq's own applier, so it answers as push would.
 */
import { join } from "node:path";
import { applyFilePatch, parsePatch } from "../patch/index.js";
import { readText } from "../tree/files.js";

export function exactRun(tree: string, texts: string[]): number {
  const files = new Map<string, string | null>();
  const get = (path: string) => (files.has(path) ? files.get(path)! : readText(join(tree, path)));
  for (const [i, text] of texts.entries()) {
    let parsed;
    try {
      parsed = parsePatch(text);
    } catch {
      return i;
    }
    const changes = new Map<string, string | null>();
    const now = (path: string) => (changes.has(path) ? changes.get(path)! : get(path));
    for (const fp of parsed.files) {
      if (fp.newMode === "120000" || fp.oldMode === "120000") return i;
      const source = fp.oldPath ?? fp.newPath!;
      const target = fp.newPath ?? fp.oldPath!;
      let result;
      try {
        result = applyFilePatch(fp.kind === "create" ? now(target) : now(source), fp, { fuzz: 0 });
      } catch {
        return i;
      }
      if (!result.ok || result.hunks.some((h) => h.status !== "exact")) return i;
      if (fp.kind === "rename") changes.set(source, null);
      changes.set(target, fp.kind === "delete" ? null : result.content);
    }
    for (const [p, c] of changes) files.set(p, c);
  }
  return texts.length;
}
