/**
 * Planning the operations that write the top patch from the tree (refresh, add) or create
 * and edit patch files (new, header): each fills the transaction's queue writes and
 * state; the tree itself is never written by them.
 */
import { pushCacheKey } from "../caches.js";
import { operandWords, shellWord, operandList } from "../../core/shell-word.js";
import { PqError } from "../../errors.js";
import { addDep3Trailer, formatHeader, rewriteHeader, sameHeader, trimBody, unmodelledFields, type PatchHeader } from "../../mail/header.js";
import { localMailDate, parseHeader } from "../../mail/header.js";
import { sha1 } from "../../tree/files.js";
import { checkTreePath } from "../../tree/paths.js";
import { addsConflictMarkers, diffOf, dropCommitter, dropDiffstat, headerOf, joinHeaderAndDiff, refuseDiffInMessage, replaceMessage } from "../patch-text.js";
import { baselineVersion, changesGone, expectedVersions, planRefresh, unresolvedInGit, versionsBelowStack, versionText, type ChangesGone, type RefreshPlan } from "../refresh-plan.js";
import { buildPatchDiff, textHunkPaths } from "../refresh-diff.js";
import { refuseNameUnderFile, validatePatchName } from "../names.js";
import { blobIdOf, defaultAuthor, differFromHead, headerEditOnly, planContext, planUnstage, refuseDirectoryName, refuseIfTopNeedsRefresh, refuseInsideSubmodule, requireTop, stagedAmong, versionContent, type OpContext } from "./context.js";
import { pathMap, statePaths, stoppedSyncRefresh, versionExec, type AppliedPatch, type FileChange, type Version } from "../state.js";
import { existsSync, lstatSync } from "node:fs";
import { entriesAt } from "../git-cli.js";
import { directoryAt } from "../../tree/stat.js";
import { queueVersioned } from "../../git/tracked.js";
import { join } from "node:path";
import { nestedRepositoryOf, nestedRepositoryRefusal } from "../../git/repo.js";
import { handCommitAdvice, headMovedUnder } from "./pop.js";

export interface RefreshOptions {
  message?: string;
  header?: PatchHeader;
  /**
   * `header` was edited in $EDITOR from this patch's header `was`: refused when the top is another
   * patch now (a pop while the editor was open: tui-8 T8) or its header changed meanwhile.
   */
  editedFrom?: { top: string; was: PatchHeader };
  files?: string[];
  force?: boolean;
  /** Add the refresher's Signed-off-by: trailer. */
  signoff?: boolean;
}

export interface RefreshReport {
  name: string;
  files: string[];
  /** Untracked files that were not taken (pq add them). */
  untracked: string[];
  /** Changed paths that are no regular files (symlinks), left out of the patch. */
  notFiles?: string[];
  /** Changed files of a Debian queue's packaging (debian/), left out of the patch (see RefreshPlan.packaging). */
  packaging?: string[];
  /** Files of the patch that git's index had staged; the caller unstages them (see Stack.refresh). */
  staged?: string[];
  /** Files of the patch with a staged version other than the work tree's: left staged (see RefreshPlan.stagedApart). */
  stagedApart?: string[];
  /** Nothing to refresh: the patch file was left as it is. */
  unchanged?: true;
  /** Untracked files taken as where a moved file went (see RefreshPlan.takenUntracked). */
  takenUntracked?: string[];
  /** Changed files a refresh of named files left unrefreshed. */
  notTaken?: string[];
  /** A refresh of named files: the files whose changes it took (`files` is the whole patch's list). */
  took?: string[];
  /** A refresh of named files that took no file's change and still wrote the patch anew (its context, for this tree). */
  rewritten?: true;
  /** A refresh of named files: files a push --merge or --force left to resolve, taken as the tree has them too (see filesToResolve). */
  resolved?: string[];
}

const protectedPaths = (ctx: OpContext): string[] => ctx.tx.ws.reserved;

