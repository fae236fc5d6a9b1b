/**
 * What a refresh of the top patch would write: which files changed against the versions
 * the patch started from (or, for files it does not own yet, against what the patches
 * below or HEAD left), and the resulting diff. Read-only: `pq diff` and `pq status` use
 * it as it is, `pq refresh` then records it.
 */
import { isDirectory, isRegular, stampOrNone } from "../tree/stat.js";
import { QUILT_STATE_DIR, queueInTree } from "../tree/paths.js";
import { realpathSync } from "node:fs";
import { join } from "node:path";
import { insideSubmodule, nestedRepositoryOf, nestedRepositoryRefusal, submoduleFileRefusal, type GitRepo } from "../git/repo.js";
import type { ObjectStore } from "../tree/objects.js";
import { refuseNonUtf8Name } from "../patch/paths.js";
import { PqError } from "../errors.js";
import { entriesAt } from "./git-cli.js";
import { buildPatchDiff, textHunkPaths } from "./refresh-diff.js";
import { applyFilePatch, bestMove, filePatchBetween, pairMoves, reverseFilePatch, sameFileMoved } from "../patch/index.js";
import { stagedModeAlone } from "./exec-bits.js";
import { execBitsTrusted } from "../git/head.js";
import { gitBlobId } from "../patch/create.js";
import { queueVersioned } from "../git/tracked.js";
import { makeVersion, pathMap, versionId, type AppliedPatch, type FileChange, type Version } from "./state.js";
import type { WorkingSet } from "./workset.js";
import { restoreLostVersion } from "./lost-versions.js";
import { fileStat, readText } from "../tree/files.js";
import { readQueueText } from "./names.js";

export interface PlanContext {
  tree: string;
  queueDir: string;
  applied: readonly AppliedPatch[];
  git: GitRepo | null;
  store: ObjectStore;
}

export interface RefreshPlan {
  diff: string;
  files: Record<string, FileChange>;
  /** Files whose changes are not in the top patch yet. */
  changed: string[];
  /** Untracked files the refresh does not take (pq add them). */
  untracked: string[];
  /** Changed files git tracks that are no regular files (a re-pointed symlink), which no patch holds: left out, not refused. */
  notFiles: string[];
  /** Changed files of a Debian queue's packaging (debian/, beside debian/patches), which no patch holds: left out (see packagingPaths). */
  packaging: string[];
  /** Files of the refreshed patch that git's index has staged (git add, rm, mv): unstaged once in the patch. */
  staged: string[];
  /**
   * Files of the patch whose staged version is not the work tree's (staged, then edited
   * again): the patch takes the work tree's, so the staged one is left staged, never dropped.
   */
  stagedApart: string[];
  /** The renames the patch writes: the ones it had, and files moved with git mv since (from, to). */
  renames: [string, string][];
  /** Untracked files taken as the new name of a file moved with mv (see movesGitCannotStage): said, as a pq add would be. */
  takenUntracked?: string[];
  /** `pq refresh FILES`: changed files not named, left unrefreshed (see takeOnly). */
  notTaken?: string[];
  /** `pq refresh FILES`: what the refresh found before it kept the named files alone, the whole tree's view (changesGone judges that). */
  whole?: Pick<RefreshPlan, "files" | "changed" | "renames">;
  /** Files git's index holds unresolved conflicts for (a pull, a merge or a stash pop that stopped): a refresh refuses while they are there. */
  unmerged?: string[];
}

/** For every path touched by applied patches: the version the topmost one left. */
export function expectedVersions(applied: readonly AppliedPatch[]): Map<string, Version> {
  const expected = new Map<string, Version>();
  for (const record of applied) for (const [path, change] of Object.entries(record.files)) expected.set(path, change.post);
  return expected;
}

/** For every path touched by applied patches: the version below the whole stack (the lowest one's pre-image). */
export function versionsBelowStack(applied: readonly AppliedPatch[]): Map<string, Version> {
  const below = new Map<string, Version>();
  for (const record of applied) for (const path in record.files) if (!below.has(path)) below.set(path, record.files[path].pre);
  return below;
}

/**
 * The applied patches' changes all gone from the tree: every file they change is again as it
 * was below the whole stack (a git reset --hard, git checkout or git stash took them), or, edited
 * since, holds none of their changes, one file at least being exactly as it was (t50 N11). A
 * refresh would make the top patch revert the lower ones (t44 N2). Only when all of them are
 * gone, and a lower patch's among them: a top patch that sets one line of a lower patch back,
 * or deletes a file one made, on purpose, is an edit like any other (t45 N1).
 */
