/**
 * Patches a `pq finish` turned into commits of the tree, as a shared queue's history records
 * them. To a colleague, a finished patch is only a patch gone from the series: their sync said
 * "deleted" and, when a patch above it no longer applied, advised `pq push --force`, while the
 * way on is to pull the tree, which brings the commit (collab-17 F14). So `pq commit` adds a
 * `Pq-Finished: NAME COMMIT` trailer for each patch its commit takes out of the series that the
 * operation log says was finished (and not undone since); a sync reads them from the commits it
 * brings in and says what happened.
 */
import { OplogReader } from "../queue/oplog.js";
import { pathMap, statePaths } from "../queue/state.js";
import type { QueueRepo } from "./queue-repo.js";

export const FINISHED_TRAILER = "Pq-Finished";

/** How far back in the operation log a finish is looked for (a commit usually follows it closely). */
const LOG_DEPTH = 5000;

/**
 * The trailers for `removed` (patch names the commit takes out of the series): those the
 * operation log of `tree` records as finished and not undone, whose commit the tree's branch
 * still has (`inTree`).
 */
export async function finishedTrailers(tree: string, removed: string[], inTree: (commit: string) => Promise<boolean>): Promise<string[]> {
  if (!removed.length) return [];
  const wanted = new Set(removed);
  const found = new Map<string, string>();
  const reader = new OplogReader(statePaths(tree).oplog);
  // Newest first: a redo or an undo comes after what it names, so the first word seen decides.
  const decided = new Map<string, "done" | "undone">();
  for (let e = reader.older(), n = 0; e !== null && n < LOG_DEPTH && found.size < wanted.size; e = reader.older(), n++) {
    for (const id of e.redoes ?? []) if (!decided.has(id)) decided.set(id, "done");
    for (const id of e.undoes ?? []) if (!decided.has(id)) decided.set(id, "undone");
    if (!e.finished || decided.get(e.id) === "undone") continue;
    for (const [name, commit] of e.finished) if (wanted.has(name) && !found.has(name)) found.set(name, commit);
  }
  const trailers: string[] = [];
  for (const name of removed) {
    const commit = found.get(name);
    if (commit !== undefined && (await inTree(commit))) trailers.push(`${FINISHED_TRAILER}: ${name} ${commit}`);
  }
  return trailers;
}

/** A patch a colleague finished: the commit it became, and who committed the queue's change. */
export interface Finished {
  commit: string;
  by: string;
  /**
   * Whether the tree's repository has the commit: a trailer is anyone's text (a plain-git commit
   * can name a commit that exists nowhere), so a finish is said as a fact only when it is one (t60 N8).
   */
  known?: boolean;
}

/** The finishes recorded in the queue's commits `range` (a revision, or OLD..NEW), by patch name (the newest wins). */
export async function finishedIn(qr: QueueRepo, range: string): Promise<Record<string, Finished>> {
  const out = await qr.run(["log", "-F", `--grep=${FINISHED_TRAILER}: `, "--format=%x1e%an%x1f%B", range]);
  const found = pathMap<Finished>();
  for (const record of out.split("\x1e").filter(Boolean)) {
    const [by, body = ""] = record.split("\x1f");
    for (const line of body.split("\n")) {
      const m = new RegExp(`^${FINISHED_TRAILER}: (\\S+) ([0-9a-f]{40}(?:[0-9a-f]{24})?)\\s*$`).exec(line);
      if (m && !(m[1] in found)) found[m[1]] = { commit: m[2], by: by.trim() };
    }
  }
  return found;
}