export async function planRefreshTop(ctx: OpContext, opts: RefreshOptions): Promise<RefreshReport> {
  const { tx } = ctx;
  const top = requireTop(tx.state);
  if (opts.editedFrom) {
    if (top.name !== opts.editedFrom.top) {
      throw new PqError("refused", `the top patch is ${top.name} now, not ${opts.editedFrom.top}, whose message was edited (the stack moved while the editor was open)`, [
        `pq goto ${operandWords(opts.editedFrom.top)} and pq refresh -e again`,
      ], { patch: opts.editedFrom.top });
    }
    refuseHeaderChangedMeanwhile(top.name, parseHeader(headerOf(tx.queueFile(top.name) ?? "")), opts.editedFrom.was);
  }
  // In a shared queue a pull can bring a colleague's new version of the applied patch:
  // refreshing would overwrite it with ours. Refuse unless asked to.
  const onDisk = tx.queueFile(top.name);
  const queueChanged = onDisk !== null && sha1(onDisk) !== top.hash && !headerEditOnly(ctx.store, top.hash, onDisk);
  if (!opts.force && queueChanged) {
    throw new PqError(
      "dirty",
      `${top.name} changed in the queue since it was pushed (a pull, or an edit by hand); refreshing would overwrite that version`,
      [
        "to apply the queue's version (a colleague's, or a conflict you resolved in the patch file): pq pop --force (this tree's changes to it go to .pq/backups), then pq push",
        // pq pop and pq push after the new patch took that one alone off and back (t144 N11, t145 N18).
        "to keep your changes: pq new NAME and pq refresh make them a patch of their own (or pq pop --force saves them to .pq/backups); then pq pop -a and pq goto NAME apply the new version, yours on top of it",
        "or pq refresh --force to replace the queue's version with this tree's, which discards the change the new version brought (a colleague's, after a pull)",
      ],
      { patch: top.name },
    );
  }
  // A forced push left the hunks that did not apply in .rej files: refreshing now would
  // drop them from the patch for good.
  const leftRejects = (top.rejects ?? []).filter((r) => tx.ws.version(r) !== null);
  if (leftRejects.length && !opts.force) {
    throw new PqError(
      "needs-refresh",
      `${leftRejects.join(", ")} still hold${leftRejects.length === 1 ? "s" : ""} hunks of ${top.name} that did not apply`,
      ["apply them by hand and delete the .rej files, then pq refresh (or pq refresh --force to drop those hunks; pq undo brings them back)"],
      { patch: top.name, rejects: leftRejects },
    );
  }
  const below = tx.state.applied.length - 1;
  // What the patch held before the files named here were added to it: "unchanged" is against this.
  const recorded = pathMap(Object.entries(top.files));
  const named = (opts.files ?? []).map((raw) => ({ raw, path: checkTreePath(ctx.tree, raw, "file", protectedPaths(ctx)) }));
  // A link held as a plain file (core.symlinks = false) is left out as any link is, named or not (t101 N2).
  const links = await linksInGit(ctx, named.map((n) => n.path).filter((p) => !top.files[p]));
  for (const { raw, path } of named) {
    if (top.files[path] || links.has(path)) continue;
    const pre = await baselineVersion(await planContext(ctx), path, below);
    // Neither in the tree nor below the patch: nothing to take (as `git add` says of a pathspec
    // that matches no file). Taken, it became an empty entry in the patch's file list.
    if (pre === null && tx.ws.version(path) === null) throw noSuchFile(ctx, raw, top.name);
    top.files[path] = { pre, post: null };
  }
  // Named files alone, as hg's qrefresh FILES takes them (unlike hg, the patch keeps its other files as last refreshed: pq remove takes a file out).
  // A file a push --merge left markers in, or a --force left hunks out of, is recorded as that
  // push wrote it, not as the patch has it: its resolution in the tree is taken with the named
  // files (t125 N1: the refresh was refused over markers the tree no longer had; N2: it dropped the rejected hunks).
  const unresolved = named.length ? filesToResolve(top, versionText(tx.ws, ctx.store)) : [];
  const plan = await planRefresh(await planContext(ctx), tx.ws, top, named.length ? { takeOnly: new Set([...named.map((n) => n.path), ...unresolved]) } : {});
  // A named file the patch did not have and that has no change: nothing to take, as hg's qrefresh
  // FILE and git commit FILE take nothing; it stays out of the patch's list (pq add puts a file
  // there before it changes). Listed, the refresh said it took it and logged an operation (t126 N6).
  for (const { path } of named) {
    const change = plan.files[path];
    if (!recorded[path] && change && change.pre === change.post) {
      delete plan.files[path];
      plan.changed = plan.changed.filter((p) => p !== path);
    }
  }
  // git's conflict markers (<<<<<<< Updated upstream) taken into a patch as its change, exit 0 (t102 N3):
  // refused as git commit refuses them (pq diff still shows them).
  if (plan.unmerged) throw unresolvedInGit(plan.unmerged);
  // A push --merge left conflict markers in the tree: a refresh that takes them puts them into
  // the patch (StGit refuses to refresh over unresolved conflicts). --force takes them as they are.
  // --force given to replace an edited patch file does not also take markers (collab-17 F16: a
  // resolution made in the patch file was replaced by the tree's markers).
  if (top.needsRefresh === "conflict" && (!opts.force || queueChanged) && addsConflictMarkers(plan.diff) && /^\+=======$/m.test(plan.diff)) {
    const marked = Object.keys(plan.files)
      .filter((p) => /^<<<<<<< /m.test(tx.ws.content(p) ?? ""))
      .sort();
    throw new PqError(
      "conflict",
      `conflict markers are still in ${marked.join(", ") || "the tree"}, which ${top.name}'s three-way merge left`,
      [
        `edit the marked places (keep what the patch should do, drop the <<<<<<< ======= >>>>>>> lines), then ${existsSync(statePaths(ctx.tree).sync) ? stoppedSyncRefresh(ctx.tree) : "pq refresh"}`,
        ...(queueChanged
          ? [`${top.name} was also edited in the queue (a resolution made there?): pq pop --force, then pq push, applies that version`]
          : existsSync(statePaths(ctx.tree).sync)
            ? // A stopped sync's merge: undo is refused until the sync ends (collab-17 F2).
              ["pq refresh --force takes the markers into the patch as they are; pq sync --abort puts everything back as it was before the sync"]
            : ["pq refresh --force takes the markers into the patch as they are; pq pop --force drops the merge (pq undo brings it back)"]),
      ],
      { patch: top.name, files: marked, ...(existsSync(statePaths(ctx.tree).sync) ? { pathsFrom: ctx.tree } : {}) },
    );
  }
  // A whole conflict block of git's (a stash pop, pull or merge that stopped, its index entries
  // since reset) added by this refresh: taken, it went into the patch, exit 0 (t102 N3).
  // pq's own merge's markers are refused above; --force takes either as it is.
  if (!opts.force && top.needsRefresh !== "conflict") {
    const textOf = versionText(tx.ws, ctx.store);
    const marked = Object.keys(plan.files)
      .filter((path) => plan.changed.includes(path) && addsConflictBlock(tx.ws.content(path) ?? "", textOf(plan.files[path].pre, path) ?? ""))
      .sort();
    if (marked.length)
      throw new PqError(
        "conflict",
        `${marked.join(", ")} ${marked.length === 1 ? "holds" : "hold"} conflict markers (<<<<<<< ======= >>>>>>>) that ${top.name} does not have yet, as a git pull, merge or stash pop leaves them: a refresh would take them into the patch`,
        [
          "edit the marked places (keep what should stay, drop the marker lines), then pq refresh; a git stash pop that stopped keeps the stash (git stash list)",
          `pq refresh --force takes them into ${top.name} as they are, if the patch is meant to add such lines`,
        ],
        { patch: top.name, files: marked },
      );
  }
  // The applied patches' changes gone from the tree (git reset --hard, checkout, stash): taken,
  // the top patch would revert them, and the next pop and push would apply that (t44 N2).
  // Judged on the patch as recorded: the files named here were added to it as files the stack
  // deletes, which hid the changes gone (t92 N2: pq refresh FILE took them out, exit 0).
  // A refresh of named files is judged on the whole tree (its own plan leaves the other files as
  // recorded, which hid a reset), and refused where a file it names is one whose change is gone
  // (t126 N2: after a checkout and a git clean, pq refresh NEWFILE took the made file out).
  const asRecorded = { ...top, files: recorded };
  const gone = opts.force ? null : changesGone([...tx.state.applied.slice(0, -1), asRecorded], plan.whole ?? plan, versionText(tx.ws, ctx.store));
  const taking = new Set([...named.map((n) => n.path), ...unresolved]);
  if (gone?.files.length && (!named.length || gone.files.some((f) => taking.has(f) || plan.changed.includes(f))))
    throw changesGoneRefusal(ctx.tree, top.name, gone);
  // HEAD moved under the applied patches (a git pull with them applied): what differs in the
  // patches' files is HEAD's change, which a refresh would take into the top patch, and pop then
  // refuses over (t44 N4).
  if (!opts.force) {
    const below = versionsBelowStack(tx.state.applied);
    const mine = plan.changed.filter((p) => below.has(p));
    const committed = mine.length ? await differFromHead(ctx, new Map(mine.map((p) => [p, below.get(p)!])), { remember: true }) : [];
    const moved = await headMovedUnder(ctx, tx.state.applied, committed);
    if (moved) {
      throw new PqError(
        "refused",
        `HEAD has commits that change ${committed.slice(0, 5).join(", ")}${committed.length > 5 ? ", ..." : ""}, which the applied patches change too: a refresh would take their changes into ${top.name}`,
        [...handCommitAdvice("status", moved), `or pq refresh --force to take them into ${top.name} anyway`],
        { files: committed, pathsFrom: ctx.tree },
      );
    }
  }
  // Nothing to take: the files and the text are the ones recorded when the patch was applied.
  const nothingTaken =
    !plan.changed.length &&
    !top.needsRefresh &&
    !top.rejects?.length &&
    (!top.inexact || keepsItsLineEndings(top, () => queueVersioned(ctx.queueDir))) &&
    onDisk !== null &&
    sha1(onDisk) === top.hash &&
    sameChanges(plan.files, recorded);
  const leftUnchanged = async (): Promise<RefreshReport> => {
    top.files = recorded;
    await planUnstage(ctx, plan.staged);
    return { ...reportOf(top.name, plan, named.length ? [] : undefined), unchanged: true };
  };
  // Nothing to take and nothing asked of the header: the patch file stays as it is, byte for
  // byte (quilt says "unchanged" too). Rewritten, a Debian queue's patch would change its hunk
  // headings, diffstat and spacing in the packaging diff for no change of the patch.
  if (nothingTaken && !opts.header && opts.message === undefined && !opts.signoff) return leftUnchanged();
  let header = dropDiffstat(headerOf(onDisk ?? ""));
  // The patch changes: it is no longer the commit uncommit made it from (finish commits it as the user).
  if (plan.changed.length || plan.diff !== diffOf(onDisk ?? "") || opts.header || opts.message !== undefined || opts.signoff) header = dropCommitter(header);
  if (opts.header) {
    refuseDiffInMessage(`${opts.header.subject}\n${opts.header.body}`);
    header = rewriteHeader(header, opts.header);
  } else if (opts.message !== undefined) {
    refuseDiffInMessage(opts.message);
    header = replaceMessage(header, opts.message);
  }
  if (opts.signoff) header = await withSignoff(ctx, header);
  const text = joinHeaderAndDiff(header, plan.diff);
  // A message, an edit in $EDITOR or a sign-off that gives the very text the file holds (the
  // same message again, the editor closed unchanged, a second -s): unchanged too (t36 F2).
  if (nothingTaken && onDisk === text) return leftUnchanged();
  top.files = plan.files;
  if (plan.renames.length) top.renames = plan.renames;
  // As the tree has them: a file a refresh of named files left out keeps its edits unrefreshed, which a redo does not write.
  for (const path of Object.keys(plan.files)) if (plan.files[path].post === tx.ws.version(path)) tx.taken.add(path);
  delete top.needsRefresh;
  delete top.rejects;
  delete top.inexact;
  writeTopText(ctx, top, text);
  // Changes staged with git add/rm/mv are in the patch now. Left staged, a pop would leave
  // them in the index, and the next unrelated git commit would take part of the patch. In the
  // transaction: a killed refresh is completed with it, and undo stages them again (safe-6 #5, #6).
  await planUnstage(ctx, plan.staged);
  const took = named.length ? changedAgainst(recorded, plan.files) : undefined;
  // No file's change taken, and still the text changed: a patch applied with fuzz or a merge, written for this tree (t126 N5).
  const report = { ...reportOf(top.name, plan, took), ...(took && !took.length && text !== onDisk ? { rewritten: true as const } : {}) };
  // Said: a .rej deleted unapplied leaves the file without the hunk, which the patch no longer has either (t126 N3).
  return unresolved.length ? { ...report, resolved: unresolved.sort() } : report;
}

