/**
 * The one place that writes a transaction. Order, so that a pq killed anywhere loses
 * nothing: every version the transaction needs (new contents, and the old ones undo will
 * need) goes into the object store and is verified readable; then the journal (the whole
 * transaction, before and after) is written durably; then the tree, the queue files, the
 * trash copies, the git branch and index, the state; then the journal becomes the newest
 * line of the operation log and is removed. The next command replays a journal it finds
 * (roll forward: every step is idempotent), so the tree, queue and state are always
 * either all before or all after an operation.
 */
import { failpoint } from "../core/failpoint.js";
import { chmodSync, existsSync, linkSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { userInfo } from "node:os";
import { PqError } from "../errors.js";
import { mark } from "../core/timings.js";
import type { GitRepo } from "../git/repo.js";
import { checkTreePath, ParentDirs, throughSymlink, underRoot } from "../tree/paths.js";
import { asciiJson, deadLeftovers, fileStat, knownSha1, readText, removeDeadTemporaries, removeFile, replaceFile, sha1, writeAtomic, writeText, type FileStat } from "../tree/files.js";
import { isDirectory, isRegular, isSymlink, statStamp } from "../tree/stat.js";
import { TreeDirs } from "../tree/tree-dirs.js";
import { queueFileTarget } from "../tree/paths.js";
import { backupFiles, backupOf } from "./ops/context.js";
import type { ObjectStore } from "../tree/objects.js";
import type { StatCache } from "./caches.js";
import { execBitsTrusted, gitDirOf, refFile } from "../git/head.js";
import { refuseUnwritable } from "./write-check.js";
import { appendOplog, lastOplogId, type OplogEntry } from "./oplog.js";
import { replaySeriesChange, withTheirNewPatches } from "./series-replay.js";
import { parsePatch } from "../patch/parse.js";
import { recordStateWritten, saveStateText, statePaths, versionExec, versionId, type Version } from "./state.js";
import type { Transaction } from "./transaction.js";

export interface ExecContext {
  tree: string;
  queueDir: string;
  store: ObjectStore;
  statCache: StatCache;
  repo: () => Promise<GitRepo | null>;
  /** The command line that asked for the operation, for the log. */
  command: string;
}


function currentUser(): string {
  try {
    return process.env.USER ?? process.env.LOGNAME ?? userInfo().username;
  } catch {
    return "unknown";
  }
}

let seq = 0;
const newId = () => `${Date.now().toString(36)}-${process.pid.toString(36)}-${(seq++).toString(36)}`;

/** Turns a planned transaction into a journal entry: every version stored and checked. */
export function journalOf(ctx: ExecContext, tx: Transaction, extra: Partial<OplogEntry> = {}, afterText: string = tx.stateText()): OplogEntry {
  const { store } = ctx;
  const tree: [string, Version, Version][] = [];
  for (const [path, after] of tx.ws.plannedWrites()) {
    const was = tx.ws.originalVersion(path);
    if (was !== after) tree.push([path, was, after]);
    const content = tx.ws.plannedContent(path);
    if (after !== null && typeof content === "string") store.keepWhole(versionId(after)!, content);
  }
  const written = new Set(tree.map(([path]) => path));
  const taken = [...tx.taken].filter((path) => !written.has(path)).map((path): [string, Version] => [path, tx.ws.version(path)]);
  const queue: [string, string | null, string | null][] = [];
  for (const [path, text] of tx.queueWrites()) {
    let current = tx.readBefore(path);
    if (current === undefined) {
      try {
        current = readText(join(ctx.queueDir, path));
      } catch {
        current = null;
      }
    }
    const was = current === null ? null : store.putChecked(current);
    const now = text === null ? null : store.putChecked(text);
    if (was !== now) queue.push([path, was, now]);
  }
  // The texts as they are on disk now, before the queue writes remove them.
  const trash = tx.trash().map(([name, dest]): [string, string, string] => [name, dest, store.putChecked(readText(join(ctx.queueDir, name)) ?? "")]);
  const entry: OplogEntry = {
    id: newId(),
    op: tx.label,
    command: ctx.command,
    user: currentUser(),
    time: new Date().toISOString(),
    tree,
    queue,
    trash,
    state: stateIds(ctx, tx, afterText),
    queueDir: tx.state.queue,
    ...(taken.length ? { taken } : {}),
    ...(tx.git ? { git: tx.git } : {}),
    ...extra,
  };
  return entry;
}

/**
 * The before and after states as objects, the after one as its difference from the before.
 * After a remembered run is replayed over a state, the state is the one the same replay made
 * last time: its id is remembered in the stat cache (under the before state's and the run's
 * ids, with the text's length) and taken once the store's copy reads as this very text, so a
 * warm push hashes no 430 KB state (and need not start node:crypto for it).
 */
function stateIds(ctx: ExecContext, tx: Transaction, afterText: string): [string, string] {
  const { store, statCache } = ctx;
  const before = store.putChecked(tx.beforeText);
  const runId = tx.appliedText?.runId;
  const memo = runId ? `\0state-after ${before} ${runId}` : null;
  const stamp = { size: afterText.length, mtimeMs: 0, ctimeMs: 0, ino: 0, mode: 0 };
  const known = memo ? statCache.lookup(memo, stamp) : undefined;
  if (known && /^[0-9a-f]{40}$/.test(known) && store.holdsText(known, afterText)) knownSha1(afterText, known);
  const after = store.putCheckedLike(afterText, before, tx.beforeText);
  if (memo && after !== known) statCache.record(memo, stamp, after);
  return [before, after];
}


/**
 * The commit a branch move goes to, and the blobs of the index entries it writes, must exist
 * before the journal does. An undo of uncommit or a redo of finish moves the branch back to
 * commits that were unreachable meanwhile, which git gc prunes: a journal naming one could
 * never be completed, and every later command would stop on it.
 */
async function refuseMissingGitObjects(ctx: ExecContext, entry: OplogEntry): Promise<void> {
  if (!entry.git) return;
  const git = await ctx.repo();
  if (!git) return; // moveGit says the tree is no longer a git work tree
  // Refused before the journal exists (verify-6 N9): found after it, the operation would be
  // half done, and every command would stop on it until the other git finished.
  if (entry.git.index.length && git.indexLocked()) {
    throw new PqError(
      "git",
      `${entry.op} would update git's index, which another git holds now (index.lock exists); nothing was changed`,
      ["run the pq command again once that git is done (if no git is running, a killed one left the lock: delete .git/index.lock)"],
      { op: entry.op },
    );
  }
  // The branch's own lock, likewise (verify-16 G3).
  const gitDir = entry.git.indexOnly ? null : gitDirOf(ctx.tree);
  if (gitDir !== null) {
    const lock = `${refFile(gitDir, entry.git.ref)}.lock`;
    if (existsSync(lock)) {
      throw new PqError(
        "git",
        `${entry.op} would move ${entry.git.ref.replace(/^refs\/heads\//, "")}, which another git holds now (${lock} exists); nothing was changed`,
        [`run the pq command again once that git is done (if no git is running, a killed one left the lock: delete ${lock})`],
        { op: entry.op, lock },
      );
    }
  }
  const blobs = entry.git.index.map(([, , after]) => after?.split(" ")[1]).filter((id): id is string => Boolean(id));
  // An index-only change moves no branch: only its blobs must be there.
  // A branch moved back to no commit (the undo of a first commit's finish) needs no object.
  const ids = entry.git.indexOnly || /^0+$/.test(entry.git.to) ? blobs : [entry.git.to, ...blobs];
  const missing = git.missingObjects(ids);
  if (!missing.length) return;
  const commit = missing.includes(entry.git.to);
  throw new PqError(
    "damaged",
    `${entry.op} would move ${entry.git.ref.replace(/^refs\/heads\//, "")} to ${commit ? `the commit ${entry.git.to.slice(0, 12)}` : `blobs (${missing[0].slice(0, 12)}...)`}, which git no longer has (git gc prunes what no branch or reflog reaches); nothing was changed`,
    [
      "the patches and the branch are as they were: pq status shows them",
      "pq finish makes commits of the applied patches again, and pq uncommit takes commits back into patches",
    ],
    { op: entry.op, missing },
  );
}

/** Every version a journal will write must be readable before the journal exists. */
function verifyVersions(store: ObjectStore, entry: OplogEntry): void {
  const missing: string[] = [];
  for (const [path, , after] of entry.tree) {
    const id = versionId(after);
    if (id !== null && !store.verify(id)) missing.push(path);
  }
  for (const [path, , after] of entry.queue) if (after !== null && !store.verify(after)) missing.push(path);
  if (missing.length) {
    throw new PqError(
      "damaged",
      `pq's object store lacks the content of ${missing.length} file(s) this operation needs: ${missing.slice(0, 5).join(", ")}`,
      ["nothing was changed; the patches in the queue directory are intact", "pq status shows where the stack is; pq pop rebuilds lost versions from the patches when it can"],
      // A copy found damaged is forgotten (ObjectStore.verify): planned again, the operation makes it anew (see Stack.push).
      { missing, lostObjects: true },
    );
  }
}

/** Writes a transaction (its before state is tx.beforeText). */
export async function execute(
  ctx: ExecContext,
  tx: Transaction,
  extra: Partial<OplogEntry> = {},
  onFile?: (done: number, total: number) => void,
): Promise<OplogEntry> {
  mark("planned");
  failpoint("planned");
  const afterText = tx.stateText();
  const entry = journalOf(ctx, tx, extra, afterText);
  mark("journal made");
  // What the tree and the file system refuse is found before the new objects go to a pack (a refused command leaves none: verify-14 C1).
  refuseBlockedWrites(ctx.tree, entry);
  refuseUnwritable(ctx, entry);
  ctx.store.flush();
  mark("objects flushed");
  verifyVersions(ctx.store, entry);
  await refuseMissingGitObjects(ctx, entry);
  mark("versions verified");
  const paths = statePaths(ctx.tree);
  const journalText = asciiJson(entry);
  writeAtomic(paths.journal, journalText, true);
  mark("journal written");
  failpoint("journal-written");
  const saved: { dir?: string; queueDir?: string } = {};
  const stage = { treeWritten: false };
  try {
    await applyEntry(ctx, entry, false, onFile, afterText, saved, stage);
  } catch (e) {
    // The system refused a tree write the checks before the journal could not foresee (an
    // immutable file, a full disk): what was written is put back from the store, the journal
    // goes, and nothing was changed (verify-16 F4). Only if that fails too is the operation
    // left for the next command to complete.
    if (!stage.treeWritten && systemErrorCode(e) !== null && (await rollBackTree(ctx, entry, saved))) {
      rmSync(paths.queueWritten, { force: true });
      rmSync(paths.journal, { force: true });
      // Edits made while it ran, which the writes or the putting back saved before overwriting them: said where.
      throw refusedWhileWriting(entry.op, e, saved.dir);
    }
    throw halfDone(entry.op, e, "stopped half way", ctx.tree);
  }
  // Logged with the operation: where the files changed while it ran were saved.
  const savedDirs = [saved.dir, saved.queueDir].filter((d): d is string => d !== undefined);
  if (savedDirs.length) entry.changedDuring = savedDirs.join(" and ");
  mark("tree, queue and state written");
  failpoint("state-written");
  try {
    // The journal's text is the log's line, unless the writes added where they saved edits (serialising it again cost ~1 ms of a warm push).
    appendOplog(paths.oplog, entry, savedDirs.length ? undefined : journalText);
  } catch (e) {
    // The tree, queue and state are the operation's after: only its log line is missing, and
    // the journal (kept) gives it to the next command, which logs it.
    throw halfDone(entry.op, e, "was done, but could not be added to the operation log (.pq/oplog)", ctx.tree);
  }
  failpoint("oplog-appended");
  rmSync(paths.queueWritten, { force: true });
  rmSync(paths.journal, { force: true });
  mark("logged");
  return entry;
}

/**
 * Writes an entry's after side (forward). Every step is safe to repeat. `replaying`: a
 * journal left by a killed pq, whose files may be written already.
 */
async function applyEntry(
  ctx: ExecContext,
  entry: OplogEntry,
  replaying: boolean,
  onFile?: (done: number, total: number) => void,
  /** The after state's text, when the caller has it (a fresh plan): not read back from the store. */
  stateText?: string,
  /** For a fresh plan: where files changed since it was planned are saved (see keepEditMadeMeanwhile). */
  saved?: { dir?: string; queueDir?: string },
  /** Set once the tree is written: a failure before that can be put back (see execute). */
  stage?: { treeWritten: boolean },
): Promise<string[]> {
  // The series another tree's pq changed since the kill (a queue directory several trees use): the operation's change made again over it.
  const seriesOver = new Map<string, string>();
  // The killed pq had written the queue files already: what is there now is newer (another
  // tree's command since, or a hand edit), and stays (t141 N1: a series another tree had taken
  // back to the operation's before was written over again).
  const queueDone = replaying && entry.queue.length > 0 && existsSync(statePaths(ctx.tree).queueWritten);
  // Patch files another tree made under the operation's new name since the kill: left as they are (see saveEditsMadeSince).
  const leftAsIs = new Set<string>();
  const backups = replaying ? saveEditsMadeSince(ctx, entry, seriesOver, queueDone, leftAsIs) : [];
  await writeTree(ctx, entry.tree, replaying, onFile, saved);
  if (stage) stage.treeWritten = true;
  mark("tree written");
  failpoint("tree-written");
  for (const [, dest, id] of entry.trash) {
    const path = trashPath(ctx.tree, dest)!; // checked by refuseForeignJournal before a replay
    // Written whole or not at all; a replay writes again a copy a kill cut short (verify-10 Y1).
    if (!existsSync(path)) writeAtomic(path, ctx.store.get(id));
    else if (replaying && sha1(readText(path) ?? "") !== id) writeAtomic(path, ctx.store.get(id));
  }
  const held: HeldFile[] = [];
  for (const [path, before, after] of entry.queue) {
    const full = queueFileTarget(ctx.queueDir, path);
    // A patch file saved by an editor after the plan read it: kept, as a tree file is (see keepEditMadeMeanwhile).
    if (saved && !replaying) {
      const now = readText(full);
      const id = now === null ? null : sha1(now);
      if (id !== null && id !== before && id !== after) saved.queueDir = backupFiles(ctx.tree, [path], "queue-changed-during-operation", ctx.queueDir, saved.queueDir);
      // Only a file that is there is held (a new patch file has no old inode to lose; a failed link costs an exception).
      const link = id === null ? null : holdFile(full);
      if (link !== null) held.push({ path, link, seen: id });
      failpoint("queue-held");
    }
    if (queueDone || leftAsIs.has(path)) continue;
    if (after === null) removeFile(full, ctx.queueDir);
    else writeAtomic(full, seriesOver.get(path) ?? ctx.store.get(after));
  }
  if (entry.queue.length && !queueDone) writeText(statePaths(ctx.tree).queueWritten, "");
  failpoint("queue-written");
  if (entry.git?.indexOnly) await (await gitFor(ctx)).updateIndex(entry.git.index.map(([p, , a]) => [p, a]));
  else if (entry.git) await moveGit(ctx, entry.op, entry.git.ref, entry.git.from, entry.git.to, entry.git.index.map(([p, , a]) => [p, a]), replaying);
  failpoint("git-moved");
  const state = stateText ?? ctx.store.get(entry.state[1]);
  saveStateText(ctx.tree, state);
  // The after state's id is its text's SHA-1 (the store's get checked a text read back).
  recordStateWritten(ctx.tree, ctx.statCache, entry.state[1]);
  ctx.statCache.save();
  if (saved) keepLateQueueEdits(ctx, held, saved);
  return backups;
}

/** A queue file's old inode, kept reachable while the operation replaces or removes the file (see holdFile). */
interface HeldFile {
  path: string;
  /** The hard link to the old inode. */
  link: string;
  /** The content id the check before the write found (null: no file). */
  seen: string | null;
}

/** Where holdFile keeps a file's old inode: a writeAtomic temporary's name, so a killed pq's is found as one. */
const HELD = ".held.tmp-";
const heldName = (full: string) => `${full}${HELD}${process.pid}`;

/**
 * The check before a queue file is replaced cannot see an editor's save that lands after it:
 * an editor appending to the file it opened writes into the old inode, which the rename then
 * drops, and the save is gone with no trace (verify-6 N1). So the old inode gets a second
 * name first; once the operation is written, keepLateQueueEdits reads it back. Null: no file
 * there, or a file system without hard links (then only the check before the write guards it).
 */
function holdFile(full: string): string | null {
  const link = heldName(full);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      linkSync(full, link);
      return link;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && attempt === 0) rmSync(link, { force: true });
      else return null;
    }
  }
  return null;
}

