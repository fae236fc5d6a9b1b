/**
 * Per-tree state in `<tree>/.pq/` (never in the queue directory, so the queue can be
 * shared and versioned): which patches are applied and, for each, the versions of the
 * files it touched before and after. Plain JSON a person can read.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { asciiJson, fileStat, knownSha1, readText, sha1, writeAtomic, type FileStat } from "../tree/files.js";
import type { StatCache } from "./caches.js";
import { asPathMap } from "../core/path-map.js";
import { conflictRefresh } from "../collab/conflict-refresh.js";

export { asPathMap, pathMap } from "../core/path-map.js";

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
  /** The .rej files a forced push wrote (refresh refuses while they exist). */
  rejects?: string[];
  /** Each of `rejects`' content id as the push wrote it: a pop that takes them away keeps one edited since (t145 N1). */
  rejectsWritten?: string[];
  /**
   * Its hunks matched only with fuzz, with line endings set aside, or by a three-way merge (push
   * --merge; verify-7 V10): the patch file does not
   * apply as it is (GNU patch at fuzz 0 and git apply refuse it), so a refresh rewrites it even
   * when the tree has not changed since (verify-6 N7), as quilt's does.
   */
  inexact?: "fuzz" | "eol" | "merge";
}

/** Records parsed from JSON, their file maps made path maps (see pathMap). */
export function adoptRecords<T extends { files: Record<string, unknown> }>(records: T[]): T[] {
  if (Array.isArray(records)) for (const record of records) if (record && typeof record === "object") asPathMap(record.files);
  return records;
}

/** A state parsed from JSON, its records' file maps made path maps (see pathMap). */
export function adoptState(state: StackState): StackState {
  if (state && typeof state === "object") adoptRecords(state.applied);
  return state;
}

export interface StackState {
  version: 1;
  /** Queue directory: relative to the tree when inside it, else absolute. */
  queue: string;
  guards: string[];
  applied: AppliedPatch[];
}

export const STATE_DIR = ".pq";

/** statePaths of the trees asked last: a warm push asks some forty times, and each answer's twenty joins cost ~50 us. */
const pathsOfTrees = new Map<string, StatePaths>();

export type StatePaths = Readonly<ReturnType<typeof makeStatePaths>>;

export function statePaths(tree: string): StatePaths {
  let paths = pathsOfTrees.get(tree);
  if (paths === undefined) {
    paths = Object.freeze(makeStatePaths(tree));
    pathsOfTrees.set(tree, paths);
    // A few trees at once (a test run or the TUI meets many over a process's life).
    if (pathsOfTrees.size > 8) pathsOfTrees.delete(pathsOfTrees.keys().next().value!);
  }
  return paths;
}

function makeStatePaths(tree: string) {
  const dir = join(tree, STATE_DIR);
  return {
    dir,
    state: join(dir, "state.json"),
    journal: join(dir, "journal.json"),
    /** Made once the journal's queue files are written (see the executor's applyEntry). */
    queueWritten: join(dir, "journal-queue-written"),
    lock: join(dir, "lock"),
    objects: join(dir, "objects"),
    statCache: join(dir, "statcache"),
    pushCache: join(dir, "pushcache.log"),
    trash: join(dir, "trash"),
    backups: join(dir, "backups"),
    oplog: join(dir, "oplog"),
    /** Written by pq sync while it moves the queue and the stack to a merged version (src/collab/sync.ts). */
    sync: join(dir, "sync.json"),
    /** Written by pq rebase while it runs or is stopped (src/queue/rebase.ts): its progress, and the queue it started from. */
    rebase: join(dir, "rebase.json"),
    rebaseSaved: join(dir, "rebase-saved.json"),
    /** There while pq init takes over quilt's applied patches: a stack that is not whole yet. */
    initIncomplete: join(dir, "init-incomplete"),
    /** The queue's files as pq init found them, as object ids (src/queue/restore-queue.ts keepQueueAtInit). */
    queueAtInit: join(dir, "queue-at-init"),
    /** Queue directories pq queue delete --purge emptied, each with the newest operation then (src/queue/restore-queue.ts). */
    purgedQueues: join(dir, "purged-queues"),
  };
}

/**
 * A sync killed while it moved the queue and the stack to a merged version: until pq sync
 * completes it, another change would be made on a half-moved queue and then overwritten.
 */
/** The phase of a sync that is not finished (.pq/sync.json), and whether its --abort was cut short; null when none is. */
function syncRecord(tree: string): { phase: unknown; aborting: boolean; conflicts: unknown } | null {
  const text = readText(statePaths(tree).sync);
  if (text === null) return null;
  try {
    const record = JSON.parse(text) as { phase?: unknown; aborting?: unknown; conflicts?: unknown };
    return { phase: record.phase ?? null, aborting: record.aborting === true, conflicts: record.conflicts };
  } catch {
    return null; // pq sync itself reports a damaged sync state
  }
}

/**
 * The refresh a sync stopped on conflicts needs: the conflicted files named (conflictRefresh), so
 * that an edit of another file stays out of the patch everyone gets (t144 N1: a refusal's bare
 * "pq refresh", followed, published a private edit); plain "pq refresh" where none names its files.
 */
