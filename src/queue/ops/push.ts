/**
 * Planning a push: which patches, in what order (guards, --move), each applied in memory
 * on the transaction's working set (or replayed from the push cache when its inputs are
 * unchanged). A patch that does not apply stops the push with the patches before it
 * planned; --force and --merge keep the partial result and mark it for refresh. A dry run
 * is the same planning with nothing executed.
 */
import { join } from "node:path";
import { PqError } from "../../errors.js";
import type { EventSink } from "../../core/events.js";
import type { HunkResult } from "../../patch/index.js";
import { fileStat, readText, sha1, type FileStat } from "../../tree/files.js";
import { failpoint } from "../../core/failpoint.js";
import { operandWords, shellWord } from "../../core/shell-word.js";
import { applyFilePatch, parseNamedPatch, parsePatch } from "../../patch/index.js";
import { gitBlobId } from "../../patch/create.js";
import { applyPatchText, describeFailures, describeFuzz, type FileChangeSummary, type PatchApplication } from "../apply-patch.js";
import { expectedVersions } from "../refresh-plan.js";
import { isPushable } from "../series.js";
import { pushCacheKey, type PushCacheEntry, type RunFile } from "../caches.js";
import { OplogReader } from "../oplog.js";
import { entriesAt, gitOut } from "../git-cli.js";
import { containedUpstream } from "../rebase-merge.js";
import { execBitsTrusted, readHeadCommit } from "../../git/head.js";
import { matchingRun, rememberRun, RUN_MIN, underStackFile } from "./push-run.js";
import { adoptRecords, pathMap, statePaths, versionExec, versionId, type AppliedPatch, type FileChange, type Version } from "../state.js";
import { appliedNames, askGitAhead, changesGoneFrom, differFromHead, revertedBelowStack, stagedAmong, pushCandidates, refuseIfTopNeedsRefresh, refuseInsideSubmodule, resolveName, setAsideAdvice, type OpContext, type StackTarget } from "./context.js";

export interface PushOptions {
  target?: StackTarget;
  all?: boolean;
  force?: boolean;
  merge?: boolean;
  move?: boolean;
  fuzz?: number;
  dryRun?: boolean;
  onEvent?: EventSink;
}

export interface FileFate {
  path: string;
  status: "applied" | "failed" | "merged" | "conflict";
  hunks: HunkResult[];
  /** Failed as a whole: the file is not there to patch, or the patch creates one that is (see FileOutcome). */
  missing?: boolean;
  exists?: "same" | "different";
  binary?: boolean;
  /** A file made, removed, renamed or copied, a mode or binary content changed (see FileChangeSummary). */
  change?: FileChangeSummary;
}

export interface PushedPatch {
  name: string;
  /** Taken from the push cache: inputs unchanged since it was last applied. */
  cached: boolean;
  /** Hunks that needed an offset or fuzz ("file: Hunk #2 succeeded at 40 with fuzz 1."). */
  notes: string[];
  needsRefresh?: "forced" | "conflict";
  rejects?: string[];
  /** .rej files that were there already, which the push wrote over (dry-6 #14). */
  rejectsReplaced?: string[];
  /** Files whose diff carried no data ("Binary files ... differ"): created empty or left as they were. */
  binaryWithoutData?: string[];
  /** Per file, each hunk's fate (dry runs, and any patch that was actually applied). */
  files?: FileFate[];
}

export interface PushReport {
  pushed: PushedPatch[];
  top: string | null;
  /** Dry run: the patch that would fail, with its per-hunk fates. */
  wouldFail?: PushedPatch;
  dryRun?: boolean;
}

export interface PushOutcome {
  report: PushReport;
  failure?: PqError;
}

function chooseList(ctx: OpContext, opts: PushOptions): string[] {
  const { tx } = ctx;
  // Read only, except for --move, which edits a copy.
  const view = tx.seriesView();
  const applied = appliedNames(tx.state);
  if (opts.target !== undefined && opts.move && !opts.all) {
    const series = tx.series();
    const name = resolveName(series, opts.target);
    if (applied.includes(name)) throw new PqError("refused", `${name} is already applied`, [`pq goto ${operandWords(name)} pops back to it; --move takes an unapplied patch`], { patch: name });
    const entry = series.entries().find((e) => e.name === name)!;
    // hg's qpush --move refuses a guarded patch too: moving it does not change what is selected.
    if (!isPushable(entry, tx.state.guards)) {
      throw new PqError("refused", `${name} is guarded (${entry.guards.join(" ")}) and the selected guards exclude it`, [
        "pq select to change the selected guards, or pq guard to change its guards, then pq push --move",
      ], { patch: name, guards: entry.guards });
    }
    series.move(name, tx.state.applied.at(-1)?.name ?? null);
    tx.setSeries(series);
    return [name];
  }
  let list = pushCandidates(tx.state, view);
  if (opts.target !== undefined) {
    const name = resolveName(view, opts.target);
    if (applied.includes(name)) {
      // The top already: nothing to do, as hg's qpush says (and pq pop and goto of the top).
      if (applied.at(-1) === name) return [];
      throw new PqError("refused", `${name} is already applied, below the top`, [`pq goto ${operandWords(name)} pops back to it`], { patch: name });
    }
    const entry = view.patchEntries().find((e) => e.name === name)!;
    if (!isPushable(entry, tx.state.guards)) {
      throw new PqError(
        "refused",
        `${name} is guarded (${entry.guards.join(" ")}) and the selected guards exclude it`,
        ["pq select to change the selected guards, or pq guard to change its guards"],
        { patch: name, guards: entry.guards },
      );
    }
    const at = list.indexOf(name);
    if (at === -1) throw new PqError("refused", `${name} comes before the top patch in the series`, ["use pq push --move to move it"], { patch: name });
    list = list.slice(0, at + 1);
  } else if (!opts.all) list = list.slice(0, 1);
  return list;
}

