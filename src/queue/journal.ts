/**
 * Writing the working tree goes through a journal: the planned file versions (already in
 * the object store) and the state they lead to are written to `.pq/journal.json` first,
 * then the files, then the state, then the journal is removed. A pq killed anywhere in
 * between leaves a journal that the next command replays (roll forward), so no patch and
 * no edit is ever half-applied or lost.
 */
import { chmodSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileStat, readText, removeFile, writeAtomic, writeText } from "../tree/files.js";
import { ObjectStore } from "../tree/objects.js";
import { StatCache } from "./caches.js";
import { saveState, statePaths, versionExec, versionId, type StackState, type Version } from "./state.js";

export interface Journal {
  op: string;
  writes: [string, Version][];
  state: StackState;
}

export function commitWrites(
  tree: string,
  store: ObjectStore,
  statCache: StatCache,
  journal: Journal,
  onFile?: (done: number, total: number) => void,
): void {
  const paths = statePaths(tree);
  store.flush(); // every version the journal names must be durable before it is
  writeAtomic(paths.journal, JSON.stringify(journal), true);
  applyJournal(tree, store, statCache, journal, onFile);
  rmSync(paths.journal, { force: true });
}

function applyJournal(tree: string, store: ObjectStore, statCache: StatCache, journal: Journal, onFile?: (done: number, total: number) => void): void {
  const total = journal.writes.length;
  journal.writes.forEach(([path, version], i) => {
    const full = join(tree, path);
    if (version === null) {
      removeFile(full, tree);
      statCache.forget(path);
    } else {
      const id = versionId(version)!;
      const exec = versionExec(version);
      const before = fileStat(full);
      // Skip identical content: cheaper, and it keeps mtimes (and so build caches) stable.
      let after = before;
      if (!(before && statCache.lookup(path, before.size, before.mtimeMs) === version)) {
        writeText(full, store.get(id));
        after = fileStat(full)!;
      }
      if (((after!.mode & 0o111) !== 0) !== exec) {
        chmodSync(full, exec ? after!.mode | 0o111 : after!.mode & ~0o111);
        after = fileStat(full)!;
      }
      statCache.record(path, after!.size, after!.mtimeMs, version);
    }
    if (onFile && (i % 64 === 0 || i === total - 1)) onFile(i + 1, total);
  });
  saveState(tree, journal.state);
  statCache.save();
}

/** Replays an interrupted operation. Returns its name when there was one. */
export function recoverJournal(tree: string, store: ObjectStore, statCache: StatCache): string | null {
  const paths = statePaths(tree);
  if (!existsSync(paths.journal)) return null;
  const text = readText(paths.journal);
  let journal: Journal;
  try {
    journal = JSON.parse(text ?? "");
  } catch {
    // Torn before it was complete: nothing of it reached the tree (files are written only
    // after the journal is durable), so dropping it loses nothing.
    rmSync(paths.journal, { force: true });
    return "incomplete journal (discarded; the tree was not touched)";
  }
  applyJournal(tree, store, statCache, journal);
  rmSync(paths.journal, { force: true });
  return journal.op;
}
