/**
 * What every planner gets: the stack's places and caches, the state as read under the
 * lock, and the transaction it fills in. Planners read the queue through the transaction
 * (so an operation built from others, such as import --push, sees its own plan) and never
 * write anything themselves.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, symlinkSync } from "node:fs";
import { failpoint } from "../../core/failpoint.js";
import { dirname, join } from "node:path";
import { PqError } from "../../errors.js";
import { flattenName, resolveName as resolveNameIn } from "../names.js";
import type { EventSink } from "../../core/events.js";
import { insideSubmodule, submoduleFileRefusal, type GitRepo } from "../../git/repo.js";
import { fileStat, readText, sha1, writeText } from "../../tree/files.js";
import { gitDirOf, readHeadCommit } from "../../git/head.js";
import { gitBlobId } from "../../patch/index.js";
import type { ObjectStore } from "../../tree/objects.js";
import type { PushCache, StatCache } from "../caches.js";
import { expectedVersions, versionsBelowStack, type PlanContext } from "../refresh-plan.js";
import { isPushable, type Series } from "../series.js";
import { statePaths, versionId, type AppliedPatch, type StackState, type Version } from "../state.js";
import { appliedNames, type IndexEntry, type Transaction } from "../transaction.js";
import { entriesAt } from "../git-cli.js";
import { operandWords, shellWord, operandList } from "../../core/shell-word.js";
import { diffOf } from "../patch-text.js";

/** A position in the series: a patch name, or a 1-based index (0 = before the first patch). */
export type StackTarget = string | number;

export interface OpContext {
  tree: string;
  queueDir: string;
  /** The state as it was when the lock was taken (the transaction holds the one being planned). */
  state: StackState;
  store: ObjectStore;
  statCache: StatCache;
  pushCache: PushCache;
  emit: EventSink;
  repo(): Promise<GitRepo | null>;
  tx: Transaction;
}

export function planContext(ctx: OpContext, applied: readonly AppliedPatch[] = ctx.tx.state.applied): Promise<PlanContext> {
  return ctx.repo().then((git) => ({ tree: ctx.tree, queueDir: ctx.queueDir, applied, git, store: ctx.store }));
}

export function versionContent(ctx: Pick<OpContext, "store">, v: Version): string | null {
  return v === null ? null : ctx.store.get(versionId(v)!);
}

// The applied patches' names, read without parsing records a push keeps as text (see Transaction.appendAppliedText).
export { appliedNames };

/** Position 0, "nothing applied" (pop 0, goto 0), unless a patch is called "0". */
export function namesNothing(series: Series, target: StackTarget | undefined): boolean {
  return target === 0 || (target === "0" && !series.names().includes("0"));
}

/** What a user typed (a name, a position, a unique part) resolved against the series (names.ts). */
export function resolveName(series: Series, target: StackTarget, opts: { whole?: boolean } = {}): string {
  return resolveNameIn(series.names(), target, series.queuePlace, opts.whole);
}

export function requireTop(state: StackState): AppliedPatch {
  const top = state.applied.at(-1);
  if (!top) throw new PqError("refused", "no patch is applied", ["pq new NAME starts one; pq push applies the next"]);
  return top;
}

export function refuseIfTopNeedsRefresh(state: StackState, what: string, force: boolean | undefined): void {
  const top = state.applied.at(-1);
  if (top?.needsRefresh && !force) {
    throw new PqError(
      "needs-refresh",
      `${top.name} needs a refresh before you can ${what}`,
      ["fix the conflicts or .rej hunks in the tree, then pq refresh (or pq pop --force to drop it)"],
      { patch: top.name, reason: top.needsRefresh },
    );
  }
}

/** Patches after the top that the selected guards let through, in series order. */
export function pushCandidates(state: StackState, series: Series): string[] {
  const applied = new Set(appliedNames(state));
  const entries = series.patchEntries();
  const top = state.applied.at(-1)?.name;
  const start = top ? entries.findIndex((e) => e.name === top) + 1 : 0;
  return entries
    .slice(start)
    .filter((e) => !applied.has(e.name) && isPushable(e, state.guards))
    .map((e) => e.name);
}