/** A patch file's sha1 from the stat cache, if the file has not changed since it was hashed. */
function knownPatchHash(ctx: OpContext, name: string): string | null {
  if (ctx.tx.writesQueueFile(name)) return null; // planned in this transaction
  const st = fileStat(`${ctx.queueDir}/${name}`);
  if (!st) return null;
  return ctx.statCache.patchHash(name, st) ?? null;
}

/**
 * A patch's hash, remembered under the stat its file had before it was read (`before`): an
 * edit landing after that stat changes the ctime, and the next push reads the file again. A
 * stat taken after the read would vouch for the edit with the old text's hash (t22).
 */
function rememberPatchHash(ctx: OpContext, name: string, text: string, before: FileStat | null, statedAt: number): string {
  const hash = sha1(text);
  if (before && !ctx.tx.writesQueueFile(name)) ctx.statCache.recordPatchHash(name, before, hash, statedAt);
  return hash;
}

/** Refusals of one patch (not of the tree or the stack): a push -a stops before that patch. */
const PATCH_REFUSALS = new Set<PqError["code"]>(["not-found", "unsupported", "bad-patch", "unsafe-path"]);

function fatesOf(app: PatchApplication): FileFate[] {
  return app.outcomes.map((o) => ({
    path: o.path,
    status: o.status,
    hunks: o.hunks,
    ...(o.missing ? { missing: true } : {}),
    ...(o.exists ? { exists: o.exists } : {}),
    ...(o.binary ? { binary: true } : {}),
    ...(o.change ? { change: o.change } : {}),
  }));
}

/**
 * Unrefreshed edits to a file the stack already changed would be folded into the pushed
 * patch's pre-image, and a later pop would restore the version below them: refuse, as hg does.
 */
function refuseOverEdits(ctx: OpContext, name: string, files: Record<string, FileChange>, expected: Map<string, Version>, planned: Set<string>): void {
  // `pre`: the version just before this patch, as this transaction sees it (on disk, or as an earlier step of the same transaction left it, as in absorb).
  const dirty = Object.keys(files).filter((p) => expected.has(p) && !planned.has(p) && files[p].pre !== expected.get(p));
  if (dirty.length) throw goneOrOverEdits(ctx, name, dirty, true);
}

/**
 * A patch's mode change that finds the file's mode already set (a hand `chmod +x` of a file
 * the patch makes executable) leaves the file as it was: the push would record it as only
 * read, and status would then call the mode the user's unrefreshed edit (t44 N8). It is an
 * edit since HEAD (or since the applied patches) like a content edit, refused the same way.
 * git is asked for HEAD's mode only for such files, which are rare.
 */
async function refuseModeSetByHand(
  ctx: OpContext,
  name: string,
  app: PatchApplication,
  expected: Map<string, Version>,
  planned: Set<string>,
  hadTop: boolean,
): Promise<void> {
  const unchanged = app.outcomes.filter((o) => o.change?.mode && !(o.path in app.files) && o.path in app.reads && !planned.has(o.path)).map((o) => o.path);
  if (!unchanged.length) return;
  const edited = unchanged.filter((p) => expected.has(p) && app.reads[p] !== expected.get(p));
  const fromHead = unchanged.filter((p) => !expected.has(p));
  const git = fromHead.length ? await ctx.repo() : null;
  if (git) {
    const head = entriesAt(ctx.tree, git.prefix, "HEAD", fromHead);
    for (const p of fromHead) {
      const mode = head.get(p)?.mode;
      if (mode !== undefined && (mode === "100755") !== versionExec(app.reads[p])) edited.push(p);
    }
  }
  if (edited.length) throw overEdits(ctx.tree, name, edited, hadTop, edited.some((p) => expected.has(p)));
}

/** overEdits, unless every file is back as below the stack: then the patches' changes are gone, which no refresh keeps (t102 N1). */
function goneOrOverEdits(ctx: OpContext, patch: string, files: string[], hadTop: boolean): PqError {
  const gone = revertedBelowStack(ctx, files);
  return gone.length === files.length ? changesGoneFrom(ctx.tree, gone, `the push of ${patch}`) : overEdits(ctx.tree, patch, files, hadTop);
}

/**
 * `inApplied`: the files are ones the applied patches change (a forced pop of those patches
 * takes the edits away, with a backup); otherwise no pop touches them.
 */
function overEdits(tree: string, patch: string, files: string[], hadTop: boolean, inApplied = hadTop): PqError {
  const aside = `commit them first, or ${setAsideAdvice(files, "pq push")}`;
  return new PqError(
    "dirty",
    `unrefreshed changes in ${files.join(", ")}, which ${patch} also changes`,
    [
      inApplied
        ? "pq refresh to keep them in the top patch first (or pq pop --force to drop them, with a backup)"
        : hadTop
          ? `pq refresh to keep them in the top patch, or ${aside}`
          : `${aside}; or make them a patch with pq new and pq refresh`,
    ],
    { patch, files, ...(inApplied ? {} : { pathsFrom: tree }) },
  );
}

/**
 * The other half of the rule above, for files no applied patch changes: their base is
 * HEAD, so a file the user edited since HEAD (and the push reads as it is on disk) would
 * become the pushed patch's pre-image, and the edit would ride along in its context.
 * hg refuses any push over local changes; pq refuses the ones in files the push touches.
 */