/** A held queue file written to after the check (see holdFile) is saved to the operation's backup, then every hold is let go. */
function keepLateQueueEdits(ctx: ExecContext, held: HeldFile[], saved: { queueDir?: string }): void {
  for (const { path, link, seen } of held) {
    const text = readText(link);
    if (text !== null && sha1(text) !== seen) {
      saved.queueDir = backupFiles(ctx.tree, [path], "queue-changed-during-operation", () => ({ content: text, exec: false }), saved.queueDir);
    }
    // With the directories a removed patch file left empty (the hold kept them).
    removeFile(link, ctx.queueDir);
  }
}

/**
 * A pq killed after its journal was written may have left the tree as it was, or half
 * written; the user may have gone on editing before the next command replays the journal.
 * A tree or queue file that is neither the operation's before nor its after version is such
 * an edit (or the one file the killed pq was writing): it is copied to .pq/backups before the
 * replay overwrites it; but a series another tree's pq changed meanwhile, on lines the
 * operation leaves alone, gets the operation's change made over it (`seriesOver`, see
 * series-replay.ts). Returns the backup directories made.
 */
function saveEditsMadeSince(ctx: ExecContext, entry: OplogEntry, seriesOver: Map<string, string>, queueDone: boolean, leftAsIs: Set<string>): string[] {
  const treeEdits = entry.tree
    .filter(([path, was, after]) => {
      const full = join(ctx.tree, path);
      // lstat: a symlink put there since the kill (to a file, a directory or nothing) is an edit, kept as the link (t33 N2, N3).
      const st = statStamp(full, false);
      if (!st) return false; // nothing there to lose
      if (isSymlink(st)) return true;
      // A directory made where the operation writes a file: named, with the way out (safe-6 #17f).
      if (isDirectory(st)) {
        throw new PqError("damaged", `${path} is a directory where the interrupted ${entry.op} writes a file (or no file)`, [
          "move the directory away (pq leaves it and what is in it untouched), then any pq command completes the operation",
        ], { file: path, op: entry.op });
      }
      // The executable bit is part of a version: a chmod since the kill is an edit too (a chmod leaves the mtime).
      const execIs = execMatcher(ctx.tree, st);
      const isEither = (v: Version | undefined) => v !== undefined && (v === was || v === after) && execIs(v);
      if (isEither(ctx.statCache.lookup(path, st))) return false;
      const text = readText(full);
      const id = text === null ? null : sha1(text);
      // One of the two versions: an edit only if its executable bit is the other's (a chmod).
      if (id === versionId(was)) return !execIs(was) && !(id === versionId(after) && execIs(after));
      if (id === versionId(after)) return !execIs(after);
      // The one file the killed pq was writing: the after version's first bytes over the before
      // version's (a rewrite in place from offset 0, or a new file not yet whole). pq's own, no edit.
      return !(text !== null && halfWritten(text, storedText(ctx, was), storedText(ctx, after)));
    })
    .map(([path]) => path);
  const queueEdits = (queueDone ? [] : entry.queue)
    .filter(([path, before, after]) => {
      const text = readText(join(ctx.queueDir, path));
      const id = text === null ? null : sha1(text);
      if (id === null || id === before || id === after) return false;
      // A patch file the operation made (pq new, import) that another tree made under the same name
      // since the kill (its own patch, applied there): its work stays, and the operation's version
      // goes to .pq/backups instead (t147 N8: it was written over, the other tree's copy in this one's backups).
      // Only a patch the operation made empty (pq new: a header, no change yet): a renamed or imported
      // patch's text is the patch itself, written as before with the file there saved (t148 N1).
      if (path !== "series" && before === null && after !== null && carriesNoChange(ctx.store.get(after))) {
        leftAsIs.add(path);
        return false;
      }
      // The series changed by another tree's pq since the kill, where this operation's change touches other lines: both kept, nothing saved.
      if (path !== "series" || before === null || after === null) return true;
      const [base, ours] = [ctx.store.get(before), ctx.store.get(after)];
      const merged = replaySeriesChange(base, ours, text!);
      if (merged !== null) {
        seriesOver.set(path, merged);
        return false;
      }
      // No merge: the file as it is now is saved, and the operation's series written with the other tree's new patches listed in it.
      const kept = withTheirNewPatches(base, ours, text!);
      if (kept !== null) seriesOver.set(path, kept);
      return true;
    })
    .map(([path]) => path);
  const backups: string[] = [];
  if (treeEdits.length) backups.push(backupFiles(ctx.tree, treeEdits, "recover"));
  if (queueEdits.length) backups.push(backupFiles(ctx.tree, queueEdits, "recover-queue", ctx.queueDir));
  if (leftAsIs.size) {
    const made = new Map(entry.queue.map(([path, , after]) => [path, after]));
    backups.push(backupFiles(ctx.tree, [...leftAsIs], "recover-queue-not-written", (path) => ({ content: ctx.store.get(made.get(path)!), exec: false })));
  }
  // A queue file's old inode the killed pq held (see holdFile): an editor's save into it is kept too.
  for (const [path, before, after] of entry.queue) {
    const full = queueFileTarget(ctx.queueDir, path);
    const prefix = `${basename(full)}${HELD}`;
    for (const link of deadLeftovers(dirname(full), (name) => (name.startsWith(prefix) ? Number(name.slice(prefix.length)) || null : null))) {
      // Still the file at the path (killed before its rename): checked as the queue file above.
      const stillThere = fileStat(link)?.ino === fileStat(full)?.ino;
      const text = readText(link);
      const id = text === null ? null : sha1(text);
      if (!stillThere && text !== null && id !== before && id !== after) backups.push(backupFiles(ctx.tree, [path], "recover-queue", () => ({ content: text, exec: false })));
      removeFile(link, ctx.queueDir);
    }
  }
  return backups;
}