/**
 * Where a backup reads a file from, when not from a directory (a version git has staged): null
 * for none. `link`: the path is a symbolic link to that target (kept as a link, not its target's bytes).
 */
export type BackupSource = (path: string) => { content: string; exec: boolean; link?: string } | null;

/** What a backup keeps of the file at `full` (null: none there). */
export function backupOf(full: string): ReturnType<BackupSource> {
  // A symlink put where a file was (t32 F6): kept as the link it is, not as a copy of what it points to.
  if (lstatSync(full, { throwIfNoEntry: false })?.isSymbolicLink()) return { content: "", exec: false, link: readlinkSync(full) };
  const content = readText(full);
  return content === null ? null : { content, exec: ((fileStat(full)?.mode ?? 0) & 0o111) !== 0 };
}

/** Copies files as they are on disk (or as `from` gives them), executable bit included, into .pq/backups/<time>-<label>/; returns the directory. */
export function backupFiles(tree: string, paths: string[], label: string, from: string | BackupSource = tree, into?: string): string {
  const named = into ?? join(statePaths(tree).backups, `${new Date().toISOString().replace(/[:.]/g, "-")}-${flattenName(label)}`);
  // A new backup is written under a ".partial" name and renamed whole once every file is in it: a
  // pq killed half way (before its journal, so the tree is still as it was) left a folder that
  // looked like a backup and lacked files (t149). One added to (`into`) is named already.
  const dir = into ?? `${named}.partial`;
  const read: BackupSource = typeof from === "string" ? (path) => backupOf(join(from, path)) : from;
  const deleted: string[] = [];
  for (const path of paths) {
    const file = read(path);
    if (file === null) {
      deleted.push(path);
      continue;
    }
    if (file.link !== undefined) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      symlinkSync(file.link, join(dir, path));
      continue;
    }
    writeText(join(dir, path), file.content);
    if (file.exec) chmodSync(join(dir, path), 0o755);
    failpoint("backup-file-written");
  }
  // A deletion is an edit too: listed, so the backup the command names exists and says what it holds.
  if (deleted.length) writeText(join(dir, ".pq-deleted-files"), deleted.map((p) => `${p}\n`).join(""));
  if (dir !== named && existsSync(dir)) renameSync(dir, named);
  return named;
}

export async function defaultAuthor(git: GitRepo | null): Promise<string | undefined> {
  // As git commit takes them: each of the two from the environment, else from the configuration (t62 N4).
  const fromEnv = (value: string | undefined) => value?.trim() || "";
  let name = fromEnv(process.env.GIT_AUTHOR_NAME);
  let email = fromEnv(process.env.GIT_AUTHOR_EMAIL);
  if ((!name || !email) && git) {
    // Both keys from one git (each `git config KEY` was a process of its own): the last value
    // of each wins, as `git config KEY` answers.
    let listed = "";
    try {
      listed = await git.run(["config", "-z", "--get-regexp", "^user\\.(name|email)$"]);
    } catch {
      listed = ""; // neither is set
    }
    for (const entry of listed.split("\0")) {
      const cut = entry.indexOf("\n");
      const key = cut === -1 ? entry : entry.slice(0, cut);
      const value = cut === -1 ? "" : entry.slice(cut + 1).trim();
      if (key === "user.name" && !fromEnv(process.env.GIT_AUTHOR_NAME)) name = value;
      else if (key === "user.email" && !fromEnv(process.env.GIT_AUTHOR_EMAIL)) email = value;
    }
  }
  return name && email ? `${name} <${email}>` : undefined;
}

/**
 * The paths whose file at HEAD is not the given version (compared as git blob ids, so git
 * reads no file). A path found equal at HEAD commit C stays so while HEAD is C: the answer
 * is kept in the stat cache (unless `remember` is false, for dry runs), so a warm push or
 * pop starts no git at all. A path HEAD does not have agrees only with no file.
 */