async function refuseOverBaseEdits(
  ctx: OpContext,
  firstTouch: Map<string, { patch: string; pre: Version }>,
  hadTop: boolean,
  dryRun: boolean,
): Promise<void> {
  await refuseInsideSubmodule(ctx, firstTouch.keys(), (path) => firstTouch.get(path)?.patch, !dryRun);
  const onDisk = [...firstTouch].filter(([path, t]) => t.pre === ctx.tx.ws.diskVersion(path)).map(([path]) => path);
  if (!onDisk.length) return;
  const dirty = await differFromHead(ctx, new Map(onDisk.map((path) => [path, firstTouch.get(path)!.pre])), { remember: !dryRun });
  // A change staged in git's index and not in the work tree (dry-6 #15): the push would not
  // take it, and a refresh would find the index apart from the patch.
  const staged = (await stagedAmong(ctx, onDisk, { remember: !dryRun })).filter((p) => !dirty.includes(p));
  if (staged.length) {
    const patch = firstTouch.get(staged[0])!.patch;
    const files = staged.filter((p) => firstTouch.get(p)!.patch === patch);
    throw new PqError(
      "dirty",
      `${files.join(", ")}, which ${patch} changes, ${files.length === 1 ? "has a change" : "have changes"} staged in git's index that the work tree does not have`,
      // Not git stash: its pop, without --index, gives back the work tree's side only, and the
      // staged change was dropped with the stash; with --index it refuses over the pushed file (t112 N9).
      [
        `commit them first (git diff --cached shows them), or unstage them: git diff --cached -- ${files.map(shellWord).join(" ")} > staged.diff keeps them, git restore --staged -- ${files.map(shellWord).join(" ")} drops them from the index; then pq push (git apply --cached staged.diff stages them again)`,
      ],
      { patch, files, pathsFrom: ctx.tree },
    );
  }
  if (!dirty.length) {
    const chmodded = await modeApartFromHead(ctx, onDisk, firstTouch, !dryRun);
    if (!chmodded.length) return;
    const patch = firstTouch.get(chmodded[0])!.patch;
    const files = chmodded.filter((p) => firstTouch.get(p)!.patch === patch);
    throw new PqError(
      "dirty",
      `${files.join(", ")}, which ${patch} changes, ${files.length === 1 ? "has" : "have"} another mode than in git's HEAD (a chmod): the push would take it as the patch's base, and no patch would hold it`,
      ["chmod it back, or commit the mode (git commit), or make it a patch with pq new and pq refresh, then pq push"],
      { patch, files },
    );
  }
  const patch = firstTouch.get(dirty[0])!.patch;
  // Files git does not track at all: no stash or refresh helps, committing them does.
  const head = await (await ctx.repo())?.headBlobIds(dirty);
  const untracked = dirty.filter((p) => firstTouch.get(p)!.patch === patch && head?.get(p) === null && firstTouch.get(p)!.pre !== null);
  if (untracked.length) {
    throw new PqError(
      "dirty",
      `${untracked.join(", ")}, which ${patch} changes, ${untracked.length === 1 ? "is" : "are"} not in git's HEAD (untracked): pq would take your copy as the patch's base and could not tell your edits from it`,
      [
        `git add and commit ${untracked.length === 1 ? "it" : "them"} first (or, for a generated file the project ignores, list it in .gitignore: ignored files are taken as they are), then pq push`,
      ],
      { patch, files: untracked },
    );
  }
  const files = dirty.filter((p) => firstTouch.get(p)!.patch === patch);
  const sparse = head ? outsideSparseCheckout(ctx.tree, files.filter((p) => firstTouch.get(p)!.pre === null)) : [];
  if (sparse.length) {
    throw new PqError(
      "refused",
      `${sparse.join(", ")}, which ${patch} changes, ${sparse.length === 1 ? "is" : "are"} outside git's sparse checkout (in git's index, not in the work tree): pq patches the work tree's files`,
      [`widen the checkout to ${sparse.length === 1 ? "it" : "them"} (git sparse-checkout add DIR), or end it (git sparse-checkout disable), then pq push`],
      { patch, files: sparse },
    );
  }
  const assumed = assumedUnchanged(ctx.tree, files);
  if (assumed.length) {
    const list = assumed.map(shellWord).join(" ");
    throw new PqError(
      "dirty",
      `unrefreshed changes in ${assumed.join(", ")}, which ${patch} also changes; git's index marks ${assumed.length === 1 ? "it" : "them"} assume-unchanged (git update-index --assume-unchanged), so git stash, git commit -a and pq refresh pass ${assumed.length === 1 ? "its edit" : "their edits"} by`,
      [`git update-index --no-assume-unchanged -- ${list}; then commit or stash the edits (git stash), or make them a patch with pq new and pq refresh, and pq push`],
      { patch, files: assumed, pathsFrom: ctx.tree },
    );
  }
  throw overEdits(ctx.tree, patch, files, hadTop, false);
}

/**
 * Of `paths`, the ones git's index marks assume-unchanged (ls-files -v: a lower-case tag), whose
 * edits git stash and a plain refresh do not see: each of overEdits' ways out did nothing (t112 N7).
 */
function assumedUnchanged(tree: string, paths: string[]): string[] {
  return taggedInIndex(tree, paths, "-v", (tag) => /^[a-z]$/.test(tag));
}

/**
 * Of `paths` (not in the work tree), the ones git's index marks skip-worktree: a sparse
 * checkout leaves them out, and git calls none of them changed. Said as such, where "unrefreshed
 * changes" had sent the user to a stash or a refresh that found nothing (t99 N2).
 */
function outsideSparseCheckout(tree: string, paths: string[]): string[] {
  return taggedInIndex(tree, paths, "-t", (tag) => tag === "S");
}

/** Of `paths`, the ones whose one-letter tag in `git ls-files -t` or `-v` (the `option`) passes `wanted`. */
function taggedInIndex(tree: string, paths: string[], option: "-t" | "-v", wanted: (tag: string) => boolean): string[] {
  if (!paths.length) return [];
  let out: string;
  try {
    out = gitOut(tree, ["ls-files", option, "-z", "--", ...paths.map((p) => `:(literal)${p}`)], "latin1");
  } catch {
    return [];
  }
  const tagged = new Set(
    out
      .split("\0")
      .filter((f) => f[1] === " " && wanted(f[0]))
      .map((f) => Buffer.from(f.slice(2), "latin1").toString("utf8")),
  );
  return paths.filter((p) => tagged.has(p));
}

/**
 * Which of `paths` (tracked, their content as at HEAD) the disk holds with another executable bit
 * than HEAD's: a chmod of a file no applied patch changes. Taken as the pushed patch's base, it
 * was in no patch, unseen by status, diff and refresh, and pq finish committed it with the patch
 * (t72 N2). Where git does not trust the bit (core.fileMode false) nothing is compared. A path
 * found alike at HEAD commit C stays so while HEAD is C (kept in the stat cache, as
 * differFromHead keeps its verdicts): a warm push asks git nothing.
 */