/** A version's bytes from the store, or null (no file, or not in the store). */
function storedText(ctx: ExecContext, v: Version): string | null {
  const id = versionId(v);
  if (id === null) return null;
  try {
    return ctx.store.get(id);
  } catch {
    return null;
  }
}

/** Is `text` what a write of `after` over `before` leaves when it stops part way (after's first k bytes, then before's from k on)? */
export function halfWritten(text: string, before: string | null, after: string | null): boolean {
  if (after === null) return false;
  let k = 0;
  while (k < text.length && k < after.length && text.charCodeAt(k) === after.charCodeAt(k)) k++;
  return text.slice(k) === (before ?? "").slice(k);
}

async function gitFor(ctx: ExecContext): Promise<GitRepo> {
  const git = await ctx.repo();
  if (!git) throw new PqError("git", "this operation changes git's branch or index, but the tree is no longer a git work tree");
  return git;
}

async function moveGit(
  ctx: ExecContext,
  op: string,
  ref: string,
  from: string,
  to: string,
  index: [string, string | null][],
  replaying: boolean,
): Promise<void> {
  const git = await gitFor(ctx);
  // A branch with no commit yet (finish in a fresh repository, or its undo) reads as none, and the
  // journal says it moves from or to git's all-zero id: the same (t138 N3, t139 N2: taken for a
  // branch moved meanwhile).
  const none = [from, to].find((id) => /^0+$/.test(id)) ?? null;
  const now = (await git.readRef(ref)) ?? none;
  if (now === from) await git.updateRef(ref, to, from);
  else if (now !== to && replaying) {
    // Killed before the branch moved, and a commit made since: the queue half of the
    // operation is written, the branch half cannot be (it would drop that commit).
    const branch = ref.replace(/^refs\/heads\//, "");
    throw new PqError(
      "refused",
      `${op} was interrupted before it moved ${branch}, and ${branch} has moved since (now ${now === null ? "deleted" : now.slice(0, 12)}): pq cannot complete it without dropping that commit`,
      [
        `git reset --soft ${from.slice(0, 12)} takes the new commit(s) back, keeping their changes staged; the next pq command then completes ${op}`,
        "then commit your changes again (git commit)",
      ],
      { ref, expected: from, actual: now, op },
    );
  } else if (now !== to) {
    throw new PqError("git", `${ref} moved to ${now ?? "nothing (deleted)"} while pq was moving it from ${from} to ${to}`, [
      "another git moved it meanwhile: check git log; the next pq command says how to complete the operation",
    ]);
  }
  if (index.length) await git.updateIndex(index);
}

/**
 * The tree is written one file after another with synchronous calls, as git checkout does.
 * Measured against 16 writes in flight on libuv's thread pool (each file an unlink, an open,
 * a write and a close, every one a round trip to a pool thread), 10 alternating rounds on a
 * settled 1000-patch clone with git checkouts between: pop 124 ms against 142, push 152
 * against 172; with another process writing and fsyncing 100 MB in a loop: pop 208 against
 * 227, push 210 against 258 (notes/perf.md, December 2, fifth session). Every 256 files the
 * event loop gets a turn, so that a TUI running the operation can draw its progress.
 */
async function writeTree(
  ctx: ExecContext,
  writes: [string, Version, Version][],
  replaying: boolean,
  onFile?: (done: number, total: number) => void,
  /** Where files changed while the operation ran were saved (see keepEditMadeMeanwhile). */
  saved?: { dir?: string },
  /**
   * Putting back what a refused operation wrote (`writes` from its after to its before): a file
   * that is neither (an editor's save or a chmod while it ran, before or after pq wrote it) is
   * copied to `saved` first (t33 N1: the rollback wrote the before version over it, and said
   * nothing was changed); a directory there is left as it is.
   */
  rollingBack = false,
): Promise<void> {
  const { tree, store, statCache } = ctx;
  // Each directory entered and checked to be the tree's own before anything in it is written
  // or removed (t34 F1: a directory swapped for a symlink mid-write led the writes outside).
  const dirs = new TreeDirs(tree);
  /**
   * In a rollback: whether `path` (at `name`, see TreeDirs) is left as it is: already at
   * `target`, the version it is put back to (a write that never got to it: an immutable file,
   * t34 F4), or a directory. A file at `written`, what the refused operation wrote, is put back;
   * anything else (an edit, a chmod, a symlink) is copied to `saved` first, then put back.
   */
  const leftByRollback = (path: string, name: string, written: Version, target: Version): boolean => {
    const st = statStamp(name, false);
    if (st === null) return target === null;
    if (isDirectory(st)) return true;
    if (isRegular(st)) {
      const known = statCache.lookup(path, st);
      if (known !== undefined && (known === target || known === written)) return known === target;
      const execIs = execMatcher(tree, st);
      const text = readText(name);
      const id = text === null ? null : sha1(text);
      const is = (v: Version) => v !== null && id === versionId(v) && execIs(v);
      if (is(target) || is(written)) return is(target);
      // pq's own half write, what it wrote over the first bytes of what was there (a truncate the
      // system refused after the write): put back, not saved as an edit of anyone's (t56 N6).
      if (text !== null && halfWritten(text, storedText(ctx, target), storedText(ctx, written))) return false;
    }
    // Read where the file was found (see TreeDirs), not again by its path through the tree.
    if (saved) saved.dir = backupFiles(ctx.tree, [path], "changed-during-operation", () => backupOf(name), saved.dir);
    return false;
  };
  const total = writes.length;
  let done = 0;
  const progress = () => {
    done++;
    if (onFile && (done % 64 === 0 || done === total)) {
      dirs.leave();
      onFile(done, total);
    }
  };
  // A replay has checked every file against both versions already (saveEditsMadeSince).
  const guard = !replaying && saved;
  // A directory that will hold a file this operation writes is not left empty: no removal
  // tries to remove it. A refused rmdir costs an exception (~50 µs): a pop of 1000 patches
  // removed ~70 files and tried 48 directories, 44 of them in vain.
  const filled = new Set<string>();
  for (const [path, , version] of writes) {
    if (version === null) continue;
    for (let at = path.lastIndexOf("/"); at > 0 && !filled.has(path.slice(0, at)); at = path.lastIndexOf("/", at - 1)) filled.add(path.slice(0, at));
  }
  /** Where removing `path`'s emptied directories stops: the nearest one above it that stays filled, or the tree. */
  const keptAbove = (path: string): string => {
    for (let at = path.lastIndexOf("/"); at > 0; at = path.lastIndexOf("/", at - 1)) if (filled.has(path.slice(0, at))) return underRoot(tree, path.slice(0, at));
    return tree;
  };
  /** The file being written or removed: a system error names it by its path in the tree (see TreeDirs.named). */
  let at = "";
  try {
    // Deletions first: they remove emptied directories, which a later write may need again. Each
    // directory's together, as the writes below: a push of 1000 patches entered directories 75 times for ~70 removals.
    for (const [path, was, version] of byDirectory(writes.filter(([, , v]) => v === null))) {
      at = path;
      const name = dirs.enter(path, false);
      if (rollingBack && leftByRollback(path, name, was, version)) {
        statCache.forget(path);
        progress();
        continue;
      }
      if (guard) {
        // lstat: a symlink put there, dangling or not, is the user's and kept (t33 N2).
        const st = statStamp(name, false);
        if (st) keepEditMadeMeanwhile(ctx, path, st, was, version, saved, name);
      }
      removeFile(underRoot(tree, path), keptAbove(path), name);
      statCache.forget(path);
      progress();
    }
    // Each directory's files together: each directory is entered once.
    const pending = byDirectory(writes.filter(([, , v]) => v !== null) as [string, Version, string][]);
    const half = Math.ceil(pending.length / 2);
    for (let i = 0; i < pending.length; i++) {
      const [path, was, version] = pending[i];
      if (i > 0 && i % 256 === 0) {
        dirs.leave();
        await new Promise((resolve) => setImmediate(resolve));
      }
      at = path;
      const name = dirs.enter(path, true);
      const exec = versionExec(version);
      if (rollingBack && leftByRollback(path, name, was, version)) {
        statCache.forget(path);
        progress();
        continue;
      }
      // A replayed journal skips files already written (which also keeps their mtimes, and so
      // build caches, stable); a fresh plan lists only files whose version on disk differs.
      let after = replaying ? fileStat(name) : null;
      if (!(after && statCache.lookup(path, after) === version)) {
        // The file is checked from the stat its write takes anyway: no extra system call.
        after = replaceFile(
          name,
          store.bytesForWrite(versionId(version)!),
          exec,
          guard ? (st) => keepEditMadeMeanwhile(ctx, path, st, was, version, saved, name) : undefined,
        );
      }
      // Where git does not trust the bit (core.fileMode false) it is left as the file system has it, as git leaves it.
      if (((after.mode & 0o111) !== 0) !== exec && execBitsTrusted(tree)) {
        chmodSync(name, exec ? after.mode | 0o111 : after.mode & ~0o111);
        after = fileStat(name)!;
      }
      statCache.record(path, after, version);
      progress();
      if (i + 1 === half) {
        dirs.leave();
        failpoint("tree-half");
      }
    }
  } catch (e) {
    throw dirs.named(e, at);
  } finally {
    dirs.leave();
  }
}

/**
 * The writes with each directory's files together, directories in the order they first come
 * (one pass: a sort's comparisons of ~400 paths cost more than the writes' chdirs it saves).
 */
function byDirectory<T extends [string, ...unknown[]]>(writes: T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const write of writes) {
    const slash = write[0].lastIndexOf("/");
    const dir = slash === -1 ? "" : write[0].slice(0, slash);
    const group = groups.get(dir);
    if (group) group.push(write);
    else groups.set(dir, [write]);
  }
  if (groups.size === 1) return writes;
  const ordered: T[] = [];
  for (const group of groups.values()) for (const write of group) ordered.push(write);
  return ordered;
}