export async function differFromHead(ctx: OpContext, wanted: Map<string, Version>, opts: { remember: boolean }): Promise<string[]> {
  const headCommit = readHeadCommit(ctx.tree);
  const key = (path: string) => `\0head/${path}`;
  const verdict = (path: string) => `${headCommit} ${wanted.get(path)}`;
  // A verdict with " m" after it also found the mode HEAD's (see push's modeApartFromHead).
  const unverified = [...wanted.keys()].filter((path) => {
    if (headCommit === null) return true;
    const known = ctx.statCache.lookupKey(key(path));
    return known !== verdict(path) && known !== `${verdict(path)} m`;
  });
  if (!unverified.length) return [];
  const git = await ctx.repo();
  const head = git ? await git.headBlobIds(unverified, headCommit ?? undefined) : null;
  if (!head) return [];
  const unlikeBlob = unverified.filter((path) => (head.get(path) ?? null) !== blobIdOf(ctx, path, wanted.get(path)!));
  // A file git converts (eol=crlf, core.autocrlf, a filter driver) holds other bytes than its
  // blob: its version is HEAD's file when git would store it as HEAD's blob.
  const comparable = unlikeBlob.filter((path) => head.get(path) && versionId(wanted.get(path)!) !== null);
  const sameOnceCleaned = new Set<string>();
  for (const path of comparable.length ? await git!.convertedPaths(comparable) : []) {
    if ((await git!.cleanBlobId(contentOf(ctx, path, wanted.get(path)!), path)) === head.get(path)) sameOnceCleaned.add(path);
  }
  // A file HEAD does not have that git ignores (a generated configure or aclocal.m4 a release
  // tarball ships and upstream's .gitignore lists, patched by Debian's queue): no commit can
  // have changed it, so it is taken as it is on disk, as quilt takes it.
  const absent = unlikeBlob.filter((path) => !head.get(path) && versionId(wanted.get(path)!) !== null);
  const ignored = absent.length ? await git!.ignoredPaths(absent) : new Set<string>();
  const differing = unlikeBlob.filter((path) => !sameOnceCleaned.has(path) && !ignored.has(path));
  if (headCommit !== null && opts.remember) for (const path of unverified) if (!differing.includes(path)) ctx.statCache.recordKey(key(path), verdict(path));
  return differing;
}

/**
 * Which of `paths` have a change staged in git's index (a git add of an edit the work tree
 * has since lost, or a git rm of a file still there): the work tree alone does not show it.
 * git is asked only when the index file changed since it was last found with nothing staged
 * (its stamp is kept in the stat cache unless `remember` is false), so a warm push starts no git.
 */
export async function stagedAmong(ctx: OpContext, paths: string[], opts: { remember: boolean }): Promise<string[]> {
  if (!paths.length) return [];
  const index = indexStamp(ctx);
  if (index === null) return []; // no index: nothing staged
  if (ctx.statCache.lookupKey("\0index/nothing-staged") === index.stamp) return [];
  const asked = stagedAsked.get(ctx);
  const staged = asked?.stamp === index.stamp ? await asked.staged : await askStaged(ctx, index.head);
  if (staged === null) return [];
  if (!staged.size && opts.remember) ctx.statCache.recordKey("\0index/nothing-staged", index.stamp);
  return paths.filter((p) => staged.has(p));
}

/**
 * Refuses a path of `paths` that lies inside a submodule (a gitlink of the index): see
 * submoduleFileRefusal. git is asked only when the index changed since it was last found with
 * none, as stagedAmong asks, so a warm push starts no git.
 */
export async function refuseInsideSubmodule(ctx: OpContext, paths: Iterable<string>, patchOf: (path: string) => string | undefined, remember: boolean): Promise<void> {
  const list = [...paths].filter((p) => p.includes("/"));
  if (!list.length) return;
  const index = indexStamp(ctx);
  if (index === null || ctx.statCache.lookupKey("\0index/no-submodules") === index.stamp) return;
  const git = await ctx.repo();
  if (!git) return;
  const links = await git.gitlinks();
  if (!links.size) {
    if (remember) ctx.statCache.recordKey("\0index/no-submodules", index.stamp);
    return;
  }
  for (const path of list) {
    const submodule = insideSubmodule(path, links);
    if (submodule !== undefined) throw submoduleFileRefusal(path, submodule, patchOf(path));
  }
}