/**
 * A patch that applied only with its line endings set aside, in a queue git versions: the
 * difference is a checkout's (core.autocrlf, an eol attribute: this one's, or the one it was
 * made in), not the patch's. Rewritten in this tree's endings, a shared patch flipped between
 * CRLF and LF with every colleague whose checkout differs, each time a commit changing every
 * line (t35 F14): a refresh that takes nothing else leaves it as the repository has it, and one
 * that takes a change writes files git converts as git has them (LF, see planRefresh).
 */
export function keepsItsLineEndings(patch: Pick<AppliedPatch, "inexact">, versioned: () => boolean): boolean {
  return patch.inexact === "eol" && versioned();
}

/**
 * A message edited in $EDITOR is written only over the header it was edited from: another pq
 * (a TUI, a colleague's sync) or a hand edit may have changed it while the editor was open,
 * and writing over it would drop that change without a word (tui-8 T8, T9).
 */
function refuseHeaderChangedMeanwhile(name: string, now: PatchHeader, was: PatchHeader): void {
  const key = (h: PatchHeader) => JSON.stringify([h.subject ?? "", h.body, h.author ?? "", h.date ?? ""]);
  if (key(now) === key(was)) return;
  throw new PqError("refused", `${name}'s message or author changed while the editor was open (another pq, or an edit by hand)`, [
    `pq header ${operandWords(name)} shows it now; edit it again from there`,
  ], { patch: name });
}