/**
 * The plan checked every file it overwrites (an unrefreshed edit is refused, or saved by
 * --force), but tens of milliseconds pass between that check and the write: an editor's
 * autosave or a build tool may change a file meanwhile (safe-6 #14). Right before it is
 * overwritten, a file is checked again, by its stat against the one pq recorded for the
 * planned version, and read only when that differs; a file that is neither the planned before
 * nor the after version is copied to .pq/backups first, and the command says where.
 */
function keepEditMadeMeanwhile(
  ctx: ExecContext,
  path: string,
  st: FileStat,
  was: Version,
  after: Version,
  saved: { dir?: string },
  /** Where the file is found (see TreeDirs): read there, not again by its path through the tree. */
  name: string,
): void {
  // A directory put there holds no edit of the file: left to the write, which the system refuses.
  if (isDirectory(st)) return;
  // A symlink is no version pq writes: saved as the link it is (t32 F6).
  if (isSymlink(st)) {
    saved.dir = backupFiles(ctx.tree, [path], "changed-during-operation", () => backupOf(name), saved.dir);
    return;
  }
  // The executable bit too: a chmod in the file's own tick keeps every time (t32 F2c, whole-second times).
  const execIs = execMatcher(ctx.tree, st);
  if (was !== null && execIs(was) && ctx.statCache.recordedAs(path, st, was)) return;
  const text = readText(name);
  if (text === null) return;
  const exec = (st.mode & 0o111) !== 0;
  const id = sha1(text);
  if ((id === versionId(was) && execIs(was)) || (id === versionId(after) && execIs(after))) return;
  saved.dir = backupFiles(ctx.tree, [path], "changed-during-operation", () => ({ content: text, exec }), saved.dir);
}

