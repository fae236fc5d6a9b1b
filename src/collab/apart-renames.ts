/**
 * The renames a sync made to keep two patches added under one name apart, as its merge commit
 * records them (SYNC_RENAME_TRAILER): pq log and pq range-diff tell the two patches apart by them.
 */
import type { QueueRepo } from "./queue-repo.js";
import { SYNC_RENAME_TRAILER } from "./types.js";

/**
 * The sync merges that kept two patches added under one name apart (their SYNC_RENAME_TRAILER
 * lines): at `commit`, our patch `from` (first parent) took the name `to`, and theirs (second
 * parent) kept `from`.
 */
export interface ApartRename {
  commit: string;
  ours: string;
  theirs: string;
  from: string;
  to: string;
}

/** Those among the commits `range` names (a revision, or OLD..NEW), newest first. */
export async function apartRenames(qr: QueueRepo, range: string): Promise<ApartRename[]> {
  const out = await qr.run(["log", "--merges", "-F", `--grep=${SYNC_RENAME_TRAILER}: `, "--format=%x1e%H %P%x1f%B", range]);
  const found: ApartRename[] = [];
  for (const record of out.split("\x1e").filter(Boolean)) {
    const [ids, body = ""] = record.split("\x1f");
    const [commit, ours, theirs] = ids.trim().split(" ");
    if (!theirs) continue;
    for (const line of body.split("\n")) {
      if (!line.startsWith(`${SYNC_RENAME_TRAILER}: `)) continue;
      const [from, to] = line
        .slice(SYNC_RENAME_TRAILER.length + 2)
        .trim()
        .split(" -> ");
      if (from && to) found.push({ commit, ours, theirs, from, to });
    }
  }
  return found;
}
