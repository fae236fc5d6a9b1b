/**
 * The refresh a stopped sync names for its conflicted files: a leaf module, read by the sync's
 * refusal, its --continue and pq status alike.
 */
import { operandList } from "../core/shell-word.js";
import type { ConflictKind } from "./types.js";

/**
 * The refresh that takes a stopped sync's conflicted files alone, per patch: a plain pq refresh
 * took an unrelated edit of the user's into the patch, which --continue pushed to everyone
 * (t130 N5, t131 N6). Null where no conflict names its files.
 */
export function conflictRefresh(
  conflicts: readonly { patch: string; kind: ConflictKind; files?: string[] }[],
  only?: string,
): string | null {
  const marked = conflicts.filter((c) => c.kind === "content" && c.files?.length && (only === undefined || c.patch === only));
  const patches = [...new Set(marked.map((c) => c.patch))];
  if (!patches.length) return null;
  const refreshes = patches.map((patch) => {
    const files = [...new Set(marked.filter((c) => c.patch === patch).flatMap((c) => c.files!))];
    return `pq refresh ${operandList(files)}${patches.length > 1 ? ` (in ${patch})` : ""}`;
  });
  return `${refreshes.join(", ")} (the conflicted files alone: an edit of any other file stays out of the patch)`;
}