/**
 * Whether a file (its stat) has a version's executable bit. Where git does not trust the file
 * system's bit (core.fileMode false) every bit matches: a chmod there is no edit, as for git.
 */
function execMatcher(tree: string, st: { mode: number }): (v: Version) => boolean {
  if (!execBitsTrusted(tree)) return () => true;
  const exec = (st.mode & 0o111) !== 0;
  return (v) => versionExec(v) === exec;
}

/**
 * An operating-system error (a full disk, a read-only directory) once the journal is durable:
 * the operation is neither before nor after, and the next command completes it from the
 * journal, once the cause is fixed. Said as it is, instead of "nothing was changed".
 */
function halfDone(op: string, e: unknown, how: string, tree: string): unknown {
  // Part of a pq sync (its pops and pushes): the sync is left interrupted too, and has its own ways on (t75 N4).
  const advice = existsSync(statePaths(tree).sync)
    ? [...HALF_DONE_ADVICE, "a pq sync was under way: once the operation is completed, pq sync finishes the sync, or pq sync --abort takes it back"]
    : HALF_DONE_ADVICE;
  // git refusing (a branch it cannot lock, another git's index.lock) once the journal is written
  // leaves the operation as half done as the system refusing does (verify-14 F5): said so, with
  // the way out; the exit code stays git's (11), which says who refused.
  // A directory swapped for a symlink while the tree was written (see TreeDirs) leaves it so too;
  // its own advice says what to fix.
  if (e instanceof PqError && e.code === "unsafe-path") {
    return new PqError(e.code, `${op} ${how}: ${e.message}`, [...e.details, HALF_DONE_ADVICE[1]], { ...e.data, op });
  }
  if (e instanceof PqError && (e.code === "git" || e.code === "system")) {
    return new PqError(e.code, `${op} ${how}: ${e.message}`, [...e.details, ...advice], { ...e.data, op });
  }
  if (systemErrorCode(e) === null) return e;
  const err = e as NodeJS.ErrnoException;
  const cause = causeOf(err);
  return new PqError(
    "damaged",
    `${op} ${how}: ${cause}`,
    advice,
    { op, cause: err.code, file: err.path },
  );
}