/** The top patch's files a forced or merged push left to resolve: its .rej files' and those it wrote conflict markers into. */
function filesToResolve(top: AppliedPatch, textOf: (v: Version, path: string) => string | null): string[] {
  if (!top.needsRefresh) return [];
  const rejected = (top.rejects ?? []).map((r) => r.replace(/\.rej$/, ""));
  const marked = Object.keys(top.files).filter((p) => /^<<<<<<< /m.test(textOf(top.files[p].post, p) ?? ""));
  return [...new Set([...rejected, ...marked])];
}

/** What a refresh of `name` by `plan` reports (its files, and the ones it did not take). */
function reportOf(name: string, plan: RefreshPlan, took?: string[]): RefreshReport {
  return {
    ...(took ? { took } : {}),
    name,
    files: Object.keys(plan.files).sort(),
    untracked: plan.untracked,
    ...(plan.staged.length ? { staged: plan.staged } : {}),
    ...(plan.stagedApart.length ? { stagedApart: plan.stagedApart } : {}),
    ...(plan.notFiles.length ? { notFiles: plan.notFiles } : {}),
    ...(plan.packaging.length ? { packaging: plan.packaging } : {}),
    ...(plan.takenUntracked ? { takenUntracked: plan.takenUntracked } : {}),
    ...(plan.notTaken ? { notTaken: plan.notTaken } : {}),
  };
}