async function modeApartFromHead(
  ctx: OpContext,
  paths: string[],
  firstTouch: Map<string, { patch: string; pre: Version }>,
  remember: boolean,
): Promise<string[]> {
  if (!execBitsTrusted(ctx.tree)) return [];
  const head = readHeadCommit(ctx.tree);
  if (head === null) return [];
  // Kept in differFromHead's own verdict, with " m" after it: the content found HEAD's (asked first) and the mode too.
  // (A key of its own for each file made the stat cache, read by every command, ~30 KB longer for 1000 patches.)
  const key = (path: string) => `\0head/${path}`;
  const verdict = (path: string) => `${head} ${firstTouch.get(path)!.pre} m`;
  const unverified = paths.filter((p) => firstTouch.get(p)!.pre !== null && ctx.statCache.lookupKey(key(p)) !== verdict(p));
  if (!unverified.length) return [];
  const git = await ctx.repo();
  if (!git) return [];
  const entries = entriesAt(ctx.tree, git.prefix, head, unverified);
  const apart = unverified.filter((p) => {
    const mode = entries.get(p)?.mode;
    return (mode === "100644" || mode === "100755") && (mode === "100755") !== versionExec(firstTouch.get(p)!.pre);
  });
  const apartSet = new Set(apart);
  if (remember) for (const p of unverified) if (!apartSet.has(p)) ctx.statCache.recordKey(key(p), verdict(p));
  return apart;
}