/** The index file's stamp under HEAD (null: no index), as stagedAmong remembers it, and the HEAD commit in it. */
function indexStamp(ctx: OpContext): { stamp: string; head: string | null } | null {
  const gitDir = gitDirOf(ctx.tree);
  const st = gitDir === null ? null : fileStat(join(gitDir, "index"));
  const head = readHeadCommit(ctx.tree);
  return st ? { stamp: `${head} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino}`, head } : null;
}

/**
 * The staged paths against the commit the stamp names, not whatever HEAD is when git runs:
 * another shell's checkout away and back meanwhile must not file one commit's answer under
 * another's stamp (verify-12 F3).
 */
const askStaged = (ctx: OpContext, head: string | null): Promise<Set<string> | null> =>
  ctx.repo().then((git) => git?.stagedPaths(head ?? undefined) ?? null);

/** Staged paths asked for ahead (see askGitAhead), with the index stamp they were asked under. */
const stagedAsked = new WeakMap<OpContext, { stamp: string; staged: Promise<Set<string> | null> }>();

/**
 * Starts what a push that applies patches asks git at its end (the repository, HEAD's blobs, and
 * the staged paths unless the index is known to have none), so that git runs on another core while the
 * patches are applied: in a fresh clone a cold push of a thousand patches otherwise waited
 * some 50 ms for them after its work. A failure is met again, and said, when the answer is awaited.
 */
export function askGitAhead(ctx: OpContext): void {
  ctx.repo().then((git) => git?.listHeadBlobsAhead(), () => undefined);
  const index = indexStamp(ctx);
  if (index === null || ctx.statCache.lookupKey("\0index/nothing-staged") === index.stamp) return;
  const staged = askStaged(ctx, index.head);
  staged.catch(() => undefined);
  stagedAsked.set(ctx, { stamp: index.stamp, staged });
}

/**
 * Plans putting these tree paths' index entries back to HEAD's (git reset -- paths) as part
 * of the transaction: a kill cannot leave it out, and undo stages them again.
 */
export async function planUnstage(ctx: OpContext, paths: string[]): Promise<void> {
  if (!paths.length) return;
  const git = await ctx.repo();
  if (!git) return;
  const head = await git.readRef("HEAD");
  const repoPaths = paths.map((p) => git.prefix + p);
  const current = await git.indexEntries(repoPaths);
  const atHead = head ? entriesAt(ctx.tree, git.prefix, head, paths) : new Map<string, { mode: string; blob: string }>();
  const index = paths
    .map((p, i): [string, IndexEntry, IndexEntry] => {
      const h = atHead.get(p);
      return [repoPaths[i], current.get(repoPaths[i]) ?? null, h ? `${h.mode} ${h.blob}` : null];
    })
    .filter(([, before, after]) => before !== after);
  if (!index.length) return;
  if (ctx.tx.git) ctx.tx.git.index.push(...index);
  else ctx.tx.git = { ref: await git.headRef(), from: head ?? "0".repeat(40), to: head ?? "0".repeat(40), index, indexOnly: true };
}

/** git's blob id for a stored version (null for no file). */
export function blobIdOf(ctx: Pick<OpContext, "store" | "tree">, path: string, version: Version): string | null {
  return versionId(version) === null ? null : gitBlobId(contentOf(ctx, path, version));
}

/** A file version's bytes (from the store, else the file on disk it was taken from). */
function contentOf(ctx: Pick<OpContext, "store" | "tree">, path: string, version: Version): string {
  const id = versionId(version)!;
  return ctx.store.has(id) ? ctx.store.get(id) : (readText(join(ctx.tree, path)) ?? "");
}

/**
 * Refuses an operation over applied patches whose file changed in the queue since they were
 * pushed (a pull, a hand edit): `doing` says what it would do with that version. refresh and
 * remove refused so already; fold rewrote the top patch from the tree and finish committed the
 * version applied, each dropping the queue's without a word (t44 N7).
 */