/** The files whose versions differ between two records of a patch (one in only one of them too). */
function changedAgainst(before: Record<string, FileChange>, after: Record<string, FileChange>): string[] {
  const paths = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...paths].filter((p) => before[p]?.pre !== after[p]?.pre || before[p]?.post !== after[p]?.post).sort();
}

/** The same files with the same versions before and after. */
function sameChanges(a: Record<string, FileChange>, b: Record<string, FileChange>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((p) => b[p] !== undefined && a[p].pre === b[p].pre && a[p].post === b[p].post);
}

function noSuchFile(ctx: OpContext, raw: string, top: string): PqError {
  const isPatch = ctx.tx.series().has(raw);
  return new PqError(
    "not-found",
    `${raw}: no such file in the tree, nor in the patches below ${top}; pq refresh FILE... takes files into the top patch`,
    [
      ...(isPatch ? [`${raw} is a patch of the series: to refresh it (quilt's refresh PATCH), pq goto ${operandWords(raw)}, then pq refresh`] : []),
      "to take a file you are about to create, pq add FILE first",
    ],
    { file: raw },
  );
}

async function withSignoff(ctx: OpContext, header: string): Promise<string> {
  const who = await defaultAuthor(await ctx.repo());
  if (!who) throw new PqError("usage", "refresh -s needs your git identity (git config user.name / user.email)");
  const parsed = parseHeader(header);
  const line = `Signed-off-by: ${who}`;
  // In a DEP-3 header a sign-off among the fields is one of them, not of the message (t38 F4).
  if ([...parsed.body.split("\n"), ...unmodelledFields(header)].includes(line)) return header;
  const dep3 = addDep3Trailer(header, line);
  if (dep3 !== null) return dep3;
  return rewriteHeader(header, { ...parsed, body: parsed.body ? `${parsed.body}\n${/^[A-Za-z-]+-by: /m.test(parsed.body.split("\n").at(-1) ?? "") ? "" : "\n"}${line}` : line });
}

/**
 * What a file pq add gives the top patch starts from: what the patches below left, else HEAD's;
 * a file git's ignore rules cover that neither has (a release tarball's generated `configure`)
 * starts as it is on disk, as quilt add takes it (and push takes such a file). Taken as absent,
 * the patch created the whole file, and a pop deleted it (t38 F6). (refresh FILE comes after
 * the edit: what the file was before it is not known there, and it stays a new file.)
 */
async function addedFileBase(ctx: OpContext, path: string): Promise<Version> {
  const planCtx = await planContext(ctx);
  const base = await baselineVersion(planCtx, path, ctx.tx.state.applied.length - 1);
  if (base !== null || !planCtx.git) return base;
  if (ctx.tx.ws.version(path) === null || !(await planCtx.git.ignoredPaths([path])).has(path)) return null;
  return ctx.tx.ws.preserve(path); // stored: the pop puts it back from the store
}

/**
 * Of `paths`, those no applied patch has and git's HEAD has as a symlink. Where git makes links
 * (core.symlinks, the default) such a path is a link on disk, refused as one; where it does not,
 * it is a plain file holding the target's name, which taken into a patch made the link a file
 * at finish (t99 N1, t101 N2).
 */
async function linksInGit(ctx: OpContext, paths: string[]): Promise<Set<string>> {
  const known = expectedVersions(ctx.tx.state.applied);
  const asked = paths.filter((p) => !known.has(p));
  const git = asked.length ? await ctx.repo() : null;
  if (!git || !(await git.hasHead())) return new Set();
  const entries = entriesAt(ctx.tree, git.prefix, "HEAD", asked);
  // A real link is refused as one where it is read (see refuseNonFile): only the plain-file kind is answered here.
  return new Set(asked.filter((p) => entries.get(p)?.mode === "120000" && lstatSync(join(ctx.tree, p), { throwIfNoEntry: false })?.isFile()));
}