export async function planPush(ctx: OpContext, opts: PushOptions): Promise<PushOutcome> {
  const { tx } = ctx;
  const emit = opts.onEvent ?? ctx.emit;
  refuseIfTopNeedsRefresh(tx.state, "push", opts.force);
  const list = chooseList(ctx, opts);
  const report: PushReport = { pushed: [], top: tx.state.applied.at(-1)?.name ?? null, ...(opts.dryRun ? { dryRun: true } : {}) };
  if (!list.length) return { report };
  const ws = tx.ws;
  const series = tx.seriesView();
  // Each patch's -pN, looked up once per push (Series.stripOf searches the lines: 1000 patches made it quadratic).
  const strips = series.stripLevels();
  const stripOf = (name: string) => strips.get(name) ?? 1;
  const expected = expectedVersions(tx.state.applied);
  const planned = new Set<string>();
  const hadTop = tx.state.applied.length > 0;
  // Files no applied patch changes, with the first pushed patch that reads them.
  const firstTouch = new Map<string, { patch: string; pre: Version }>();
  const noteTouches = (name: string, files: Record<string, FileChange>) => {
    for (const p in files) if (!expected.has(p) && !planned.has(p)) firstTouch.set(p, { patch: name, pre: files[p].pre });
  };
  /** A reused result (a cache hit, or a patch of a remembered run) goes on the stack, reported as cached. */
  const admitReused = (record: AppliedPatch, notes: string[]) => {
    // One pass, no arrays made: a warm push admits a thousand records of ~2,700 files.
    const files = record.files;
    for (const p in files) {
      if (!expected.has(p) && !planned.has(p)) firstTouch.set(p, { patch: record.name, pre: files[p].pre });
      planned.add(p);
    }
    tx.state.applied.push(record);
    // A reused push reports what the first one did (offsets), so rebase and the user see the same.
    report.pushed.push({ name: record.name, cached: true, notes });
  };
  const git = opts.merge ? await ctx.repo() : null;
  // Cache hits in a row are planned in `run` and `chain` (each path's version after them)
  // and go into the working set together, before the next patch that has to be applied and
  // at the end: a warm push of a thousand patches passes ~2,700 file versions through its
  // hits, and the working set's bookkeeping for each cost more than the rest of the replay.
  let run: { index: number; name: string; hash: string; entry: PushCacheEntry }[] = [];
  const chain = new Map<string, Version>();
  /**
   * A path's version for a cache hit, checked as an applied patch's paths are (inside the tree,
   * not in the queue directory, not through a symlink, a regular file or none): a refusal here
   * means no hit, and the patch is applied, which refuses it by name (see cachedEntry).
   */
  const versionNow = (path: string): Version => {
    if (chain.has(path)) return chain.get(path)!;
    ws.checkPath(path, "path");
    return ws.version(path);
  };
  /** Whether the push so far makes a file inside `dir` (a hit of the run, or planned before it). */
  const madeUnder = (dir: string): boolean => {
    const prefix = `${dir}/`;
    for (const [path, version] of chain) if (version !== null && path.startsWith(prefix)) return true;
    return ws.plannedFileUnder(dir) !== undefined;
  };
  /** The push cache's entry for this patch over the versions so far, or null (also when one of its paths is refused). */
  const cachedEntry = (name: string, hash: string, careful: boolean): PushCacheEntry | null => {
    try {
      const entry = ctx.pushCache.match(pushCacheKey(hash, stripOf(name)), versionNow, careful ? (id) => ctx.store.present(id) : undefined);
      // A file made inside a directory that is a file of the stack: applied, the patch is refused by name.
      const stackFiles = { has: (p: string) => expected.has(p) || planned.has(p) || chain.has(p) };
      // Or a file made where a patch before it in this push made a directory (t117 N7).
      if (entry && Object.entries(entry.files).some(([path, [pre, post]]) => pre === null && post !== null && (underStackFile(path, stackFiles) || madeUnder(path))))
        return null;
      return entry;
    } catch (e) {
      if (e instanceof PqError) return null;
      throw e;
    }
  };
  /** Files the pushed patches read and left as they were, with the version first read (see PatchApplication.reads). */
  const reads = new Map<string, Version>();
  /** Patches whose remembered results were found missing from the store: replayed only from an entry that has them all. */
  const careful = new Set<number>();
  /**
   * Plans the run of hits; returns where the push goes on: after the run, or at the first
   * hit whose results the object store lost (then replayed carefully or applied again).
   */
  const commitRun = (next: number): number => {
    if (!run.length) return next;
    // The versions the run leaves are the ones the executor writes or the next patch reads,
    // and the last patch's own before-versions are what a refresh or a diff of the top reads:
    // they must be in the store. Those in between are read only by a pop into the middle of
    // the run, which checks them and rebuilds a lost one from the patches.
    let kept = run.length;
    const needed = [...chain.values(), ...Object.values(run.at(-1)!.entry.files).map(([pre]) => pre)];
    if (!needed.every((v) => v === null || ctx.store.present(versionId(v)!))) {
      kept = run.findIndex((hit) => Object.values(hit.entry.files).some(([, post]) => post !== null && !ctx.store.present(versionId(post)!)));
      // (Always found: every version in the chain is some hit's result.)
      if (kept === -1) kept = run.length;
      else careful.add(run[kept].index);
    }
    const last = new Map<string, Version>();
    for (const { name, hash, entry } of run.slice(0, kept)) {
      const files = pathMap<FileChange>();
      for (const [path, [pre, post]] of Object.entries(entry.files)) {
        // Read, not changed (a copy's source): checked by the match, no part of the record.
        if (pre === post) {
          if (!reads.has(path)) reads.set(path, pre);
          continue;
        }
        files[path] = { pre, post };
        // The version on disk before the push: stored, so that a pop or an undo can restore it.
        if (!last.has(path)) ws.preserve(path);
        last.set(path, post);
      }
      refuseOverEdits(ctx, name, files, expected, planned);
      admitReused({ name, hash, files, ...(entry.renames?.length ? { renames: entry.renames } : {}) }, entry.notes ?? []);
    }
    for (const [path, version] of last) ws.setVersion(path, version);
    const resume = kept < run.length ? run[kept].index : next;
    run = [];
    chain.clear();
    return resume;
  };
  // Each patch's hash from the stat cache when its file is unchanged (a warm push reads no
  // patch), asked once: the whole-run lookup below asks for all of them first.
  const knownHashes = new Map<string, string | null>();
  const hashKnown = (name: string): string | null => {
    if (!knownHashes.has(name)) knownHashes.set(name, opts.dryRun ? null : knownPatchHash(ctx, name));
    return knownHashes.get(name)!;
  };
  /**
   * The whole push as a remembered run (see push-run.ts), when it applies as it is: its
   * records go in at once, as a run of push-cache hits would (see commitRun).
   */
  const replayRun = (): boolean => {
    // The run's paths were checked against the same reserved paths (they are in its key): read, not checked again.
    const found = opts.dryRun ? null : matchingRun(ctx, { list, hashOf: hashKnown, stripOf, versionOf: (path) => ws.version(path), expected });
    if (!found) return false;
    const files = Object.entries(found.files);
    for (const [path] of files) ws.preserve(path);
    // The state's text takes the run's records as the run's text has them (see Transaction.stateText).
    // A path the run has with the same version before and after is a file one of its patches
    // only read, or changed and changed back: a run remembered before it said which is parsed to tell.
    const records = found.applied ?? (files.some(([, [pre, post, same]]) => pre === post && !same) ? adoptRecords(JSON.parse(found.appliedText!) as AppliedPatch[]) : null);
    if (records !== null) {
      const from = tx.state.applied.length;
      for (const [i, record] of records.entries()) admitReused(record, found.notes[i] ?? []);
      if (found.appliedText !== null) tx.appliedText = { from, records, text: found.appliedText, prior: [], lazy: false, runId: found.id };
    } else admitUnparsed(found.appliedText!, files, found.notes, found.id);
    for (const [path, [, post]] of files) ws.setVersion(path, post);
    emit({ kind: "push", message: `applying ${list.at(-1)}`, current: list.length, total: list.length });
    return true;
  };
  /**
   * admitReused for a run whose records stay text (see Transaction.appendAppliedText): the
   * report from the list and the run's notes; the files no applied patch changes, for the check
   * against git's HEAD, from the run's files but those its patches only read (each one's
   * version before the run), the patch first changing each found only if that check refuses.
   */
  const admitUnparsed = (text: string, files: [string, RunFile][], notes: string[][], runId: string): void => {
    const from = tx.state.applied.length;
    tx.appendAppliedText(text, null, runId, list);
    for (const [path, [pre, , same]] of files) {
      if (same === "read" || expected.has(path) || planned.has(path)) continue;
      firstTouch.set(path, { pre, patch: "" });
    }
    // In the run's files the paths are in JSON's order (names that are numbers first), not the
    // patches': should the check refuse, the records say which patch changes which file first.
    touchesInRecords = () => {
      firstTouch.clear();
      for (const record of tx.state.applied.slice(from))
        for (const path in record.files) if (!expected.has(path) && !firstTouch.has(path)) firstTouch.set(path, { patch: record.name, pre: record.files[path].pre });
    };
    for (const [i, name] of list.entries()) report.pushed.push({ name, cached: true, notes: notes[i] ?? [] });
  };
  /** Set by admitUnparsed: puts firstTouch in the patches' order, from the records. */
  let touchesInRecords: (() => void) | null = null;
  /** Whether every patch of this push had a result the push cache would keep (no fuzz, refresh or missing data). */
  let cacheable = true;
  /**
   * The push stopped at patch `at` by a refusal of that patch alone: the outcome with the
   * patches before it pushed (null: the refusal stands for the whole push, as when nothing
   * was pushed before it or a dry run asked).
   */
  const stopBefore = async (e: unknown, at: number): Promise<PushOutcome | null> => {
    if (!(e instanceof PqError) || !PATCH_REFUSALS.has(e.code)) return null;
    if (commitRun(at) < at || !report.pushed.length) return null;
    await refuseOverBaseEdits(ctx, firstTouch, hadTop, Boolean(opts.dryRun));
    report.top = tx.state.applied.at(-1)?.name ?? null;
    // A dry run stops where the push would, after the same patches (dry-6 #10).
    if (opts.dryRun) report.wouldFail = { name: list[at], cached: false, notes: [e.message], files: [] };
    const note = opts.dryRun
      ? `${report.pushed.length} patch(es) before it would be applied; the top would be ${report.top}`
      : `${report.pushed.length} patch(es) before it were applied; the top is now ${report.top}`;
    // The refusal's own "nothing was changed" is of that patch alone: the patches before it were applied (verify-6 N9).
    const message = e.message.replace(/(;|,)? (and )?nothing was changed$/, "");
    return { report, failure: new PqError(e.code, `${message} (${note})`, e.details, { ...e.data, patch: e.data.patch ?? list[at] }) };
  };
  const replayed = replayRun();
  let appliedHere = 0;
  for (let i = replayed ? list.length + 1 : 0; i <= list.length; i++) {
    if (i === list.length) {
      // The end: the last run of hits goes in (or the push goes back to a hit it cannot reuse).
      const resume = commitRun(i);
      if (resume < i) i = resume - 1;
      continue;
    }
    const name = list[i];
    emit({ kind: "push", message: `applying ${name}`, current: i + 1, total: list.length });
    // Every 64 patches the event loop gets a turn: a TUI running the push draws its progress
    // and reads keys meanwhile (a cold push of thousands plans for seconds).
    if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    // The patch's hash comes from the stat cache when the file is unchanged: a warm push
    // reads no patch at all.
    const known = hashKnown(name);
    let text: string | null = null;
    const statedAt = Date.now();
    const statBefore = known ? null : fileStat(`${ctx.queueDir}/${name}`);
    try {
      // Not kept as a version the plan read: a push writes no patch file (see Transaction.queueFile).
      text = known ? null : tx.patchText(name, false);
      failpoint("patch-read");
    } catch (e) {
      // A patch file that is missing: the push goes up to the patch before it, as quilt's does.
      const stopped = await stopBefore(e, i);
      if (stopped) return stopped;
      throw e;
    }
    const hash = known ?? rememberPatchHash(ctx, name, text!, statBefore, statedAt);
    const entry = opts.dryRun ? null : cachedEntry(name, hash, careful.has(i));
    if (entry) {
      run.push({ index: i, name, hash, entry });
      for (const [path, [, post]] of Object.entries(entry.files)) chain.set(path, post);
      if (!careful.has(i)) continue;
    }
    const resume = commitRun(i);
    if (resume < i) {
      i = resume - 1;
      continue;
    }
    if (entry) continue; // a careful replay, planned
    // A long push that applies patches will ask git at its end (see askGitAhead): ask now.
    if (++appliedHere === ASK_GIT_AFTER) askGitAhead(ctx);
    ws.begin();
    let app: PatchApplication;
    try {
      app = await applyPatchText(ws, name, text ?? tx.patchText(name, false), {
        force: opts.force,
        merge: opts.merge,
        fuzz: opts.fuzz,
        git,
        strip: stripOf(name),
        stackFile: (path) => expected.has(path) || planned.has(path),
        recordedBase: (path, blob) => recordedBase(ctx, hash, stripOf(name), path, blob),
      });
    } catch (e) {
      // A patch pq refuses as a whole (a symlink, a path out of the tree, an unreadable diff):
      // the ones before it are pushed, as when a hunk fails; the refusal says why it stopped.
      ws.rollback();
      e = directoryIntoFile(e, name, () => text ?? tx.patchText(name, false));
      const stopped = await stopBefore(e, i);
      if (stopped) return stopped;
      throw e;
    }
    if (app.failed) {
      // Edits not refreshed yet in a file of the failing patch are the likelier reason it does
      // not apply: say that (exit 5), before --force would apply over them and the next
      // refresh take them into this patch.
      // A file the patch creates that is there already is the reason itself, not an edit to it.
      const touched = app.outcomes.filter((o) => !o.exists).map((o) => o.path).filter((p) => !planned.has(p));
      // As this transaction sees the file: on disk, or as an earlier step of it left it (the pop of
      // a select --reapply, t154 N2: its popped files are no edits).
      const seen = (p: string) => ws.versionBeforeStep(p);
      const edited = touched.filter((p) => expected.has(p) && seen(p) !== expected.get(p));
      if (edited.length) {
        ws.rollback();
        throw goneOrOverEdits(ctx, name, edited, hadTop);
      }
      const base = new Map(touched.filter((p) => !expected.has(p)).map((p) => [p, { patch: name, pre: seen(p) }]));
      if (base.size) await refuseOverBaseEdits(ctx, base, hadTop, Boolean(opts.dryRun));
    }
    if (!app.failed || opts.force) {
      refuseOverEdits(ctx, name, app.files, expected, planned);
      await refuseModeSetByHand(ctx, name, app, expected, planned, hadTop);
      noteTouches(name, app.files);
    }
    if (app.failed && !opts.force) {
      ws.rollback();
      const pushedNote = report.pushed.length
        ? `${report.pushed.length} patch(es) before it ${opts.dryRun ? "would be" : "were"} applied; the top ${opts.dryRun ? "would be" : "is now"} ${report.pushed.at(-1)!.name}`
        : `nothing ${opts.dryRun ? "would change" : "was changed"}`;
      const failed = app.outcomes.find((o) => o.status === "failed" || o.status === "conflict");
      const hunk = failed?.hunks.find((h) => h.status === "failed");
      if (opts.dryRun) report.wouldFail = { name, cached: false, notes: describeFailures(app), files: fatesOf(app) };
      // A new file where the tree has one: neither --force (a .rej of the whole file) nor a merge helps.
      const patchText = () => text ?? tx.patchText(name);
      // Its changes already in the tree (it applies in reverse: its mail went through git am, or a
      // commit holds it): --force and --merge only make an empty patch of it (t102 N6; quilt says
      // "can be reverse-applied").
      // A file it makes already there with that content counts too (t109 N5: "remove it" was said of a committed file).
      // Only where git's HEAD has the file: an untracked one is a leftover of an earlier push, to remove (readme-4 #17).
      const sameInHead = async () => failed?.path !== undefined && ((await (await ctx.repo())?.headBlobIds([failed.path]))?.get(failed.path) ?? null) !== null;
      const applied =
        (!failed?.exists || (failed.exists === "same" && (await sameInHead()))) && containedUpstream((p) => ws.content(p), patchText(), undefined, () => null);
      // Whether a three-way merge could help, asked once: said in the advice, and kept in the error's
      // data (`unknownBase`: the blob the patch started from is nowhere here), which a sync reads.
      const help = applied || failed?.exists ? null : await mergeHelp(ctx, patchText(), stripOf(name), failed?.path, failed?.missing, (p) => ws.content(p));
      const generic = applied
        ? [
            `${name}'s changes are already in the tree (it applies in reverse: a git am of its mail, or a commit that holds it?): pq delete ${operandWords(name)} drops it from the queue (pq rebase drops such patches itself when it moves the base)`,
          ]
        : !help
          ? []
          : [
              ...(opts.merge && !help.can ? [`a three-way merge could not help: ${help.why}`] : []),
              `pq push --force applies the hunks that fit and writes .rej files${opts.merge ? "" : help.can ? "; pq push --merge tries a three-way merge" : `; pq push --merge cannot help here (${help.why})`}`,
            ];
      const failure = new PqError(
        "apply-failed",
        `${name} does not apply (${pushedNote})`,
        [...describeFailures(app).filter((line) => !(applied && line.includes("with the very content the patch makes"))), ...generic],
        {
          patch: name,
          file: failed?.path,
          hunk: hunk?.index,
          line: hunk?.line,
          files: fatesOf(app),
          ...(help?.unknownBase ? { unknownBase: true } : {}),
        },
      );
      report.top = tx.state.applied.at(-1)?.name ?? null;
      await refuseOverBaseEdits(ctx, firstTouch, hadTop, Boolean(opts.dryRun));
      return { report, failure };
    }
    Object.keys(app.files).forEach((p) => planned.add(p));
    const needsRefresh = app.conflicts ? "conflict" : app.failed ? "forced" : undefined;
    const rejects = Object.keys(app.rejects);
    const hunks = app.outcomes.flatMap((o) => o.hunks);
    const inexact = app.outcomes.some((o) => o.status === "merged")
      ? "merge"
      : hunks.some((h) => h.eol)
        ? "eol"
        : hunks.some((h) => h.status === "fuzz")
          ? "fuzz"
          : undefined;
    const record: AppliedPatch = {
      name,
      hash,
      files: app.files,
      ...(app.renames.length ? { renames: app.renames } : {}),
      ...(needsRefresh ? { needsRefresh } : {}),
      ...(rejects.length ? { rejects: rejects.map((p) => `${p}.rej`) } : {}),
      ...(inexact ? { inexact } : {}),
    };
    tx.state.applied.push(record);
    const pushed: PushedPatch = { name, cached: false, notes: describeFuzz(app), files: fatesOf(app), ...(needsRefresh ? { needsRefresh } : {}) };
    if (app.binaryWithoutData.length) pushed.binaryWithoutData = app.binaryWithoutData;
    if (rejects.length) {
      pushed.rejects = rejects.map((p) => `${p}.rej`);
      // GNU patch writes over a .rej that is there; pq says so (the undo of the push brings it back).
      const replaced = pushed.rejects.filter((rej) => ws.version(rej) !== null);
      if (replaced.length) pushed.rejectsReplaced = replaced;
      // The .rej files are part of the same transaction (and go away with its undo).
      record.rejectsWritten = Object.entries(app.rejects).map(([path, rej]) => versionId(ws.set(`${path}.rej`, rej, false))!);
    }
    if (needsRefresh) pushed.notes.push(...describeFailures(app));
    report.pushed.push(pushed);
    // Not cached when there is something to report: a reused push reports nothing.
    // Nor a three-way merge's result: a later push without --merge would take it as if the patch applied.
    const merged = app.outcomes.some((o) => o.status === "merged");
    for (const [path, version] of Object.entries(app.reads)) if (!reads.has(path)) reads.set(path, version);
    if (!needsRefresh && !app.fuzzy && !merged && !app.binaryWithoutData.length && !app.namesChosen && !opts.dryRun) {
      const readFiles = Object.entries(app.reads).map(([path, v]): [string, FileChange] => [path, { pre: v, post: v }]);
      ctx.pushCache.record(pushCacheKey(hash, stripOf(name)), pathMap([...readFiles, ...Object.entries(app.files)]), app.renames, pushed.notes);
    } else cacheable = false;
    if (needsRefresh) break; // the tree needs the user before anything goes on top
  }
  try {
    await refuseOverBaseEdits(ctx, firstTouch, hadTop, Boolean(opts.dryRun));
  } catch (e) {
    if (!touchesInRecords) throw e;
    // Refused as a patch-by-patch push would be: its first file, by its first patch (t24 F3).
    (touchesInRecords as () => void)();
    await refuseOverBaseEdits(ctx, firstTouch, hadTop, Boolean(opts.dryRun));
    throw e;
  }
  if (!replayed && cacheable && !opts.dryRun && list.length >= RUN_MIN && report.pushed.length === list.length) rememberRun(ctx, list, stripOf, report.pushed.map((p) => p.notes), reads);
  // A replayed run's records may be text still: its top is the list's last (reading the state would parse them).
  report.top = replayed ? list.at(-1)! : (tx.state.applied.at(-1)?.name ?? null);
  return { report };
}