export function stoppedSyncRefresh(tree: string): string {
  const conflicts = syncRecord(tree)?.conflicts;
  return (Array.isArray(conflicts) && conflictRefresh(conflicts.filter((c) => c && typeof c === "object" && typeof c.patch === "string"))) || "pq refresh";
}

const syncPhase = (tree: string): unknown => syncRecord(tree)?.phase ?? null;

/**
 * Undo and redo while a sync is stopped on conflicts would take back its pops and pushes but
 * not its queue files and its record: --abort is the way back from a stopped sync.
 */
export function refuseDuringStoppedSync(tree: string, direction: "undo" | "redo"): void {
  const sync = syncRecord(tree);
  if (sync?.aborting) throw abortCutShort(`pq ${direction}`);
  if (sync?.phase !== "conflicts") return;
  // Redo takes nothing of the sync back: it would change the stack under it (t62 N7: it said "take back").
  const why = direction === "undo" ? "pq undo would take back only part of it" : "pq redo is refused while it is (it would change the stack under the stopped sync)";
  throw new PqError("refused", `a pq sync stopped on conflicts; ${why}`, [
    "pq sync --abort puts the queue, the tree and the stack back as they were before the sync",
    `or resolve, ${stoppedSyncRefresh(tree)}, then pq sync --continue`,
  ], { pathsFrom: tree });
}

/** The way out when edits stand in an interrupted sync's way and the sync stands in theirs. */
export const INTERRUPTED_SYNC_STASH =
  "with unrefreshed edits in the way: git stash (it keeps them), pq sync, then git stash pop, and pq refresh takes them";

export function refuseDuringInterruptedSync(tree: string, what: string): void {
  const phase = syncPhase(tree);
  if (phase !== "integrating" && phase !== "stopping") return;
  throw new PqError("refused", `a pq sync was interrupted while it moved the queue to the merged version; ${what} would be lost when it completes`, [
    "pq sync completes it first (nothing of yours is lost), then run this again",
    // The sync refuses over unrefreshed edits it would have to pop: a way past both (t35 F5).
    INTERRUPTED_SYNC_STASH,
  ]);
}

/** The refusal of a command while a pq sync --abort cut short waits to be finished (t80 N6: the advice had been --continue, which refuses then). */
export function abortCutShort(command: string): PqError {
  return new PqError("refused", `a pq sync --abort was interrupted; ${command} waits until it is finished`, [
    "pq sync --abort finishes it: the queue and the applied stack come back as they were before the sync",
  ]);
}

/**
 * While a sync is stopped (on conflicts, or an --abort cut short), pq finish and pq uncommit
 * would move the branch under it: a patch finished then was a commit and a queue patch at once,
 * and the --abort could not put the stack back (t80 N2).
 */
export function refuseDuringStoppedSyncMove(tree: string, command: string): void {
  const sync = syncRecord(tree);
  if (sync?.aborting) throw abortCutShort(`pq ${command}`);
  if (sync?.phase !== "conflicts") return;
  throw new PqError("refused", `a pq sync stopped on conflicts; pq ${command} would move the branch under it`, [
    `resolve, ${stoppedSyncRefresh(tree)}, then pq sync --continue; or pq sync --abort; then pq ${command}`,
  ], { pathsFrom: tree });
}

/**
 * While a rebase is stopped, commands that move the branch (finish, uncommit), change the
 * patches it still has to carry over (delete, rename) or what comes back applied (select)
 * would leave a plan --continue or --abort cannot follow (stack-6 #3, #5, #14): refused, as
 * undo is, from the CLI and the TUI alike. The rebase's own steps are not (Stack.rebasing).
 */
export function refuseDuringStoppedRebase(tree: string, command: string): void {
  if (!existsSync(statePaths(tree).rebase)) return;
  throw new PqError("refused", `a rebase is stopped; pq ${command} would leave it a plan it cannot follow`, [
    "finish it first: fix the conflicts, pq refresh, pq rebase --continue; or pq rebase --abort",
  ]);
}

export function loadState(tree: string): StackState | null {
  return loadStateAndText(tree)?.state ?? null;
}

/**
 * The state and the text it was read from (without the final newline): the executor logs
 * that text as the operation's before-state instead of serialising the state again, and
 * it is byte for byte the previous operation's after-state, so the store keeps one copy.
 */