export async function planAdd(ctx: OpContext, paths: string[]): Promise<string[]> {
  const { tx } = ctx;
  const top = requireTop(tx.state);
  const added: string[] = [];
  // What the applied patches have as files: a new file inside one of them is refused below.
  const known = expectedVersions(tx.state.applied);
  for (const raw of paths) {
    const path = checkTreePath(ctx.tree, raw, "file", protectedPaths(ctx));
    if (path === "" || directoryAt(join(ctx.tree, path))) {
      throw new PqError("usage", `${path || "the tree's root"} is a directory; pq add takes files`, ["name the files in it (pq add DIR/FILE ...)"], {
        file: path,
      });
    }
    if (top.files[path]) continue;
    await refuseInsideSubmodule(ctx, [path], () => undefined, false);
    const nested = nestedRepositoryOf(ctx.tree, path);
    if (nested !== undefined) throw nestedRepositoryRefusal(path, nested);
    if ((await linksInGit(ctx, [path])).has(path)) {
      throw new PqError(
        "unsupported",
        `${path} is a symlink in git, which this checkout holds as a plain file (core.symlinks = false); pq's patches hold regular files only`,
        ["change it with git itself (git add, git commit), outside the stack"],
        { file: path },
      );
    }
    // A file inside a path the stack knows as a file (a patch deleted b.txt, and b.txt/x is new):
    // the stack could not be popped again (restoring b.txt finds a directory). Said now, as push says it.
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!known.has(dir)) continue;
      throw new PqError(
        "unsupported",
        `${path} is inside ${dir}, which the applied patches have as a file; pq does not turn a file into a directory (the stack could not be popped again)`,
        [`make that change outside the stack (pq pop the patch that deletes ${dir}, git rm ${dir}, commit), or leave ${dir} a file`],
        { file: path, conflictsWith: dir },
      );
    }
    const base = await addedFileBase(ctx, path);
    top.files[path] = { pre: base, post: base };
    added.push(path);
  }
  return added;
}

/**
 * quilt revert: files put back as the applied patches left them (a lower patch's result,
 * else HEAD's), their unrefreshed changes dropped. Being a transaction, `pq undo` brings the
 * changes back. Returns the files that changed; refuses a file nothing could restore.
 */
export async function planRevert(ctx: OpContext, paths: string[]): Promise<string[]> {
  const { tx } = ctx;
  const planCtx = await planContext(ctx);
  const reverted: string[] = [];
  for (const raw of paths) {
    const path = checkTreePath(ctx.tree, raw, "file", protectedPaths(ctx));
    if (path === "" || directoryAt(join(ctx.tree, path))) {
      throw new PqError("usage", `${path || "the tree's root"} is a directory; pq revert takes files`, ["name the files in it"], { file: path });
    }
    const expected = await baselineVersion(planCtx, path, tx.state.applied.length);
    const now = tx.ws.version(path);
    if (expected === now) continue;
    const known = tx.state.applied.some((a) => a.files[path]);
    if (expected === null && !known) {
      throw new PqError("not-found", `${path} is in no applied patch and not in git's HEAD: there is nothing to put it back to`, [
        "remove it yourself, or pq add it to the top patch to keep it",
      ], { file: path });
    }
    tx.ws.set(path, versionContent(ctx, expected), versionExec(expected));
    reverted.push(path);
  }
  // A change staged with git add is dropped from the index too (undo stages it again): left
  // there, a later pop would leave it staged for an unrelated commit (safe-6 #7).
  await planUnstage(ctx, reverted);
  return reverted;
}

/**
 * quilt remove: files taken out of the top patch, each put back as it was below the patch
 * (unrefreshed changes to it go too), and the patch rewritten without them from the
 * versions it last refreshed (the other files' unrefreshed changes stay unrefreshed).
 */