export function refuseChangedInQueue(ctx: OpContext, records: readonly AppliedPatch[], doing: string, after: string): void {
  const changed = records.filter((r) => {
    const text = ctx.tx.queueFile(r.name);
    return text !== null && sha1(text) !== r.hash;
  });
  if (!changed.length) return;
  const names = changed.map((r) => r.name);
  const lowest = ctx.tx.state.applied.findIndex((r) => r.name === names[0]);
  const popTo = lowest <= 0 ? "pq pop -a" : `pq goto ${operandWords(ctx.tx.state.applied[lowest - 1].name)}`;
  throw new PqError(
    "dirty",
    `${names.join(", ")} changed in the queue since ${names.length === 1 ? "it was" : "they were"} pushed (a pull, or an edit by hand); ${doing}`,
    [`${popTo}, then pq push back up, applies the queue's version (your unrefreshed edits to it: pq pop --force saves them in .pq/backups); then ${after}`],
    { patches: names },
  );
}

/**
 * A patch name that is a directory in the queue (of patches, as debian/patches/debian/ holds,
 * or the one the patch being renamed is alone in): refused before anything is planned. Written
 * as the journal's step, `rename sub/x.patch sub` stopped half way and wedged every command (t57 N8).
 */
export function refuseDirectoryName(queueDir: string, name: string): void {
  if (lstatSync(join(queueDir, name), { throwIfNoEntry: false })?.isDirectory())
    throw new PqError("exists", `${join(queueDir, name)} is a directory: a patch name cannot also be a directory of patches`, ["pick another name"], {
      patch: name,
    });
}

/**
 * Of `files`, those back exactly as they were below the whole applied stack while the stack
 * changes them: the patches' changes taken away (a git stash, git reset --hard, git checkout --
 * FILE), no edit a refresh could keep. push, pop and fold had sent the user to pq refresh, which
 * refuses then (t102 N1).
 */
export function revertedBelowStack(ctx: OpContext, files: readonly string[]): string[] {
  const below = versionsBelowStack(ctx.tx.state.applied);
  const after = expectedVersions(ctx.tx.state.applied);
  // As on disk: a push asks with the pushed patch's version already planned over it.
  return files.filter((p) => below.has(p) && after.get(p) !== below.get(p) && versionOnDisk(ctx, p) === below.get(p));
}

/** A file's version as on disk, where the working set read it, else as it has it (a planned write over it is not the disk's). */
export function versionOnDisk(ctx: OpContext, path: string): Version {
  const seen = ctx.tx.ws.diskVersion(path);
  return seen === undefined ? ctx.tx.ws.version(path) : seen;
}

/** The refusal over files whose changes are gone (see revertedBelowStack), for `doing` ("the push", "the pop", "the fold"). */
export function changesGoneFrom(tree: string, files: readonly string[], doing: string): PqError {
  const list = `${files.slice(0, 8).join(", ")}${files.length > 8 ? ", ..." : ""}`;
  return new PqError(
    "dirty",
    `the applied patches' changes to ${list} are gone from the tree, each as it was below the stack (a git stash, git reset --hard or git checkout -- FILE?): ${doing} would take that for an edit`,
    [
      `after git stash, git stash pop puts them back; else pq revert ${operandList(files)} does; then run the command again`,
    ],
    { files: [...files], pathsFrom: tree },
  );
}

/**
 * Edits set aside around a command that changes their files, and put back after it. Not git
 * stash: it takes the applied patches' changes too (they are work-tree changes), and its pop
 * refuses over a file the command changed (t118 N1); a diff of the files alone applies over
 * the command's change where the two do not touch.
 */
export function setAsideAdvice(files: readonly string[], command: string): string {
  const named = files.map(shellWord).join(" ");
  return `set them aside: git diff -- ${named} > mine.diff, git checkout -- ${named}; then ${command}, and git apply mine.diff puts them back (git apply --reject mine.diff where they overlap its change: what does not fit goes to .rej files)`;
}

/**
 * Whether a patch file's `text` differs from the text stored as `hash` (the version pushed) in its
 * header alone: a description or DEP-3 field edited by hand (Forwarded:), as quilt users do. Its
 * diff is the same change, so a refresh keeps that header and takes the tree's changes (t145 N18),
 * and an undo or redo puts it on as the same change (t146 N4). False when the store has no copy.
 */
export function headerEditOnly(store: ObjectStore, hash: string, text: string): boolean {
  try {
    return store.present(hash) && diffOf(store.get(hash)) === diffOf(text);
  } catch {
    return false;
  }
}