/** An operating-system error's code (EPERM, ENOSPC...), or null for anything else. */
function systemErrorCode(e: unknown): string | null {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return !(e instanceof PqError) && typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : null;
}

/**
 * Puts the tree back as it was before `entry`: every file the failed write had changed gets its
 * before version from the store (written as a journal replay is: files already at it are left
 * alone), files it made are removed. False if that fails too.
 */
async function rollBackTree(ctx: ExecContext, entry: OplogEntry, saved: { dir?: string }): Promise<boolean> {
  try {
    await writeTree(
      ctx,
      entry.tree.map(([path, before, after]) => [path, after, before]),
      true,
      undefined,
      saved,
      true,
    );
    ctx.statCache.save();
    return true;
  } catch {
    return false;
  }
}

/** A system error's words without its code, with the path it names. */
const causeOf = (err: NodeJS.ErrnoException) => `${err.message.replace(/^[A-Z]+: /, "")}${err.path && !err.message.includes(err.path) ? ` (${err.path})` : ""}`;

/** `savedIn`: where files changed while it ran were copied before the putting back overwrote them. */
function refusedWhileWriting(op: string, e: unknown, savedIn?: string): PqError {
  const err = e as NodeJS.ErrnoException;
  const cause = causeOf(err);
  const advice: Record<string, string> = {
    EPERM: "the file may be immutable or its directory append-only (lsattr shows it; chattr -i or -a, as root, takes that away)",
    EACCES: "check the permissions of that file and its directory",
    ENOSPC: "free some space",
    EDQUOT: "free some space (a disk quota)",
    EROFS: "mount that file system read-write",
  };
  return new PqError(
    "system",
    savedIn === undefined
      ? `${op} was refused while writing the tree: ${cause}; the files it had written were put back, and nothing was changed`
      : `${op} was refused while writing the tree: ${cause}; the tree was put back as it was before it, and files changed while it ran were saved in ${savedIn} first`,
    [`${advice[err.code ?? ""] ?? "fix the cause"}, then run the command again`],
    { op, cause: err.code, file: err.path },
  );
}