/** The applied patches' changes gone from the tree (see changesGone). */
export interface ChangesGone {
  files: string[];
  /** The patches below the top whose changes are gone: a refresh would make the top revert them. */
  patches: string[];
  /** Files edited since their changes went. */
  edited?: string[];
  /** Only these files, which the top patch does not change, are back as below the stack, beside other work: pq revert puts them back. */
  checkedOut?: true;
  /** Only the top patch's changes are gone (no patch below it has any), each file exactly as below the stack: a refresh would take them out of it. */
  topOnly?: true;
}

export function changesGone(
  applied: readonly AppliedPatch[],
  plan: Pick<RefreshPlan, "changed" | "files" | "renames">,
  /** A version's text: with it, a file edited since its changes went (a reset, then work) counts too (t50 N11). */
  textOf?: (v: Version, path: string) => string | null,
): ChangesGone {
  const none = { files: [], patches: [] };
  if (!applied.length || !plan.changed.length) return none;
  const below = versionsBelowStack(applied);
  const expected = expectedVersions(applied);
  // A file the patches create is one git does not track: a reset --hard or a stash leaves it
  // as the patches left it (t49 N1: the check never fired with one in the stack). Still there
  // as the stack has it, it says nothing either way.
  const createdAndKept = (path: string) => below.get(path) === null && (plan.files[path] === undefined || plan.files[path].post === expected.get(path));
  // A file of the stack moved (the refresh writes it as a rename) is work, not a reset.
  if (plan.renames.some(([from, to]) => plan.files[from]?.post === null && plan.files[to]?.post != null && expected.has(from))) return none;
  const stackChanges = [...expected].filter(([path, version]) => version !== below.get(path) && !createdAndKept(path)).map(([path]) => path);
  if (!stackChanges.length) return none;
  const gone = (path: string) =>
    plan.files[path] !== undefined &&
    (plan.files[path].post === below.get(path) || (textOf !== undefined && changesAbsent(applied, path, plan.files[path].post, textOf)));
  if (!stackChanges.every(gone)) return lowerFilesCheckedOut(applied, plan, stackChanges, below);
  // A reset shows as files back exactly as they were: one at least, else a top patch that rewrote
  // the stack's only files (taking a lower patch's lines out with the rest) is work, not a reset.
  if (!stackChanges.some((path) => plan.files[path].post === below.get(path))) return none;
  const lower = applied.slice(0, -1).filter((record) => stackChanges.some((path) => record.files[path] !== undefined && record.files[path].pre !== record.files[path].post));
  // Only the top patch's own changes, every file that was there below the stack back exactly
  // as it was: the refresh would take them out of it (t90 N1: one patch applied, a git reset
  // --hard went unsaid and the refresh emptied the patch; t92 N1: a file it made, which the
  // reset leaves, kept that unsaid). Edited since, it is work like any other. (Files it made,
  // gone, are what status's filesGone says: a git clean, or a move the refresh takes.)
  // Files it made count as back as below when gone, once a file that was there is back too: a
  // git checkout with a git clean -fd (or git stash -u) emptied the patch, exit 0 (t125 N15). A made
  // file gone alone stays a deletion the refresh takes (rm, then refresh).
  if (!lower.length)
    return stackChanges.every((path) => plan.files[path].post === below.get(path)) && stackChanges.some((path) => below.get(path) !== null)
      ? { files: stackChanges.sort(), patches: [], topOnly: true }
      : none;
  // Those edited since their changes went: a pop overwrites them (pop --force backs them up).
  const edited = stackChanges.filter((path) => plan.files[path].post !== below.get(path)).sort();
  return { files: stackChanges.sort(), patches: lower.map((record) => record.name), ...(edited.length ? { edited } : {}) };
}

/**
 * Files a lower patch changes back exactly as below the stack while the rest of the stack's
 * changes stay: the signature of a `git checkout -- FILE` (t96 N3: the refresh wrote a revert of
 * the lower patch into the top one without a word; t97 N1: also where the top patch changes the file). A file a lower patch made, gone,
 * is what filesGone says (a git clean, a deletion the refresh takes), and a line of a lower patch
 * set back by hand is an edit like any other (t45 N1): only a whole file back as below is a checkout.
 */
function lowerFilesCheckedOut(
  applied: readonly AppliedPatch[],
  plan: Pick<RefreshPlan, "files">,
  stackChanges: string[],
  below: Map<string, Version>,
): ChangesGone {
  // A lower patch's change to the file is what the checkout took (t97 N1: a file the top patch changes too counts).
  const changes = (record: AppliedPatch, path: string) => record.files[path] !== undefined && record.files[path].pre !== record.files[path].post;
  const lower = applied.slice(0, -1);
  const files = stackChanges
    .filter((path) => lower.some((record) => changes(record, path)) && below.get(path) != null && plan.files[path]?.post === below.get(path))
    .sort();
  if (!files.length) return { files: [], patches: [] };
  const patches = lower.filter((record) => files.some((path) => changes(record, path))).map((record) => record.name);
  return { files, patches, checkedOut: true };
}