/**
 * Patches applied (not reused) before the push starts git's answers for its end: a short push
 * whose answers are all remembered starts no git at all.
 */
const ASK_GIT_AFTER = 32;

/** How many operations back recordedBase looks for a file's versions. */
const RECORDED_BASE_DEPTH = 500;

/**
 * The bytes of a version of `path` that pq recorded and whose git blob id starts with `blob`
 * (a patch's `index` line names its pre-image so), or null. A patch above one that `refresh -p`
 * or absorb changed (stack-6 #16), or above a refreshed one, was made on a version that pq
 * wrote and git never stored: its push cache entries and the operation log's recent moves of
 * the file hold it.
 */
export function recordedBase(ctx: Pick<OpContext, "store" | "pushCache" | "tree">, patchHash: string, strip: number, path: string, blob: string): string | null {
  const prefix = blob.toLowerCase();
  if (!/^[0-9a-f]{7,40}$/.test(prefix) || /^0+$/.test(prefix)) return null;
  const tried = new Set<string>();
  const matches = (version: Version | undefined): string | null => {
    const id = version === undefined ? null : versionId(version);
    if (id === null || tried.has(id)) return null;
    tried.add(id);
    let text: string;
    try {
      text = ctx.store.get(id);
    } catch {
      return null; // not in the store (or damaged): not a base
    }
    return sha1(`blob ${text.length}\0${text}`).startsWith(prefix) ? text : null;
  };
  for (const entry of ctx.pushCache.candidates(pushCacheKey(patchHash, strip))) {
    const found = matches(entry.files[path]?.[0]);
    if (found !== null) return found;
  }
  const log = new OplogReader(statePaths(ctx.tree).oplog);
  for (let e = log.older(), n = 0; e !== null && n < RECORDED_BASE_DEPTH; e = log.older(), n++) {
    for (const [p, before, after] of e.tree) {
      if (p !== path) continue;
      const found = matches(before) ?? matches(after);
      if (found !== null) return found;
    }
  }
  return null;
}