export async function planRemove(ctx: OpContext, paths: string[]): Promise<{ removed: string[]; edited: string[] }> {
  const { tx } = ctx;
  const top = requireTop(tx.state);
  const onDisk = tx.queueFile(top.name);
  if (onDisk !== null && sha1(onDisk) !== top.hash) {
    throw new PqError("dirty", `${top.name} changed in the queue since it was pushed; removing a file would rewrite it from the pushed version`, [
      "pq pop, then pq push to apply the queue's version first",
    ], { patch: top.name });
  }
  if (top.needsRefresh) throw new PqError("needs-refresh", `${top.name} needs a refresh first (its push was forced or merged)`, ["pq refresh, then pq remove"], { patch: top.name });
  const removed: string[] = [];
  const edited: string[] = [];
  const changes = new Map<string, Version>();
  for (const raw of paths) {
    const path = checkTreePath(ctx.tree, raw, "file", protectedPaths(ctx));
    const change = top.files[path];
    if (!change) throw new PqError("not-found", `${path} is not in ${top.name}`, ["pq files lists the top patch's files"], { file: path, patch: top.name });
    if ((top.renames ?? []).some((r) => r.includes(path))) {
      throw new PqError("unsupported", `${path} is half of a rename in ${top.name}; pq remove takes out whole files`, ["edit the rename by hand, then pq refresh"], {
        file: path,
      });
    }
    // Unrefreshed changes to it go too: said, as revert says it (t112 N10).
    if (tx.ws.version(path) !== change.post) edited.push(path);
    changes.set(path, change.post);
    tx.ws.set(path, versionContent(ctx, change.pre), versionExec(change.pre));
    delete top.files[path];
    removed.push(path);
  }
  const diff = buildPatchDiff(top.files, top.renames ?? [], (v) => versionContent(ctx, v), textHunkPaths(() => onDisk));
  writeTopText(ctx, top, joinHeaderAndDiff(dropDiffstat(headerOf(onDisk ?? "")), diff));
  // As revert: the files' staged changes leave the index with them (undo stages them again).
  // A version staged that is not the patch's is an unrefreshed change too.
  const staged = await stagedAmong(ctx, removed, { remember: false });
  const git = staged.length ? await ctx.repo() : null;
  const entries = git ? await git.indexEntries(staged.map((p) => git.prefix + p)) : new Map<string, string>();
  for (const path of staged) {
    const blob = entries.get(git!.prefix + path)?.split(" ")[1] ?? null;
    if (blob !== blobIdOf(ctx, path, changes.get(path)!)) edited.push(path);
  }
  await planUnstage(ctx, removed);
  return { removed, edited: [...new Set(edited)].sort() };
}

/** The top patch's new text, made from its record's versions (a refresh, a remove), written and recorded. */
function writeTopText(ctx: OpContext, top: AppliedPatch, text: string): void {
  ctx.tx.writePatch(top.name, text);
  // The diff is written with a/ b/ prefixes now: a quilt -pN entry becomes the default.
  const series = ctx.tx.series();
  if (series.has(top.name) && series.stripOf(top.name) !== 1) {
    series.setStrip(top.name, 1);
    ctx.tx.setSeries(series);
  }
  top.hash = sha1(text);
  // The new patch turns exactly these versions into these: a later push of it is a checkout.
  ctx.pushCache.record(pushCacheKey(top.hash), top.files, top.renames ?? []);
}

export async function planNew(ctx: OpContext, name: string, opts: { message?: string; author?: string }): Promise<void> {
  const { tx } = ctx;
  validatePatchName(name);
  refuseIfTopNeedsRefresh(tx.state, "create a new patch over it", false);
  const series = tx.series();
  if (series.has(name)) throw new PqError("exists", `${name} is already in the series`, ["pick another name"], { patch: name });
  refuseNameUnderFile(ctx.queueDir, name);
  if (tx.queueFile(name) !== null || existsSync(join(ctx.queueDir, name))) {
    // A directory (of patches, as debian/patches/debian/ holds): no file to import (t55 N5).
    refuseDirectoryName(ctx.queueDir, name);
    throw new PqError("exists", `${join(ctx.queueDir, name)} already exists`, ["pick another name, or pq import it"], { patch: name });
  }
  refuseDiffInMessage(opts.message ?? "");
  const author = opts.author ?? (await defaultAuthor(await ctx.repo()));
  const [subject, ...rest] = (opts.message ?? "").split("\n");
  const text = formatHeader({ author, date: localMailDate(), subject: subject || name, body: trimBody(rest.join("\n")) });
  tx.writePatch(name, text);
  series.insertAfter(tx.state.applied.at(-1)?.name ?? null, { name, guards: [] });
  tx.setSeries(series);
  tx.state.applied.push({ name, hash: sha1(text), files: pathMap() });
}

/** Replace a patch's header (message/author) without touching its diff. */
export function planSetHeader(ctx: OpContext, name: string, header: PatchHeader, was?: PatchHeader): void {
  const { tx } = ctx;
  if (!tx.series().has(name)) throw new PqError("not-found", `${name} is not in the series`, [], { patch: name });
  refuseDiffInMessage(`${header.subject}\n${header.body}`);
  const text = tx.patchText(name);
  // A new message makes a new commit of it: the committer uncommit kept goes (see dropCommitter).
  const old = parseHeader(headerOf(text));
  if (was) refuseHeaderChangedMeanwhile(name, old, was);
  // Nothing changes: the file stays byte for byte, its diffstat too (t80 N1).
  if (sameHeader(old, header)) return;
  const reworded = old.subject !== header.subject || old.body !== header.body;
  const updated = joinHeaderAndDiff(rewriteHeader(dropDiffstat(headerOf(text)), reworded ? { ...header, committer: undefined } : header), diffOf(text));
  tx.writePatch(name, updated);
  keepChangedInQueue(tx.state.applied.find((a) => a.name === name), text, updated);
}