/** A version's text, as a working set sees it: the tree's file for the version it holds, else the store's copy. */
export function versionText(ws: WorkingSet, store: ObjectStore): (v: Version, path: string) => string | null {
  return (v, path) => (v === null ? null : ws.version(path) === v ? ws.content(path) : store.get(versionId(v)!));
}

/**
 * Whether none of the applied patches' changes to `path` is in the file as it is now (`now`):
 * each, taken out, does not fit (its result lines are not there) and, put in, does (its context
 * is), with an offset or fuzz as the edits made since moved lines. An insertion alone fits again
 * wherever its context is, so the first test is the one that tells. A file some change is still
 * in, or one pq cannot read, is not.
 */
function changesAbsent(applied: readonly AppliedPatch[], path: string, now: Version, textOf: (v: Version, path: string) => string | null): boolean {
  try {
    const text = textOf(now, path);
    if (text === null) return false;
    for (const record of applied) {
      const change = record.files[path];
      if (!change || change.pre === change.post) continue;
      const [pre, post] = [textOf(change.pre, path), textOf(change.post, path)];
      if (pre === null || post === null) return false; // a file made or deleted: back is back, changed is not
      const file = filePatchBetween(path, pre, post);
      if (!file) continue; // a mode change alone
      if (applyFilePatch(text, reverseFilePatch(file)).ok) return false;
      if (!applyFilePatch(text, file).ok) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Changed files the applied patches leave in the tree that are gone from it (git clean -fd
 * removes the files they create, which git calls untracked): pq revert puts them back, where a
 * refresh takes their deletion into the top patch (t44 N6).
 */
export function filesGone(applied: readonly AppliedPatch[], plan: Pick<RefreshPlan, "changed" | "files">): string[] {
  if (!plan.changed.length) return [];
  const expected = expectedVersions(applied);
  return plan.changed.filter((path) => plan.files[path]?.post === null && (expected.get(path) ?? null) !== null);
}

/** The version of a path below applied patch `below` (exclusive): a lower patch's result, else HEAD's. */
export async function baselineVersion(ctx: PlanContext, path: string, below: number): Promise<Version> {
  for (let i = below - 1; i >= 0; i--) {
    const change = ctx.applied[i].files[path];
    if (change) return change.post;
  }
  return headVersion(ctx, path);
}

/** The version of a path in HEAD (stored, with HEAD's executable bit), or null when HEAD has no such file. */
async function headVersion(ctx: PlanContext, path: string): Promise<Version> {
  const head = ctx.git ? ((await ctx.git.headContents([path], true, (p) => readText(join(ctx.tree, p)))).get(path) ?? null) : null;
  return head === null ? null : makeVersion(ctx.store.put(head), headModes(ctx, [path]).get(path)?.mode === "100755");
}

/**
 * HEAD's modes of `paths` (one git ls-tree), empty without a commit: a version from HEAD carries
 * its executable bit, or a `chmod -x` of a file HEAD has as 100755 read as no change (t34 F3:
 * pq status did not list it, and pq refresh left it out of the patch).
 */
function headModes(ctx: PlanContext, paths: string[]): Map<string, { mode: string }> {
  if (!ctx.git || !paths.length) return new Map();
  try {
    return entriesAt(ctx.tree, ctx.git.prefix, "HEAD", paths);
  } catch {
    return new Map(); // no commit yet
  }
}

/** pq's state and the queue directory (when it lives in the tree) are never part of a patch. */
export function isPqOwnPath(ctx: Pick<PlanContext, "tree" | "queueDir">, path: string): boolean {
  return pqOwnPaths(ctx)(path);
}

/** isPqOwnPath for many paths: the queue's place in the tree worked out once. */
function pqOwnPaths(ctx: Pick<PlanContext, "tree" | "queueDir">): (path: string) => boolean {
  const queue = queueInTree(ctx.tree, ctx.queueDir) ?? "";
  const inTree = queueInTree(ctx.tree, ctx.queueDir) !== null;
  return (path) =>
    path === ".pq" ||
    path.startsWith(".pq/") ||
    // quilt's leftovers (.pc/.version, .quilt_patches) after quilt pop -a: no untracked files of the user's (interop-17 F7).
    path === QUILT_STATE_DIR ||
    path.startsWith(QUILT_STATE_DIR + "/") ||
    (inTree && (queue === "" ? path === "series" : path === queue || path.startsWith(queue + "/")));
}

/**
 * A Debian queue's packaging: with the queue at debian/patches, the files of debian/ are the
 * package's, not upstream's, and dpkg-source keeps them out of the patches. A refresh that
 * takes every changed file, as hg's qrefresh does, took a `dch` edit of debian/changelog into
 * the upstream patch on top, and the next pop took it out of the changelog (t38 F1): left out,
 * unless a patch has the file already or pq add gives it one.
 */
function packagingPaths(ctx: Pick<PlanContext, "tree" | "queueDir">): (path: string) => boolean {
  const debian = queueInTree(ctx.tree, ctx.queueDir) === "debian/patches";
  return (path) => debian && path.startsWith("debian/");
}

/** A refresh over files git's index has unresolved conflicts for (see RefreshPlan.unmerged). */
export function unresolvedInGit(files: string[]): PqError {
  return new PqError(
    "conflict",
    `${files.slice(0, 8).join(", ")}${files.length > 8 ? ", ..." : ""} ${files.length === 1 ? "has" : "have"} unresolved conflicts in git's index (a git pull, merge or stash pop stopped there): a refresh would take git's conflict markers into the patch`,
    [
      "resolve them (edit the marked places, or git checkout --ours/--theirs FILE), then git add them, then pq refresh",
      "a git stash pop that stopped keeps the stash: git stash list shows it, git stash drop once resolved",
    ],
    { files },
  );
}

/**
 * `preview`: for pq status, which reports what a refresh would take and never refuses for it;
 * it stores nothing and builds no diff (`diff` is empty).
 */
/**
 * `only`: the files the caller shows of the plan (pq diff FILE...): a name no patch can carry is
 * refused only among them.
 */
export async function planRefresh(
  ctx: PlanContext,
  ws: WorkingSet,
  top: AppliedPatch,
  opts: {
    preview?: boolean;
    only?: ReadonlySet<string>;
    alsoTextIn?: string[];
    /**
     * `pq refresh FILES`: the changes of these files alone are taken (a rename's two names go
     * together); the patch keeps its other files as last refreshed and their edits stay unrefreshed.
     */
    takeOnly?: ReadonlySet<string>;
  } = {},
): Promise<RefreshPlan> {
  const below = ctx.applied.indexOf(top);
  const candidates = new Set(Object.keys(top.files));
  const status = ctx.git
    ? await ctx.git.changedAndUntrackedFiles()
    : { changed: [], untracked: [], staged: [], stagedApart: [], renames: [] as [string, string][], unmerged: [] as string[] };
  for (const p of status.changed) candidates.add(p);
  // Files that lower patches created are untracked in git: check every file the stack knows.
  for (const p of expectedVersions(ctx.applied).keys()) candidates.add(p);
  // What the patches below left of each file, found in one pass (asked per file, a
  // thousand-patch stack walked down the stack for each of its hundreds of files).
  const lower = expectedVersions(ctx.applied.slice(0, below));
  const files = pathMap<FileChange>();
  let changed: string[] = [];
  const renamed = (path: string) => (top.renames ?? []).some((r) => r.includes(path));
  const isOwn = pqOwnPaths(ctx);
  const isPackaging = packagingPaths(ctx);
  const packaging: string[] = [];
  const stackKnows = new Set([...Object.keys(top.files), ...expectedVersions(ctx.applied).keys()]);
  const notFiles: string[] = [];
  /** Changed files a refresh of named files leaves unrefreshed. */
  const notTaken: string[] = [];
  // HEAD's content of the changed files no patch has touched, in one git run (not one per file).
  const needHead = [...candidates].filter((p) => !top.files[p] && !lower.has(p) && !isOwn(p));
  const heads = ctx.git && needHead.length ? await ctx.git.headContents(needHead, true, (p) => readText(join(ctx.tree, p))) : new Map<string, string | null>();
  const modes = headModes(
    ctx,
    needHead.filter((p) => heads.get(p) != null),
  );
  for (const path of [...candidates].sort()) {
    if (isOwn(path)) continue;
    if (isPackaging(path) && !stackKnows.has(path)) {
      packaging.push(path);
      continue;
    }
    // A changed symlink (or other non-file) git tracks and no patch touches: pq's patches hold
    // regular files only, so it is left out and said, as an untracked file is, not a refusal of the whole refresh.
    if (!stackKnows.has(path) && !isRegularOrMissing(join(ctx.tree, path))) {
      notFiles.push(path);
      continue;
    }
    // A symlink git tracks, held as a plain file with the link's target for text where git makes
    // no links (core.symlinks = false: Windows, some shared folders): still a link to git, whose
    // next commit keeps it one. Taken as a file, it went into the patch and finish made it one (t99 N1).
    if (!stackKnows.has(path) && modes.get(path)?.mode === "120000") {
      notFiles.push(path);
      continue;
    }
    // A symlink git tracks and the tree no longer has: its deletion is no regular file's (a pop
    // would put back a file holding the link's target name). Left out the same way.
    if (!stackKnows.has(path) && ctx.git && !stampOrNone(join(ctx.tree, path), false)) {
      let mode: string | undefined;
      try {
        mode = entriesAt(ctx.tree, ctx.git.prefix, "HEAD", [path]).get(path)?.mode;
      } catch {
        mode = undefined; // no commit yet
      }
      if (mode === "120000") {
        notFiles.push(path);
        continue;
      }
    }
    if (opts.preview && path.includes("\ufffd")) {
      changed.push(path); // shown as a change a refresh would have to take (and refuses to)
      continue;
    }
    const mine = top.files[path];
    // Names pq refuses are judged where the file is taken: a refresh of named files judges the others below, once their renames are known.
    const judged = !opts.takeOnly || takes(opts.takeOnly, path);
    if (judged) refuseNonUtf8Name(path, "changed in the tree");
    const head = heads.get(path) ?? null;
    const pre = mine ? mine.pre : lower.has(path) ? lower.get(path)! : head === null ? null : makeVersion(ctx.store.put(head), modes.get(path)?.mode === "100755");
    const now = opts.preview ? ws.version(path) : ws.preserve(path);
    if (mine ? mine.post !== now : pre !== now) changed.push(path);
    // Unchanged files drop out, except ones the patch tracks (pq add) or renames.
    if (pre !== now || mine || renamed(path)) {
      // A name pq push refuses is not taken into a patch (one that holds it already, made by
      // an older pq, keeps it: verify-13 N6); among the files shown only, when some are named.
      if (!mine && !opts.preview && judged && (!opts.only || opts.only.has(path))) refuseBackslashName(path);
      files[path] = { pre, post: now };
    }
  }
  const untrackedAll = status.untracked.filter((p) => !candidates.has(p) && !isOwn(p) && !isPackaging(p));
  // An untracked symlink is no file pq add could take: said with the other non-files, but for
  // one that is the queue directory by another name (patches -> debian/patches: t42 N6).
  const untracked = untrackedAll.filter((p) => isRegularOrMissing(join(ctx.tree, p)));
  notFiles.push(...untrackedAll.filter((p) => !untracked.includes(p) && !namesQueue(ctx, p)));
  // A file moved with git mv (and maybe edited) is written as a rename, as git diff -M, hg and
  // StGit write it, not as a deletion and a whole new file: the patch shows what changed.
  const renames = [...(top.renames ?? [])];
  const inRename = new Set(renames.flat());
  for (const [from, to] of status.renames) {
    if (inRename.has(from) || inRename.has(to)) continue;
    if (files[from]?.post !== null || files[from].pre === null || files[to]?.pre !== null || files[to].post === null) continue;
    renames.push([from, to]);
    inRename.add(from).add(to);
  }
  const takenUntracked: string[] = [];
  const takeUntracked = (path: string) => {
    files[path] = { pre: null, post: opts.preview ? ws.version(path) : ws.preserve(path) };
    changed.push(path);
    untracked.splice(untracked.indexOf(path), 1);
    takenUntracked.push(path);
  };
  const moved = movesGitCannotStage(ctx, ws, top, files, lower, inRename, untracked, takeUntracked);
  // A rename of the top's whose new name now holds another file (moved on, its name reused: t52 N16).
  for (const stale of moved.stale) renames.splice(renames.findIndex((r) => r[0] === stale[0] && r[1] === stale[1]), 1);
  for (const pair of moved.pairs) {
    renames.push(pair);
    inRename.add(pair[0]).add(pair[1]);
  }
  // `pq refresh FILES`: what was found of the other files goes back to what the patch recorded.
  const keep = opts.takeOnly ? withRenamePartners(opts.takeOnly, renames) : null;
  const whole = keep ? { files: pathMap(Object.entries(files)), changed: [...changed], renames: [...renames] } : undefined;
  if (opts.takeOnly && keep) changed = narrowToNamed(top, opts.takeOnly, keep, { files, changed, renames, takenUntracked, untracked, notTaken }, opts.preview);
  if (!opts.preview && ctx.git) {
    // A file inside a submodule (named, or made in one that is not checked out) or inside a
    // repository nested in the tree is that repository's (t113 N1, N2, N3). This repository's HEAD
    // never has such a file, so only new files are asked about: git runs for none in a refresh of edits.
    const made = Object.keys(files).filter((path) => files[path].pre === null && path.includes("/"));
    const links = made.length ? await ctx.git.gitlinks() : new Set<string>();
    for (const path of made) {
      const submodule = insideSubmodule(path, links);
      if (submodule !== undefined) throw submoduleFileRefusal(path, submodule);
      const nested = nestedRepositoryOf(ctx.tree, path);
      if (nested !== undefined) throw nestedRepositoryRefusal(path, nested);
    }
  }
  if (!opts.preview) refuseFileDirectorySwap(ctx, files, notFiles, (path) => !lower.has(path));
  // A staged change of a file a refresh of named files left out stays staged.
  const inPlan = (p: string) => files[p] !== undefined && (!keep || takes(keep, p));
  const staged = status.staged.filter(inPlan);
  let stagedApart = status.stagedApart.filter(inPlan);
  if (stagedApart.length && !execBitsTrusted(ctx.tree)) {
    const modeAlone = stagedModeAlone(ctx.tree, stagedApart);
    staged.push(...stagedApart.filter((p) => modeAlone.has(p)));
    stagedApart = stagedApart.filter((p) => !modeAlone.has(p));
  }
  // Everything but the diff, which a preview does not build.
  const plan = {
    files,
    changed,
    untracked,
    notFiles,
    packaging,
    staged,
    stagedApart,
    renames,
    ...(takenUntracked.length ? { takenUntracked } : {}),
    ...(notTaken.length ? { notTaken: notTaken.sort() } : {}),
    ...(whole ? { whole } : {}),
    ...(status.unmerged.length ? { unmerged: status.unmerged } : {}),
  };
  if (opts.preview) return { diff: "", ...plan };
  // A version below the top that the store lost is made again from HEAD and the patches below:
  // the edits are diffed against it (t42 N8: refresh and pop -a sent the user to each other).
  for (const path in files) {
    const id = versionId(files[path].pre);
    if (id !== null && ws.version(path) !== files[path].pre && !ctx.store.verify(id))
      await restoreLostVersion(ctx, ctx.applied.slice(0, below), path, files[path].pre);
  }
  // A version the tree holds now is read through the working set, which reads the disk when
  // the stored copy is damaged (t41 N7: a refresh with nothing to take refused, one with an edit worked).
  const content = versionText(ws, ctx.store);
  const asGit = await convertedToCrlf(ctx, files, content);
  const diffContent = (v: Version, path: string) => {
    const text = content(v, path);
    return text !== null && asGit.has(path) ? text.replaceAll("\r\n", "\n") : text;
  };
  const asText = textHunkPaths(() => readQueueText(ctx.queueDir, top.name), ...(opts.alsoTextIn ?? []).map((text) => () => text));
  return { diff: buildPatchDiff(files, renames, diffContent, asText), ...plan };
}

/**
 * A refresh of named files: every file but those `keep` takes (the named ones and their renames'
 * other names) goes back to what the patch recorded, its change said as not taken. Returns the
 * changed files that stay; the lists are narrowed in place.
 */
function narrowToNamed(
  top: AppliedPatch,
  named: ReadonlySet<string>,
  keep: ReadonlySet<string>,
  found: { files: Record<string, FileChange>; changed: string[]; renames: [string, string][]; takenUntracked: string[]; untracked: string[]; notTaken: string[] },
  preview?: boolean,
): string[] {
  const { files, changed, renames, takenUntracked, untracked, notTaken } = found;
  for (const path of Object.keys(files)) {
    if (takes(keep, path)) {
      // A rename's other name, taken with the named one: its name judged as a named file's is.
      if (!takes(named, path)) {
        refuseNonUtf8Name(path, "changed in the tree");
        if (!top.files[path] && !preview) refuseBackslashName(path);
      }
      continue;
    }
    if (changed.includes(path)) notTaken.push(path);
    if (top.files[path]) files[path] = top.files[path];
    else delete files[path];
  }
  const recordedRename = (pair: [string, string]) => (top.renames ?? []).some((r) => r[0] === pair[0] && r[1] === pair[1]);
  renames.splice(0, renames.length, ...renames.filter((pair) => recordedRename(pair) || (takes(keep, pair[0]) && takes(keep, pair[1]))));
  for (const path of takenUntracked.filter((p) => !takes(keep, p))) {
    takenUntracked.splice(takenUntracked.indexOf(path), 1);
    untracked.push(path);
  }
  untracked.sort();
  return changed.filter((path) => takes(keep, path));
}

/** Whether a refresh of named files takes this path: one named, or inside one named (a file made where a directory was takes the directory's files' deletion). */
function takes(taking: ReadonlySet<string>, path: string): boolean {
  if (taking.has(path)) return true;
  for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1)) if (taking.has(path.slice(0, at))) return true;
  return false;
}

/** The named files, and the other name of each rename one of them is half of. */
function withRenamePartners(named: ReadonlySet<string>, renames: readonly (readonly [string, string])[]): Set<string> {
  const taking = new Set(named);
  for (const [from, to] of renames) {
    if (taking.has(from) || taking.has(to)) taking.add(from).add(to);
  }
  return taking;
}

/**
 * Moves `git mv` cannot stage, paired as git's rename detection pairs a deletion and a creation
 * (at least half the lines alike): a file the top patch renamed, moved again (a plain mv: the
 * new name is untracked, and so is the one it left), and a file a lower patch created, moved
 * (untracked too: git mv refuses it). Written as renames, the patch says what happened, and a
 * colleague's sync follows the file to its new name (t46 N5, t50 N3, N10, N15: each was a
 * deletion and a whole new file).
 */
function movesGitCannotStage(
  ctx: PlanContext,
  ws: WorkingSet,
  top: AppliedPatch,
  files: Record<string, FileChange>,
  lower: Map<string, Version>,
  inRename: Set<string>,
  untracked: readonly string[],
  /** Takes an untracked file into the patch: the new name of such a move is the move's, as git mv would have it. */
  takeUntracked: (path: string) => void,
): { pairs: [string, string][]; stale: [string, string][] } {
  const text = versionText(ws, ctx.store);
  // Old name and the text it moved with; `made`: a file the top patch itself creates, whose move
  // is only the new name taken (no rename: nothing below has the old one: t52 N8).
  const left: [string, string | null, "made"?][] = [];
  const stale: [string, string][] = [];
  for (const [from, to] of top.renames ?? []) {
    if (files[from]?.post !== null || files[to] === undefined || !top.files[to]?.post) continue;
    const was = text(top.files[to].post, to);
    // Moved on, or moved on with its name reused by another file (no longer half alike).
    if (files[to].post === null) left.push([from, was]);
    else if (!sameFileMoved(was, text(files[to].post, to))) {
      left.push([from, was]);
      stale.push([from, to]);
    }
  }
  for (const path of Object.keys(files)) {
    const made = top.files[path];
    if (!inRename.has(path) && made && made.pre === null && made.post !== null && files[path].post === null) left.push([path, text(made.post, path), "made"]);
  }
  const deleted = Object.keys(files).filter((p) => !inRename.has(p) && files[p].pre !== null && files[p].post === null && lower.has(p));
  if (deleted.length) {
    const below = versionsBelowStack(ctx.applied);
    for (const path of deleted) if (below.get(path) === null) left.push([path, text(files[path].pre, path)]);
  }
  if (!left.length) return { pairs: [], stale };
  // An untracked file is taken as a move's new name only when it is the one best match, and not
  // an editor's or a tool's copy (t52: a backup f.c~ or f.c.orig had been taken into the patch).
  for (const [, was] of left) {
    // Sizes first, as git's rename detection: a file of another size by far cannot be half alike,
    // and is never read (t52 N19: a disk image in the tree made refresh and status fail).
    const size = Buffer.byteLength(was ?? "", "latin1");
    const sizeFits = (u: string) => {
      const st = fileStat(join(ctx.tree, u));
      return st !== null && st.size <= 2 * size + 4096 && st.size * 2 + 4096 >= size;
    };
    const best = bestMove(
      was,
      untracked.filter((u) => !looksLikeACopy(u) && sizeFits(u)),
      (u) => ws.content(u),
    );
    if (best !== null && !(best in files)) takeUntracked(best);
  }
  const created = Object.keys(files).filter((p) => !inRename.has(p) && files[p].pre === null && files[p].post !== null);
  // A made file's new name is a new file of the patch, taken above: no rename of it.
  const moving = left.filter(([, , made]) => !made);
  const wasOf = new Map(moving.map(([from, was]) => [from, was]));
  const pairs = pairMoves(
    moving.map(([from]) => from),
    created,
    (from) => wasOf.get(from) ?? null,
    (c) => text(files[c].post, c),
  );
  return { pairs, stale };
}

/** A name an editor, patch or merge tool gives its copy of a file (f.c~, f.c.orig, .#f.c, f.c.swp). */
function looksLikeACopy(path: string): boolean {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return /~$|\.(orig|rej|bak|swp|swo|tmp|old)$|^\.?#/.test(name);
}

/**
 * The files of a versioned queue's patch that this checkout holds with CRLF only because of a
 * setting of its own (core.autocrlf, core.eol with a text attribute): their diff is taken between
 * LF texts, as git diff takes it. Written in this checkout's endings, a shared patch flipped
 * between CRLF and LF with every colleague whose checkout differs, each time a commit changing
 * every line (t35 F14); taken as git has the files, it applies exactly wherever they are LF, and
 * here with its endings set aside, as before. Left as they are: a file the repository stores
 * with CRLF (its blob has them: git diff shows them too), and one whose eol attribute gives every
 * checkout the same endings (`eol=crlf` in .gitattributes: a CRLF patch is what applies exactly
 * for all, quilt included) (t40 N8, N9). A queue no repository versions is this tree's alone: its
 * patches keep the tree's bytes. Asked of git only when a file has CRLF.
 */
async function convertedToCrlf(
  ctx: PlanContext,
  files: Record<string, FileChange>,
  content: (v: Version, path: string) => string | null,
): Promise<Set<string>> {
  const out = new Set<string>();
  const textOf = (path: string) => content(files[path].post ?? files[path].pre, path);
  const withCrlf = Object.keys(files).filter((path) => textOf(path)?.includes("\r\n"));
  if (!ctx.git || !withCrlf.length || !queueVersioned(ctx.queueDir)) return out;
  const converted = [...(await ctx.git.convertedPaths(withCrlf))];
  const eol = ctx.git.attributeValues(converted, "eol");
  const stored = await ctx.git.headContents(converted, false);
  for (const path of converted) {
    if (eol.get(path) !== "unspecified" || stored.get(path)?.includes("\r")) continue;
    const text = textOf(path)!;
    // git's own answer: the blob it would store for the file is the LF text.
    if ((await ctx.git.cleanBlobId(text, path)) === gitBlobId(text.replaceAll("\r\n", "\n"))) out.add(path);
  }
  return out;
}

/**
 * pq's patches do not turn a file into a directory or a directory into a file: push and pop
 * write every path as a file or no file, and such a patch could be taken but not applied
 * again (push refuses a file to be made inside a file, and a directory where a file goes).
 * Refused up front, with the way out, instead of leaving half of the change out of the patch.
 */
function refuseFileDirectorySwap(
  ctx: PlanContext,
  files: Record<string, FileChange>,
  notFiles: string[],
  /** Whether a path's base is HEAD's (no patch below touches it). */
  fromHead: (path: string) => boolean,
): void {
  for (const [path, change] of Object.entries(files)) {
    if (change.post === null) continue;
    // A directory made where a file was: the file is "left out" as a non-file (it is a directory now).
    for (let at = path.indexOf("/"); at !== -1; at = path.indexOf("/", at + 1)) {
      const dir = path.slice(0, at);
      const st = notFiles.includes(dir) ? stampOrNone(join(ctx.tree, dir), false) : null;
      if (!st || !isDirectory(st)) continue;
      throw swapRefusal(`${path} is made in ${dir}, a directory where the tree below this patch has a file`, dir, "turn a file into a directory");
    }
    // A file made where a directory was: the patch also removes the files that were in it.
    if (change.pre !== null) continue;
    const inside = Object.keys(files).find((other) => other.startsWith(`${path}/`) && files[other].post === null);
    if (inside) throw swapRefusal(`${path} is made where the directory of ${inside} was`, path, "turn a directory into a file");
  }
  // A file made where HEAD has a directory or a submodule (a gitlink; verify-16 F9), asked of git in one run.
  const made = Object.entries(files)
    .filter(([path, c]) => c.pre === null && c.post !== null && fromHead(path))
    .map(([path]) => path);
  let modes = new Map<string, { mode: string }>();
  try {
    modes = made.length && ctx.git ? entriesAt(ctx.tree, ctx.git.prefix, "HEAD", made) : modes;
  } catch {
    /* no commit yet: nothing in HEAD */
  }
  for (const [path, { mode }] of modes) {
    if (mode === "160000") throw swapRefusal(`${path} is made where HEAD has a submodule`, path, "turn a submodule into a file");
    if (mode === "040000") throw swapRefusal(`${path} is made where HEAD has a directory`, path, "turn a directory into a file");
  }
}

function swapRefusal(what: string, path: string, turn: string): PqError {
  return new PqError(
    "unsupported",
    `${what}: pq's patches do not ${turn} (such a patch could not be applied again); nothing was changed`,
    [`commit that change with git instead, below the stack (pq pop -a, make it, git commit, pq push -a), or put ${path} back as it was, then pq refresh`],
    { file: path },
  );
}

/** Whether a tree path is a link to the queue directory. */
function namesQueue(ctx: Pick<PlanContext, "tree" | "queueDir">, path: string): boolean {
  try {
    return realpathSync(join(ctx.tree, path)) === realpathSync(ctx.queueDir);
  } catch {
    return false;
  }
}

function isRegularOrMissing(full: string): boolean {
  const st = stampOrNone(full, false);
  return !st || isRegular(st);
}

/**
 * A file name with a backslash: git writes it into the patch (quoted), but pq's push refuses
 * it (a backslash is a directory separator where the patch may be applied, as src/tree/paths.ts
 * says), so a refresh that took it would leave a patch pq never applies again (verify-12 F6).
 */
function refuseBackslashName(path: string): void {
  if (!path.includes("\\")) return;
  throw new PqError(
    "unsafe-path",
    `the file name ${JSON.stringify(path)} (changed in the tree) contains a backslash, which pq push refuses in a patch; nothing was changed`,
    [
      "rename the file (git mv), or keep its change out of the patch (git stash push -- FILE, or commit it), then pq refresh",
    ],
    { path },
  );
}