/**
 * The file as the tree has it, where it is the blob the patch names: a version the pushed
 * patches made is in neither git nor (before a push records it) pq's runs, and the first push
 * said "git does not have the blob" of the very file in the tree (t130 N1).
 */
function treeFileAsBlob(content: (path: string) => string | null, names: readonly string[], blob: string): string | null {
  for (const name of names) {
    const text = content(name);
    if (text !== null && gitBlobId(text).startsWith(blob)) return text;
  }
  return null;
}

/**
 * Whether --merge can help a patch that failed on `path`: a three-way merge needs the blob its
 * index line names for that file, in the tree's git (a patch made elsewhere, or by a plain diff,
 * has none) or among the versions pq recorded, and the patch must apply to that blob itself (one
 * edited by hand may not: readme-15 F5). `can`: it can; else `why` says why not.
 */
export async function mergeHelp(
  ctx: Pick<OpContext, "repo" | "store" | "pushCache" | "tree">,
  text: string, strip: number, path: string | undefined, missing = false,
  /** The file as the operation has it so far (a push's earlier patches, not yet on disk); else the disk's. */
  current?: (path: string) => string | null): Promise<{ can: boolean; why: string; unknownBase?: true }> {
  if (missing) return { can: false, why: "the file is not in the tree to merge into" };
  let file: ReturnType<typeof parsePatch>["files"][number] | undefined;
  try {
    file = parsePatch(text, { strip }).files.find((f) => f.newPath === path || f.oldPath === path);
  } catch {
    file = undefined;
  }
  if (file?.binary) return { can: false, why: "a binary file cannot be merged" };
  const blob = file?.index?.oldBlob;
  // An all-zero blob is git's "no file before": a new file has nothing to merge from.
  if (blob && /^0+$/.test(blob)) return { can: false, why: "the patch creates the file: there is no earlier version to merge from" };
  if (!blob || !file) return { can: false, why: "the patch names no blob to merge from" };
  const git = await ctx.repo();
  // A moved file's base is recorded under its old name, where the merge looks for it (t52 N14).
  const names = [...new Set([file.oldPath, path].filter((p): p is string => p !== null && p !== undefined))];
  const base =
    (git ? await git.blob(blob) : null) ??
    names.map((p) => recordedBase(ctx, sha1(text), strip, p, blob)).find((b) => b !== null) ??
    treeFileAsBlob(current ?? ((p) => readText(join(ctx.tree, p))), names, blob);
  if (base === null) return { can: false, why: `git does not have the blob ${blob} the patch started from`, unknownBase: true };
  if (!applyFilePatch(base, file, { fuzz: 0 }).ok)
    return { can: false, why: `the patch does not apply to the blob ${blob} it names either: was it edited by hand?` };
  return { can: true, why: "" };
}