export function loadStateAndText(
  tree: string,
  statCache?: StatCache,
  /** Whether the object store holds `text` as `id` (see wroteState); without it the text is hashed. */
  holds?: (id: string, text: string) => boolean,
): { state: StackState; text: string } | null {
  const file = statePaths(tree).state;
  // The stat first: should the file be replaced in between, the check runs on the new text.
  const st = statCache ? fileStat(file) : null;
  const text = readText(file);
  if (text === null) return null;
  try {
    const state = adoptState(JSON.parse(text) as StackState);
    if (!(st && wroteState(statCache!, st, text, holds))) checkState(state);
    return { state, text: text.endsWith("\n") ? text.slice(0, -1) : text };
  } catch (e) {
    // One line: a JSON error quotes the text it stopped at, newlines and all.
    const why = (e as Error).message.replace(/\s+/g, " ");
    throw new PqError("damaged", `${statePaths(tree).state} is unreadable (${why})`, [
      "pq undo cannot help here; the patches themselves are intact in the queue directory",
      "keep your unrefreshed edits first (git stash, or git diff > ../edits.diff): the next step takes them out of the tree",
      "then move only that file away (mv .pq/state.json ../state.json.damaged: the log, the objects and .pq/backups stay), git checkout the files the applied patches touched, and pq init: the queue is kept, nothing is applied, and pq push -a applies it again",
    ]);
  }
}

/**
 * state.json as pq's executor wrote it (a state that passed the check when it was planned)
 * is recorded in the stat cache with the text's SHA-1: a 1000-patch state costs 5-7 ms to
 * check at every command, and ~1 ms to hash. Any other text (a hand edit, even one that
 * keeps the size and the mtime, a copy, a truncation) is checked again.
 */
const STATE_KEY = "\0state.json";
/** The record of a state text (without the file's last newline) by its SHA-1: the id the executor stored it under. */
const writtenByPq = (stateId: string) => `written-by-pq-state ${stateId}`;

/**
 * Whether state.json is the text pq wrote: its stat is the one recorded when pq wrote it, and
 * its text is that state's, by its SHA-1 or, with `holds`, by the object store's copy of it
 * (which costs no hashing: starting node:crypto costs ~2.2 ms and hashing the 430 KB of a
 * thousand-patch state ~0.7 ms). The stat alone is not enough: another process writing into the
 * file between pq's rename and its stat was recorded as pq's (t26 F3), and on a file system
 * whose clock ticks coarsely a write in the same tick keeps the stat. The id is then
 * remembered for the store's put of the same text.
 */
function wroteState(statCache: StatCache, st: FileStat, text: string, holds?: (id: string, text: string) => boolean): boolean {
  const recorded = statCache.recordedValue(STATE_KEY, st);
  const id = recorded?.startsWith(writtenByPq("")) ? recorded.slice(writtenByPq("").length) : "";
  if (!/^[0-9a-f]{40}$/.test(id)) return false;
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (!(holds ? holds(id, body) : sha1(body) === id)) return false;
  knownSha1(body, id);
  return true;
}

/** Records that state.json, as it is on disk now, is the state text whose SHA-1 is `stateId`, which the executor wrote. */
export function recordStateWritten(tree: string, statCache: StatCache, stateId: string): void {
  const st = fileStat(statePaths(tree).state);
  if (st) statCache.record(STATE_KEY, st, writtenByPq(stateId));
}

/** A hand-edited or truncated state must not reach the code that trusts it. */
function checkState(state: StackState): void {
  if (!state || typeof state !== "object" || state.version !== 1 || typeof state.queue !== "string" || !Array.isArray(state.applied) || !Array.isArray(state.guards)) {
    throw new Error("unknown format");
  }
  // A version is 40 hex digits, then ":x" when executable. The digits of all of a patch's
  // versions are checked with one regexp: a thousand patches hold about eight thousand
  // versions, and the state is checked at every command.
  const digits: string[] = [];
  state.applied.forEach((a, i) => {
    const where = `applied patch ${i + 1}`;
    if (!a || typeof a.name !== "string" || !a.name) throw new Error(`${where} has no name`);
    if (typeof a.hash !== "string") throw new Error(`${where} (${a.name}) has no hash`);
    if (!a.files || typeof a.files !== "object") throw new Error(`${where} (${a.name}) has no file list`);
    digits.length = 0;
    for (const path in a.files) {
      const change = a.files[path];
      if (!change || !collectDigits(change.pre, digits) || !collectDigits(change.post, digits)) {
        throw new Error(`${where} (${a.name}) has a bad entry for ${path}`);
      }
    }
    if (!/^[0-9a-f]*$/.test(digits.join(""))) throw new Error(`${where} (${a.name}) has a version that is not a blob id`);
  });
}

/** A version's shape (null, or 40 characters and an optional ":x"); its digits go to `digits`, checked later. */
function collectDigits(v: unknown, digits: string[]): boolean {
  if (v === null) return true;
  if (typeof v !== "string" || !(v.length === 40 || (v.length === 42 && v.endsWith(":x")))) return false;
  digits.push(v.length === 40 ? v : v.slice(0, 40));
  return true;
}

export function saveState(tree: string, state: StackState): void {
  saveStateText(tree, asciiJson(state));
}

/** A state already serialised (the executor has the text it stored with the journal). */
export function saveStateText(tree: string, text: string): void {
  writeAtomic(statePaths(tree).state, text + "\n", true);
}

export function ensureStateDir(tree: string): void {
  const p = statePaths(tree);
  mkdirSync(p.objects, { recursive: true });
  // Keep pq's state out of git without touching the user's .gitignore.
  if (!existsSync(join(p.dir, ".gitignore"))) writeAtomic(join(p.dir, ".gitignore"), "*\n");
}
