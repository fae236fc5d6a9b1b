/**
 * Per-tree state in `<tree>/.pq/` (never in the queue directory, so the queue can be
 * shared and versioned): which patches are applied and, for each, the versions of the
 * files it touched before and after. Plain JSON a person can read.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { asciiJson, readText, writeAtomic } from "../tree/files.js";

/**
 * A file version: a blob id in the object store, with ":x" appended when executable;
 * null when the file does not exist.
 */
export type Version = string | null;

export const versionId = (v: Version): string | null => (v === null ? null : v.endsWith(":x") ? v.slice(0, -2) : v);
export const versionExec = (v: Version): boolean => v !== null && v.endsWith(":x");
export const makeVersion = (id: string, exec: boolean): Version => (exec ? `${id}:x` : id);

export interface FileChange {
  pre: Version;
  post: Version;
}

export interface AppliedPatch {
  name: string;
  /** sha1 of the patch file's bytes when it was applied or last refreshed. */
  hash: string;
  files: Record<string, FileChange>;
  /** Renames the patch performs (from → to), kept so refresh writes them as renames again. */
  renames?: [string, string][];
  /** Set when the patch was applied with --force (rejects) or --merge (conflicts). */
  needsRefresh?: "forced" | "conflict";
}

export interface StackState {
  version: 1;
  /** Queue directory: relative to the tree when inside it, else absolute. */
  queue: string;
  guards: string[];
  applied: AppliedPatch[];
}

export const STATE_DIR = ".pq";

export function statePaths(tree: string) {
  const dir = join(tree, STATE_DIR);
  return {
    dir,
    state: join(dir, "state.json"),
    journal: join(dir, "journal.json"),
    lock: join(dir, "lock"),
    objects: join(dir, "objects"),
    statCache: join(dir, "statcache.json"),
    pushCache: join(dir, "pushcache.log"),
    trash: join(dir, "trash"),
    backups: join(dir, "backups"),
  };
}

export function loadState(tree: string): StackState | null {
  const text = readText(statePaths(tree).state);
  if (text === null) return null;
  try {
    const state = JSON.parse(text) as StackState;
    if (state.version !== 1 || !Array.isArray(state.applied)) throw new Error("unknown format");
    return state;
  } catch (e) {
    throw new PqError("internal", `${statePaths(tree).state} is unreadable (${(e as Error).message})`, [
      "the patches themselves are in the queue directory; move .pq/ away and run pq init to start over",
    ]);
  }
}

export function saveState(tree: string, state: StackState): void {
  writeAtomic(statePaths(tree).state, asciiJson(state, 1) + "\n", true);
}

export function ensureStateDir(tree: string): void {
  const p = statePaths(tree);
  mkdirSync(p.objects, { recursive: true });
  // Keep pq's state out of git without touching the user's .gitignore.
  if (!existsSync(join(p.dir, ".gitignore"))) writeAtomic(join(p.dir, ".gitignore"), "*\n");
}