/**
 * A directory in the tree where the patch makes a file, refused by the working set as any read
 * of a directory is: said as the patch's doing when the patch also deletes the files in it (a
 * directory turned into a file, which pq does not apply), naming the patch (interop-17 F8: the
 * refusal spoke of pq add and named no patch).
 */
function directoryIntoFile(e: unknown, name: string, patchText: () => string): unknown {
  if (!(e instanceof PqError) || e.code !== "unsupported" || typeof e.data.file !== "string" || !e.message.includes("is a directory where pq expects a file"))
    return e;
  const dir = e.data.file;
  let emptied: string[] = [];
  try {
    emptied = parseNamedPatch(name, patchText()).files.flatMap((f) => (f.newPath === null && f.oldPath?.startsWith(`${dir}/`) ? [f.oldPath] : []));
  } catch {
    /* unreadable: the refusal as it was, with the patch's name */
  }
  if (!emptied.length) return new PqError(e.code, `${name}: ${e.message}`, e.details, { ...e.data, patch: name });
  return new PqError(
    "unsupported",
    `${name} turns the directory ${dir} into a file (it deletes ${emptied.slice(0, 3).join(", ")}${emptied.length > 3 ? ", ..." : ""} and makes ${dir}): pq does not apply a patch that changes a directory into a file`,
    ["split it in two: one patch that deletes the directory's files, then one that makes the file (git apply takes it as it is)"],
    { ...e.data, patch: name },
  );
}

/**
 * A push's refusal of one patch, for a caller that takes its whole plan back when the push stops
 * (uncommit): without the note that the patches before it were applied, which then were not (t145 N6).
 */
export function refusalOfWholePlan(failure: PqError): PqError {
  const message = withoutStopNote(failure.message);
  return message === failure.message ? failure : new PqError(failure.code, `${message}; nothing was changed`, failure.details, failure.data);
}

/** A push's refusal's message without the note stopBefore adds of the patches pushed before it. */
export function withoutStopNote(message: string): string {
  return message.replace(/ \(\d+ patch\(es\) before it were applied; the top is now [^)]*\)$/, "");
}