const HALF_DONE_ADVICE = [
  "its journal (.pq/journal.json) holds the whole operation: once the cause is fixed (free space, permissions), any pq command completes it",
  "files changed by hand since are saved in .pq/backups before that, and the command says where",
];

/** What replaying an interrupted operation did: its name, and where edits made since were saved. */
export interface Recovery {
  op: string;
  /** The journal was torn before it was complete: dropped, nothing of it had reached the tree. */
  discarded?: boolean;
  /** Where a dropped journal was kept. */
  kept?: string;
  backups: string[];
  /** Where the operation itself saved the edits it overwrote (pop --force, undo --force), before it was killed. */
  ownBackup?: string;
}

/** Replays an interrupted operation, if there is one. */
export async function recover(ctx: ExecContext): Promise<Recovery | null> {
  const paths = statePaths(ctx.tree);
  if (!existsSync(paths.journal)) return null;
  const text = readText(paths.journal);
  let entry: OplogEntry;
  try {
    entry = JSON.parse(text ?? "") as OplogEntry;
    if (!Array.isArray(entry.tree) || !Array.isArray(entry.state)) throw new Error("not a journal");
  } catch {
    // Torn before it was complete: nothing of it reached the tree (files are written only
    // after the journal is durable), so dropping it loses nothing. Kept aside all the same: a
    // journal damaged otherwise (by hand, by the disk) is looked at, not lost.
    const kept = `${paths.journal}.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(paths.journal, kept);
    return { op: "", discarded: true, backups: [], kept };
  }
  refuseForeignJournal(ctx, entry);
  let backups: string[];
  try {
    backups = await applyEntry(ctx, entry, true);
  } catch (e) {
    throw halfDone(entry.op, e, "was interrupted earlier and cannot be completed now", ctx.tree);
  }
  if (lastOplogId(paths.oplog) !== entry.id) appendOplog(paths.oplog, entry);
  rmSync(paths.queueWritten, { force: true });
  rmSync(paths.journal, { force: true });
  removeDeadTemporaries(paths.dir, () => true);
  // A trash copy's temporary file the kill left (verify-11 Z3): the copy itself was written again above.
  removeDeadTemporaries(join(paths.dir, "trash"), () => true);
  const queueFiles = new Set(["series", ...entry.queue.map(([path]) => path)].map((path) => relative(ctx.queueDir, queueFileTarget(ctx.queueDir, path))));
  removeDeadTemporaries(ctx.queueDir, (name) => queueFiles.has(name));
  return { op: entry.op, backups, ...(entry.backup ? { ownBackup: entry.backup } : {}) };
}



/**
 * Before the journal: every tree path the operation writes or deletes is checked on disk for
 * a parent that is a symlink (a directory replaced by one since a push cache, the log or the
 * stack recorded the path) or a file where a directory must be (an untracked file named like
 * a directory the operation creates). Either is refused with nothing written; once the journal
 * exists, such an obstacle would stop the operation half way.
 */
function refuseBlockedWrites(tree: string, entry: OplogEntry): void {
  const parents = new ParentDirs(tree);
  for (const [path, , after] of entry.tree) {
    const b = parents.blocker(path);
    if (!b) continue;
    if (b.what === "symlink") throw throughSymlink(path, b.at);
    if (after === null) continue; // nothing to delete under a file
    throw new PqError(
      "dirty",
      `${b.at} is a file, and ${entry.op} would create ${path} inside it (a directory there); nothing was changed`,
      [`move ${b.at} away (it is in no patch: git stash -u, or rename it), then run the command again`],
      { file: b.at, blocks: path },
    );
  }
}

/**
 * A journal is pq's own file, but .pq/ can come from elsewhere (a tree copied or unpacked from
 * someone else's): before one is replayed, every path it names must be one pq could have
 * written: tree and queue paths inside their directories, trash copies inside .pq/trash.
 */
/**
 * Where a journal's trash copy goes: its path, inside .pq/trash; or, for a tree moved (mv)
 * since the journal was written, the same place in the tree's trash now (safe-6 #8). Null
 * for a path outside any .pq/trash, which pq never writes.
 */
function trashPath(tree: string, dest: unknown): string | null {
  if (typeof dest !== "string") return null;
  const trashDir = resolve(statePaths(tree).dir, "trash");
  const path = resolve(dest);
  if (path.startsWith(trashDir + sep)) return path;
  const moved = /\/\.pq\/trash\/(.+)$/.exec(path);
  return moved ? join(trashDir, moved[1]) : null;
}

function refuseForeignJournal(ctx: ExecContext, entry: OplogEntry): void {
  const foreign = (why: string) =>
    new PqError("damaged", `.pq/journal.json names ${why}: pq never writes such a journal, so it was not replayed and nothing was changed`, [
      "if you did not expect it (a tree copied from someone else), remove it: rm .pq/journal.json; pq then goes on from .pq/state.json",
    ]);
  const checkers = new Map<string, ParentDirs>();
  const inside = (root: string, path: unknown) => {
    if (typeof path !== "string") return false;
    try {
      checkTreePath("", path, "journal path");
    } catch {
      return false;
    }
    if (!checkers.has(root)) checkers.set(root, new ParentDirs(root));
    const blocker = checkers.get(root)!.blocker(path);
    // A directory replaced by a symlink since pq wrote the journal (safe-6 #8): pq's own journal,
    // which completes once the directory is back; nothing is written through the link meanwhile.
    if (blocker?.what === "symlink") {
      const e = throughSymlink(path, blocker.at);
      throw new PqError(e.code, `an interrupted operation (${entry.op}) cannot be completed: ${e.message}`, [
        `${e.details[0]}; the next command then completes ${entry.op}`,
      ], e.data);
    }
    return true;
  };
  for (const [path] of entry.tree) if (!inside(ctx.tree, path)) throw foreign(`the tree path ${JSON.stringify(path)}`);
  for (const [path] of entry.queue ?? []) if (!inside(ctx.queueDir, path)) throw foreign(`the queue path ${JSON.stringify(path)}`);
  for (const [, dest] of entry.trash ?? []) if (trashPath(ctx.tree, dest) === null) throw foreign(`the trash copy ${JSON.stringify(dest)}`);
}

/** Whether a patch text holds no file change (pq new's patch before its first refresh); unreadable counts as a change. */
function carriesNoChange(text: string): boolean {
  try {
    return parsePatch(text).files.length === 0;
  } catch {
    return false;
  }
}