/**
 * An applied patch's record follows a header change of its file, unless the file had changed in
 * the queue since it was pushed (a pull, a hand edit): it stays a change to apply with pop and
 * push, which status says and refresh refuses to overwrite. Recorded as unchanged, the next
 * refresh overwrote that version without a word (t44 N7).
 */
function keepChangedInQueue(record: AppliedPatch | undefined, before: string, after: string): void {
  if (record && sha1(before) === record.hash) record.hash = sha1(after);
}

/** Write a patch file. An applied patch may only change its header this way. */
/** `strip`: the -pN the new text is written for (a text with a/ b/ prefixes: 1), set in the series with it. */
export function planWritePatch(ctx: OpContext, name: string, text: string, strip?: number): void {
  const { tx } = ctx;
  const series = tx.series();
  if (strip !== undefined && series.has(name) && series.stripOf(name) !== strip) {
    series.setStrip(name, strip);
    tx.setSeries(series);
  }
  const record = tx.state.applied.find((a) => a.name === name);
  if (record) {
    if (diffOf(tx.patchText(name)) !== diffOf(text)) {
      throw new PqError("refused", `${name} is applied: its diff can only change through pq refresh`, ["pop it first to replace the whole patch"], {
        patch: name,
      });
    }
    keepChangedInQueue(record, tx.patchText(name), text);
  }
  tx.writePatch(name, text);
}

/** Whether `now` holds a whole conflict block (<<<<<<< , =======, >>>>>>> lines in order) that `before` did not. */
function addsConflictBlock(now: string, before: string): boolean {
  const block = /^<<<<<<< [^\n]*\n(?:[^\n]*\n)*?=======\n(?:[^\n]*\n)*?>>>>>>> [^\n]*$/m;
  return now.includes("<<<<<<< ") && block.test(now) && !block.test(before);
}

/** The refusal of a refresh over patches' changes gone from the tree (see changesGone). */
export function changesGoneRefusal(tree: string, top: string, gone: ChangesGone): PqError {
  if (gone.checkedOut)
    return new PqError(
      "dirty",
      `${shortList(gone.patches)}'s changes to ${shortList(gone.files)} are gone from the tree, each file as it was below the stack (a git checkout -- FILE?), while the stack's other changes stay; a refresh would make ${top} revert them`,
      [
        `pq revert ${operandList(gone.files)} puts ${gone.files.length === 1 ? "it" : "them"} back as the applied patches have ${gone.files.length === 1 ? "it" : "them"}`,
        `pq refresh --force makes ${top} revert them, if that is what you want`,
      ],
      { patch: top, files: gone.files, patches: gone.patches, pathsFrom: tree },
    );
  if (gone.topOnly)
    return new PqError(
      "dirty",
      `${top}'s changes to ${shortList(gone.files)} are all gone from the tree, each as it was below the stack (a git reset --hard, git checkout or git stash?); a refresh would take them out of ${top}`,
      [
        "pq pop, then pq push, puts them back (after git stash, git stash pop does)",
        `pq refresh --force takes them out of ${top}, if that is what you want`,
      ],
      { patch: top, files: gone.files, patches: [] },
    );
  return new PqError(
    "dirty",
    `the applied patches' changes to ${shortList(gone.files)} are gone from the tree: ${gone.edited ? `each is as it was below the stack, with edits since in ${shortList(gone.edited)}` : "each is as it was below the stack"} (a git reset --hard, git checkout or git stash?); a refresh would make ${top} revert ${shortList(gone.patches)}`,
    [
      gone.edited
        ? `pq pop -a --force (it saves ${shortList(gone.edited)} to .pq/backups), then pq push -a, puts them back, and your edits are in the backup to carry over; after git stash, git stash pop does`
        : "pq pop -a, then pq push -a, puts them back (a file already as the pop leaves it is no edit it refuses over); after git stash, git stash pop does",
      `pq refresh --force makes ${top} revert them, if that is what you want`,
    ],
    { patch: top, files: gone.files, patches: gone.patches },
  );
}

/** A list of names cut to its first ten, with how many there are in all (a reset of a 1000-patch stack names them all: t90 N3). */
export function shortList(names: readonly string[]): string {
  return names.length > 10 ? `${names.slice(0, 10).join(", ")}, ... (${names.length} in all)` : names.join(", ");
}
