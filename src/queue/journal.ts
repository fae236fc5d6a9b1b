/**
 * Writing the working tree goes through a journal: the planned file versions (already in
 * the object store) and the state they lead to are written to `.pq/journal.json` first,
 * then the files, then the state, then the journal is removed. A pq killed anywhere in
 * between leaves a journal that the next command replays (roll forward), so no patch and
 * no edit is ever half-applied or lost.
 */
import { chmodSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { asciiJson, fileStat, readText, removeFile, writeAtomic, writeTextAsync } from "../tree/files.js";
import { ObjectStore } from "../tree/objects.js";
import { StatCache } from "./caches.js";
import { saveState, statePaths, versionExec, versionId, type StackState, type Version } from "./state.js";

export interface Journal {
  op: string;
  writes: [string, Version][];
  state: StackState;
}

export async function commitWrites(
  tree: string,
  store: ObjectStore,
  statCache: StatCache,
  journal: Journal,
  onFile?: (done: number, total: number) => void,
): Promise<void> {
  const paths = statePaths(tree);
  store.flush(); // every version the journal names must be durable before it is
  writeAtomic(paths.journal, asciiJson(journal), true);
  await applyJournal(tree, store, statCache, journal, onFile);
  rmSync(paths.journal, { force: true });
}

/** Writes run this many at a time: the kernel overlaps them on the thread pool. */
const PARALLEL_WRITES = 16;

async function applyJournal(tree: string, store: ObjectStore, statCache: StatCache, journal: Journal, onFile?: (done: number, total: number) => void): Promise<void> {
  const total = journal.writes.length;
  let done = 0;
  const progress = () => {
    done++;
    if (onFile && (done % 64 === 0 || done === total)) onFile(done, total);
  };
  // Deletions first and one by one: they remove emptied directories, which must not race
  // with writes creating files in them.
  for (const [path, version] of journal.writes) {
    if (version !== null) continue;
    removeFile(join(tree, path), tree);
    statCache.forget(path);
    progress();
  }
  const writes = journal.writes.filter(([, v]) => v !== null) as [string, string][];
  let next = 0;
  const worker = async () => {
    while (next < writes.length) {
      const [path, version] = writes[next++];
      const full = join(tree, path);
      const exec = versionExec(version);
      const before = fileStat(full);
      let after = before;
      // Skip identical content: cheaper, and it keeps mtimes (and so build caches) stable.
      if (!(before && statCache.lookup(path, before.size, before.mtimeMs) === version)) {
        await writeTextAsync(full, store.get(versionId(version)!));
        after = fileStat(full)!;
      }
      if (((after!.mode & 0o111) !== 0) !== exec) {
        chmodSync(full, exec ? after!.mode | 0o111 : after!.mode & ~0o111);
        after = fileStat(full)!;
      }
      statCache.record(path, after!.size, after!.mtimeMs, version);
      progress();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WRITES, writes.length) }, worker));
  saveState(tree, journal.state);
  statCache.save();
}

/** Replays an interrupted operation. Returns its name when there was one. */
export async function recoverJournal(tree: string, store: ObjectStore, statCache: StatCache): Promise<string | null> {
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
  await applyJournal(tree, store, statCache, journal);
  rmSync(paths.journal, { force: true });
  return journal.op;
}
