/**
 * The patch stack: a queue directory (series + patch files, shareable and versioned) and
 * this tree's state in `.pq/`. The Stack opens and finds stacks, answers queries, and runs
 * every operation the same way: take the tree lock, replay an interrupted journal, re-read
 * the state (another pq may have changed it), let the operation's planner (ops/*.ts) fill
 * one Transaction, and hand it to the executor, which writes it all-or-nothing and logs it
 * for undo. Refusals leave the tree and the queue untouched.
 */
import { goneStack, refuseEnclosingStack, refuseGoneStack, refuseMissingQueue, refuseQueueLinkedOut } from "./stack-refusals.js";
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { mark } from "../core/timings.js";
import { PqError } from "../errors.js";
import { operandWords, shellWord } from "../core/shell-word.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import type { GitRepo } from "../git/repo.js";
import { guardStateDirFromClean } from "../git/clean-guard.js";
import { holdsRepository } from "../git/head.js";
import { parseHeader, type PatchHeader } from "../mail/header.js";
import { asciiJson, fileStat, readText, removeDeadTemporaries, sha1, writeAtomic } from "../tree/files.js";
import { lockHolder, takeWaiting, TreeLock } from "../tree/lock.js";
import { takeQueueLock } from "./queue-lock.js";
import { ObjectStore } from "../tree/objects.js";
import { PushCache, StatCache } from "./caches.js";
import { execute, recover, type ExecContext } from "./executor.js";
import { failpoint } from "../core/failpoint.js";
import { recentOperations, type OplogEntry, type RecentOperations } from "./oplog.js";
import { buildPatchDiff, textHunkPaths } from "./refresh-diff.js";
import { carryCiVerdicts, ciVerdicts } from "./ci-verdicts.js";
import { changesGone, filesGone, isPqOwnPath, planRefresh, versionsBelowStack, versionText, type ChangesGone } from "./refresh-plan.js";
import { isPushable, Series, type SeriesEntry } from "./series.js";
import {
  adoptState,
  ensureStateDir,
  loadState,
  pathMap,
  loadStateAndText,
  refuseDuringInterruptedSync,
  refuseDuringStoppedRebase,
  refuseDuringStoppedSync,
  refuseDuringStoppedSyncMove,
  saveState,
  statePaths,
  STATE_DIR,
  versionId,
  type AppliedPatch,
  type FileChange,
  type StackState,
  type Version,
} from "./state.js";
import { appliedNames, missingPatchFile, topName, Transaction } from "./transaction.js";
import { keepQueueAtInit } from "./restore-queue.js";
import { checkQuiltQueue, planQuiltTakeover, quiltAppliedStack, withQuiltHint, type QuiltTakeover } from "./quilt-takeover.js";
import { dropDiffstat, headerOf, joinHeaderAndDiff } from "./patch-text.js";
import { differFromHead, namesNothing, setAsideAdvice, planContext, pushCandidates, requireTop, resolveName, type OpContext, type StackTarget } from "./ops/context.js";
import { mergeHelp, planPush, type PushOptions, type PushReport } from "./ops/push.js";
import { belowHandCommits, headMovedUnder, planPop, refuseCommitsOnTop, unstagePoppedContent, type HeadMoved, type PopOptions, type PopReport } from "./ops/pop.js";
import { planAdd, planNew, planRefreshTop, planRemove, planRevert, planSetHeader, planWritePatch, type RefreshOptions, type RefreshReport } from "./ops/refresh.js";
import { planDelete, planInsert, planRename, planReorder, planSelect, planSetGuards, type ImportItem, type ReorderWhere } from "./ops/series-edit.js";
import { planFold, type FoldReport } from "./ops/fold.js";
import { planFinish } from "./ops/finish.js";
import { planUndo, type UndoReport } from "./ops/undo.js";
import { leadsOutside, notUtf8Path, QUILT_STATE_DIR, queueInTree, sameDirectory } from "../tree/paths.js";
import { pathInQueue, readQueueText, type QueuePlace } from "./names.js";

export { diffOf, headerOf } from "./patch-text.js";
export type { StackTarget } from "./ops/context.js";
export type { PushReport, PushedPatch, PushOptions } from "./ops/push.js";
export type { PopReport } from "./ops/pop.js";
export type { RefreshReport } from "./ops/refresh.js";
export type { UndoReport } from "./ops/undo.js";

export interface StackOptions {
  tree: string;
  queue?: string;
  onEvent?: EventSink;
  /** The command line asking, recorded in the operation log. */
  command?: string;
  /** A reader that must write nothing (a dry run): an interrupted operation is left for the next command, not completed at open. */
  leaveInterrupted?: boolean;
  /**
   * A command that works without the active queue's directory (pq queue list, switch, delete):
   * a directory that is gone or leads out of the tree is kept in `queueAway`, not refused, so
   * that the way to another queue stays open (t142 N4).
   */
  queueMayBeAway?: boolean;
}

export interface StackStatus {
  top: string | null;
  /** Files git's index holds unresolved conflicts for (see RefreshPlan.unmerged). */
  unmerged?: string[];
  /** The top patch's file differs from the version that was applied (e.g. after a pull). */
  topChangedInQueue?: boolean;
  /** Every applied patch whose file differs from the version that was applied, bottom first. */
  changedInQueue?: string[];
  /**
   * Unapplied patches the series lists whose patch file is gone (a delete by hand, a git clean
   * of an untracked queue), in series order: a push stops there (t143 N3).
   */
  unappliedMissing?: string[];
  applied: number;
  unapplied: number;
  needsRefresh?: "forced" | "conflict";
  /** Applied patches whose file does not apply as it is (fuzz, line endings; see AppliedPatch.inexact), bottom first. */
  inexact?: { name: string; reason: "fuzz" | "eol" | "merge" }[];
  /** Files whose changes are not yet in the top patch (what refresh would take). */
  pending: string[];
  /** Changed files of a Debian queue's packaging, which a refresh leaves out (see RefreshPlan.packaging). */
  packaging?: string[];
  untracked: string[];
  guards: string[];
  /**
   * Applied patches the selected guards exclude (a guard set on them, or a selection changed,
   * after they were pushed), bottom first: a pop and push -a would leave them out (t77 N5).
   */
  guardedOff?: string[];
  /**
   * Why the tree could not be read for `pending` (a directory became a symlink, a file a
   * directory): status reports it where the other commands refuse, so the stack stays visible.
   */
  unreadable?: { message: string; details: string[]; data: Record<string, unknown> };
  /**
   * Files the applied patches change that HEAD's commits changed since the stack was pushed
   * (the patches committed by hand with git commit -a, or a pull under them): pop refuses
   * over them, and status says so first.
   */
  committedUnder?: string[];
  /** With committedUnder: HEAD moved under the patches rather than their being committed (see headMovedUnder). */
  headMoved?: HeadMoved;
  /** With committedUnder and no headMoved (the patches committed by hand): the commit below those commits (see belowHandCommits), where HEAD's reflog has the one they were pushed on. */
  pushedOn?: string;
  /** Files the applied patches leave in the tree that are gone from it (see filesGone). */
  filesGone?: string[];
  /** The applied patches' changes gone from the tree, which a refresh refuses to revert (see changesGone). */
  changesGone?: ChangesGone;
  /**
   * Another pq holds the tree's lock: an operation is under way, and what status read may be
   * half of it (a refreshed patch file beside the state from before). The queue's files are
   * then not compared with the state (no topChangedInQueue, changedInQueue).
   */
  busy?: { pid: number };
}

/**
 * The git adapter, loaded when an operation first needs git: it brings child_process (and
 * with it net and dgram), which a warm pop or push never uses.
 */
async function openGitRepo(tree: string): Promise<GitRepo | null> {
  const { GitRepo } = await import("../git/repo.js");
  return GitRepo.open(tree);
}

let groupSeq = 0;

export class Stack {
  private store!: ObjectStore;
  private statCache!: StatCache;
  private pushCache!: PushCache;
  private lock: TreeLock | null = null;
  /** Set by pq sync while it completes or rolls back itself: its own pops and pushes are not refused. */
  syncing = false;
  /** Opened on first use: push and pop never need git, and starting it costs a process. */
  private gitRepo: Promise<GitRepo | null> | undefined;
  command: string;

  private constructor(
    readonly tree: string,
    readonly queueDir: string,
    state: StackState,
    git: GitRepo | null | undefined,
    private onEvent: EventSink,
    command: string | undefined,
    statCache?: StatCache,
    store?: ObjectStore,
  ) {
    this.parsedState = state;
    if (git !== undefined) this.gitRepo = Promise.resolve(git);
    if (statCache) this.statCache = statCache;
    if (store) this.store = this.openedStore = store;
    this.openCaches();
    this.command = command ?? "pq";
  }

  /** The object store a command opened the stack with: its operation's too, while no other pq wrote to it (see openCaches). */
  private openedStore: ObjectStore | null = null;

  /** A tree's object store, the pack index's checks remembered in the stat cache `statCache()` gives. */
  private static storeOf(tree: string, statCache: () => StatCache): ObjectStore {
    return new ObjectStore(statePaths(tree).objects, {
      lookup: (key, st) => statCache().lookup(key, st),
      record: (key, st, value) => statCache().record(key, st, value),
    });
  }

  private openCaches(): void {
    const p = statePaths(this.tree);
    // The stat cache read when the stack was opened is kept if its file is the same one
    // (it is replaced by rename, so another pq's save gives it a new inode): a 1000-patch
    // tree's cache is ~190 KB of JSON.
    const keptCache = this.statCache?.unchangedOnDisk() ?? false;
    if (!keptCache) this.statCache = new StatCache(p.statCache);
    // The store is read afresh for each operation of a long-lived stack (the TUI's); the one a
    // command opened the stack with serves its operation while nothing was written to it since.
    const opened = this.openedStore;
    this.store = opened && keptCache && opened.unchangedOnDisk() ? opened : Stack.storeOf(this.tree, () => this.statCache);
    this.pushCache = new PushCache(p.pushCache);
  }

  /** Where events of this stack's own doing go from now on (the TUI takes them over from the CLI's sink). */
  setEventSink(sink: EventSink): void {
    this.onEvent = sink;
  }

  // ---------------------------------------------------------------- opening

  static async init(opts: StackOptions): Promise<Stack> {
    const tree = resolve(opts.tree);
    if (!existsSync(tree) || !statSync(tree).isDirectory()) throw notUtf8Path(tree) ?? new PqError("not-found", `${tree} is not a directory`);
    // A pq init killed before its quilt take-over was journaled made a stack that is not whole
    // (safe-6 #4): it starts over. Killed after, the take-over is completed by opening the stack.
    const incomplete = existsSync(statePaths(tree).initIncomplete);
    if (incomplete && !existsSync(statePaths(tree).journal)) {
      rmSync(statePaths(tree).state, { force: true });
      rmSync(statePaths(tree).initIncomplete, { force: true });
    } else if (incomplete) await Stack.open({ tree });
    // Under the tree lock, in a .pq/ this init knows whether it made: two pq init at once had
    // both taken over quilt's patches (a stack that did not match the tree), or one removed the
    // other's whole stack (t59 N1). The second is told the tree is locked, and makes nothing.
    let madeStateDir = false;
    try {
      mkdirSync(join(tree, STATE_DIR));
      madeStateDir = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const lock = TreeLock.acquire(statePaths(tree).lock);
    try {
      const stack = await Stack.initLocked(opts, tree, madeStateDir, lock);
      return stack;
    } catch (e) {
      // Refused or failed with nothing kept (no state): the .pq/ it made goes too.
      if (madeStateDir && !existsSync(statePaths(tree).state)) rmSync(join(tree, STATE_DIR), { recursive: true, force: true });
      throw e;
    } finally {
      lock.release();
    }
  }

  /** Stack.init's work, under the lock (see there); `madeStateDir`: .pq/ was made by this init. */
  private static async initLocked(opts: StackOptions, tree: string, madeStateDir: boolean, lock: TreeLock): Promise<Stack> {
    if (loadState(tree)) {
      // Not "remove .pq/" for a tree quilt pushed in since: that loses pq's trash and operation log (t38 F5).
      throw new PqError(
        "exists",
        `${tree} already has a pq stack`,
        quiltAppliedStack(tree)
          ? [`quilt has pushed patches here since (${QUILT_STATE_DIR}/applied-patches): quilt pop -a, then pq push -a; the stack, its trash and its operation log stay as they are`]
          : ["use it as it is; to start over, pq pop -a and remove .pq/ (pq's trash of deleted patches and its operation log go with it)"],
      );
    }
    const git = await openGitRepo(tree);
    if (!git) throw new PqError("no-queue", `${tree} is not a git work tree`, ["run git init first: pq keeps its patches on top of a git tree"]);
    // Every command run here finds an enclosing tree's stack: a second stack inside it would
    // claim the same files, and hide the first from this directory.
    for (let dir = resolve(tree, ".."); resolve(dir, "..") !== dir && relative(git.rootDir, dir).startsWith("..") === false; dir = resolve(dir, "..")) {
      if (existsSync(statePaths(dir).state)) {
        throw new PqError("exists", `${dir}, which contains ${tree}, already has a pq stack`, [
          "pq commands run in this directory use that stack (pq status shows it)",
        ]);
      }
    }
    const queueAbs = resolve(tree, opts.queue ?? "patches");
    const rel = relative(tree, queueAbs);
    if (rel === ".pq" || rel.startsWith(".pq/") || rel === ".git" || rel.startsWith(".git/")) {
      throw new PqError("usage", `the queue cannot live in ${rel}`, ["pick another directory, e.g. patches/"]);
    }
    // The tree itself: its series and patch files would be tree files a patch may write (t27 F1).
    if (queueInTree(tree, queueAbs) === "") {
      throw new PqError("usage", "the queue cannot be the working tree itself", ["pick a directory of its own, e.g. patches/ (pq init --queue patches)"]);
    }
    const queue = leadsOutside(rel) ? queueAbs : rel || ".";
    // A directory of the tree that is a link out of it (ln -s /shared/q patches): every command
    // after init refused it, with advice about a committed link that never was (t140 N10).
    // Named by where it leads, the queue is that directory.
    refuseQueueLinkedOut(
      tree,
      queueAbs,
      (target) => `pq init --queue ${shellWord(target)} uses that directory as the queue (outside the tree, as a queue several trees share)`,
    );
    if (existsSync(queueAbs) && !statSync(queueAbs).isDirectory()) {
      throw new PqError("usage", `${queueAbs} exists and is not a directory; the queue is a directory`, ["name another --queue, or move that file away"]);
    }
    // A series pq cannot read (an option it does not support, a line twice) is refused before
    // anything is made, as the other refusals here are: no half-made stack to remove (ci-7 #5).
    const seriesText = readText(join(queueAbs, "series"));
    if (seriesText !== null) {
      try {
        Series.fromBytes(seriesText);
      } catch (e) {
        if (e instanceof PqError) throw new PqError(e.code, `${join(queueAbs, "series")}: ${e.message}`, [...e.details, "nothing was made: fix the series file, then pq init again"], e.data);
        throw e;
      }
    }
    const quilt = quiltAppliedStack(tree);
    if (quilt) checkQuiltQueue(tree, quilt, queueAbs);
    // A symlink that leads nowhere (a share not mounted yet, a typo): init made no queue there, and its clean-up took the user's link (t141 N5).
    const there = lstatSync(queueAbs, { throwIfNoEntry: false });
    if (there?.isSymbolicLink() && !existsSync(queueAbs)) {
      const target = readlinkSync(queueAbs);
      throw new PqError("not-found", `the queue directory ${queueAbs} is a symbolic link to ${target}, which is not there; nothing was changed`, [
        `make the directory it leads to (mkdir -p ${shellWord(resolve(dirname(queueAbs), target))}), or name the queue directory itself: pq init --queue DIR`,
      ]);
    }
    const made = { queue: !there, series: !existsSync(join(queueAbs, "series")), state: madeStateDir };
    /** What init made, taken away: a refused or failed init leaves the tree as it found it, and pq init can be run again. */
    const unmake = () => {
      if (made.state) rmSync(join(tree, STATE_DIR), { recursive: true, force: true });
      else for (const file of [statePaths(tree).state, statePaths(tree).initIncomplete, statePaths(tree).queueAtInit]) rmSync(file, { force: true });
      if (made.series) rmSync(join(queueAbs, "series"), { force: true });
      if (made.queue) rmSync(queueAbs, { recursive: true, force: true });
    };
    const state: StackState = { version: 1, queue, guards: [], applied: [] };
    let stack: Stack;
    try {
      mkdirSync(queueAbs, { recursive: true });
      // A killed pq init's series.tmp-PID (it writes no journal whose replay would sweep it: t110 N1).
      removeDeadTemporaries(queueAbs, (name) => name === "series");
      if (made.series) writeAtomic(join(queueAbs, "series"), "");
      ensureStateDir(tree);
      guardStateDirFromClean(tree, statePaths(tree).dir);
      // The empty stack and the take-over (or the copies of a queue found) are two steps: until the
      // second is done, the stack is marked not whole, and a pq init killed between them starts over.
      if (quilt || !made.series) writeAtomic(statePaths(tree).initIncomplete, "");
      saveState(tree, state);
      failpoint("init-state-saved");
      stack = new Stack(tree, queueAbs, state, git, opts.onEvent ?? ignoreEvents, opts.command);
      // A queue pq did not write: copies of its files, for restore-queue (see keepQueueAtInit).
      if (!made.series) keepQueueAtInit(tree, queueAbs, stack.store);
      failpoint("init-queue-kept");
      if (!quilt) rmSync(statePaths(tree).initIncomplete, { force: true });
    } catch (e) {
      // A full disk before the queue's copies were kept (t56 N5): the stack made without them
      // would have stayed, "nothing was changed" untrue and a second pq init refused.
      unmake();
      throw e;
    }
    if (quilt) {
      try {
        // In the lock init holds (withLock takes a held one as its own).
        stack.lock = lock;
        stack.takenOverFromQuilt = await stack.transact(`init: take over quilt's ${quilt.applied.length} applied patch(es)`, (ctx) =>
          planQuiltTakeover(ctx, quilt),
        );
        rmSync(statePaths(tree).initIncomplete, { force: true });
      } catch (e) {
        // A transaction that stopped half way left its journal: the next command completes it.
        if (existsSync(statePaths(tree).journal)) throw e;
        // Refused: nothing of the stack stays, so that quilt (or pq init after quilt pop -a) finds the tree as it was.
        unmake();
        throw e;
      } finally {
        stack.lock = null; // released by init; the stack's later operations take it themselves
      }
    }
    return stack;
  }

  /** What `init` took over from quilt: the patches (applied, as quilt had them), and files HEAD already holds them in. */
  takenOverFromQuilt: QuiltTakeover = { taken: [], inHead: [], rejects: [] };

  static async open(opts: StackOptions): Promise<Stack> {
    const tree = resolve(opts.tree);
    const stamp = stateStamp(tree);
    const statCache = new StatCache(statePaths(tree).statCache);
    // The store checks that state.json is the text pq wrote (see wroteState), and serves the command's operation after.
    const store = Stack.storeOf(tree, () => statCache);
    const loaded = loadStateAndText(tree, statCache, (id, text) => store.holdsText(id, text));
    if (!loaded) {
      if (!existsSync(tree)) throw notUtf8Path(tree) ?? new PqError("no-queue", `${tree} does not exist`, ["pass --tree DIR with a directory that has a pq stack, or run the command in one"]);
      throw new PqError("no-queue", `no pq stack in ${tree}`, ["run pq init (or pass --tree DIR)"]);
    }
    const { state } = loaded;
    const queueDir = resolve(tree, state.queue);
    if (opts.queue && resolve(opts.queue) !== queueDir && !sameDirectory(resolve(tree, opts.queue), queueDir)) {
      throw new PqError("usage", `this tree's stack uses the queue ${queueDir}, not ${opts.queue}`, [
        `pass --queue ${queueDir}, or leave --queue out (pq queue switch changes the queue the tree uses)`,
      ]);
    }
    // Before the missing queue's refusal: after a git clean -fdx, restore-queue needs this stack (t102 N5).
    guardStateDirFromClean(tree, statePaths(tree).dir);
    let queueAway: PqError | null = null;
    try {
      refuseQueueLinkedOut(tree, queueDir);
      refuseMissingQueue(queueDir);
    } catch (e) {
      // An interrupted operation writes the queue: it waits for the directory to be back.
      if (!opts.queueMayBeAway || !(e instanceof PqError) || existsSync(statePaths(tree).journal)) throw e;
      queueAway = e;
    }
    const stack = new Stack(tree, queueDir, state, undefined, opts.onEvent ?? ignoreEvents, opts.command, statCache, store);
    stack.queueAway = queueAway;
    stack.readStamp = stamp;
    stack.stateSource = { text: loaded.text, state: loaded.state };
    // Another pq's operation under way is waited for (takeWaiting), then the stack read as it left it.
    if (!opts.leaveInterrupted && existsSync(statePaths(tree).journal)) await stack.withLock(async () => undefined, { changes: false });
    if (existsSync(statePaths(tree).initIncomplete)) {
      // pq init was killed before it took over quilt's applied patches (after it, the journal just
      // completed the take-over), or before it kept its copies of the queue it found.
      if (existsSync(statePaths(tree).journal)) throw new PqError("damaged", "pq init's take-over of quilt's applied patches is not complete", ["run the command again"]);
      if (stack.state.applied.length) rmSync(statePaths(tree).initIncomplete, { force: true });
      else
        throw new PqError("damaged", "pq init was interrupted before it was done (its copies of the queue it found, or its take-over of quilt's applied patches)", [
          "run pq init again (with the same --queue): it starts over",
        ]);
    }
    return stack;
  }

  /**
   * The tree of the stack at or around `dir` (ci, bisect, build and boot run from a folder inside
   * the tree as every other command does: t125 N9), or null: none, or one beyond a repository of
   * its own (a submodule's folder is not the enclosing stack's: see find).
   */
  static enclosingTree(dir: string): string | null {
    for (let at = resolve(dir); ; ) {
      if (existsSync(statePaths(at).state)) return at;
      if (holdsRepository(at)) return null;
      const up = resolve(at, "..");
      if (up === at) return null;
      at = up;
    }
  }

  /** Opens the stack, or finds the nearest enclosing tree that has one. */
  static async find(opts: StackOptions): Promise<Stack> {
    let dir = resolve(opts.tree);
    // A directory that is not there has no enclosing tree: `--tree typo` ran on the stack around the current directory (t25 F5).
    if (!existsSync(dir)) return Stack.open(opts);
    // The nearest folder walked through that is a git repository of its own (t113 N9).
    let ownRepository: string | null = null;
    for (;;) {
      if (existsSync(statePaths(dir).state)) {
        if (ownRepository) refuseEnclosingStack(dir, ownRepository);
        return Stack.open({ ...opts, tree: dir });
      }
      if (ownRepository === null && holdsRepository(dir)) ownRepository = dir;
      const up = resolve(dir, "..");
      if (up === dir) return Stack.open(opts); // throws the "no stack" error for the original tree
      dir = up;
    }
  }

  // ---------------------------------------------------------------- queries

  /** The git repository around the tree, if any. */
  repo(): Promise<GitRepo | null> {
    this.gitRepo ??= openGitRepo(this.tree);
    return this.gitRepo;
  }

  /**
   * Whether pq push --merge could help `text` (a patch read with `strip`) where its change to
   * `path` does not apply: see mergeHelp. Asked of a patch a sync found not applying (t42 N4).
   */
  mergeHelp(text: string, strip: number, path: string): Promise<{ can: boolean; why: string }> {
    return mergeHelp({ tree: this.tree, store: this.store, pushCache: this.pushCache, repo: () => this.repo() }, text, strip, path);
  }

  /** Set while a command of several operations runs (see asOneCommand). */
  private group: string | null = null;
  /** What runs the current group's operations, recorded with each (see OplogEntry.source). */
  private source: "sync" | null = null;
  /** What the current group's first logged operation carries (see OplogEntry.rebasePlan). */
  private groupFirst: Pick<OplogEntry, "rebasePlan"> | null = null;
  /** Whether the current group has logged an operation (see loggedInCommand). */
  private groupLogged = false;
  /**
   * Set while pq sync --abort or rebase --abort moves the stack back: the stopped command's
   * logged operations, which the abort's operations take back as an undo does (undo then
   * reaches what came before; see OplogEntry.abort).
   */
  takingBack: string[] | null = null;
  /** Where the recovery of an interrupted operation saved files changed since it began, until an operation refuses for it (see transact). */
  private savedByRecovery: string | null = null;
  /** Set while pq rebase runs: its own steps (the patches it drops) pass the stopped-rebase fence. */
  rebasing = false;

  /**
   * The stack's state: parsed, or null while the object parsed last is lent to a transaction
   * (lendState), when `state` parses stateSource's text again if anyone asks.
   */
  private parsedState: StackState | null;
  /** The text of state.json as read, and the object parsed from it while that object is this.state. */
  private stateSource: { text: string; state: StackState | null } | null = null;

  private get state(): StackState {
    if (this.parsedState === null) {
      const source = this.stateSource!;
      source.state = this.parsedState = adoptState(JSON.parse(source.text) as StackState);
    }
    return this.parsedState;
  }

  private set state(state: StackState) {
    this.parsedState = state;
  }

  /** state.json's identity when this object last read it (see stateStamp). */
  private readStamp: string | null = null;
  /** Why the active queue's directory cannot be used, when it was opened with queueMayBeAway (see StackOptions). */
  queueAway: PqError | null = null;

  /**
   * Re-read the state from disk (another pq may have changed it since this one opened).
   * Skipped when the file is the very one read last: state.json is replaced by rename, so
   * a write gives it a new inode, size or mtime (a file modified within the last few
   * milliseconds is read again, git's racy rule). Parsing a 1000-patch state costs ~7 ms.
   */
  reload(): void {
    // A long-lived stack (the TUI) checks again what open checked: git clean -fd takes an
    // untracked queue, git clean -fdx the stack itself, without touching state.json's stamp
    // (tui-8 T13, T17). The stack first: with .pq/ gone too, restore-queue has nothing to restore from.
    refuseGoneStack(this.tree);
    refuseMissingQueue(this.queueDir);
    const stamp = stateStamp(this.tree);
    if (stamp !== null && stamp === this.readStamp) return;
    const loaded = loadStateAndText(this.tree, this.statCache, (id, text) => this.store.holdsText(id, text));
    if (!loaded) throw goneStack(this.tree);
    // A long-lived stack (the TUI) opened on one queue: after a pq queue switch elsewhere, the
    // state belongs to another queue, and this stack's operations would mix the two.
    if (loaded && resolve(this.tree, loaded.state.queue) !== this.queueDir) {
      throw new PqError("refused", `the tree's active queue is now ${resolve(this.tree, loaded.state.queue)} (pq queue switch), not ${this.queueDir}`, [
        "nothing was changed; start the command again (pq tui too) to work on the active queue",
      ]);
    }
    if (loaded) {
      this.state = loaded.state;
      this.stateSource = { text: loaded.text, state: loaded.state };
    }
    this.readStamp = stamp;
  }

  /** The state's text as read (serialised when it was not read but made, as by init). */
  private stateText(): string {
    const source = this.stateSource;
    if (source && (this.parsedState === null || source.state === this.parsedState)) return source.text;
    return asciiJson(this.state);
  }

  /**
   * The state for a transaction to change, with its text. Parsing a thousand-patch state
   * costs 4-8 ms; rather than a copy, the transaction gets the object itself, and this stack
   * parses the text again only if it is asked for its state before the transaction is done.
   */
  private lendState(): { state: StackState; text: string } {
    const text = this.stateText();
    const state = this.state;
    this.parsedState = null;
    this.stateSource = { text, state: null };
    return { state, text };
  }

  series(): SeriesEntry[] {
    return this.readSeries().entries();
  }

  /** Whether any patch in the series has a guard. */
  seriesHasGuards(): boolean {
    return this.readSeries().hasGuards();
  }

  /** The series with its comment and blank lines, each patch with those around it (export --quilt keeps them). */
  annotatedSeries(): ReturnType<Series["annotated"]> {
    return this.readSeries().annotated();
  }

  applied(): string[] {
    return appliedNames(this.state);
  }

  appliedRecords(): readonly AppliedPatch[] {
    return this.state.applied;
  }

  unapplied(): string[] {
    const applied = new Set(this.applied());
    return this.patchNames((e) => !applied.has(e.name));
  }

  top(): string | null {
    return topName(this.state);
  }

  /** The queue directory as state.json names it (what the log records of each operation). */
  queueName(): string {
    return this.state.queue;
  }

  selectedGuards(): string[] {
    return [...this.state.guards];
  }

  /** Series names that the selected guards let through, in order. */
  pushable(): string[] {
    return this.patchNames((e) => isPushable(e, this.state.guards));
  }

  /** The series' patch names that pass `keep`, read without copying each entry (as series() does): a push -a asks after a thousand. */
  private patchNames(keep: (entry: Readonly<SeriesEntry>) => boolean, until?: string): string[] {
    const names: string[] = [];
    for (const entry of this.readSeries().patchEntries()) {
      if (entry.name === until) break;
      if (keep(entry)) names.push(entry.name);
    }
    return names;
  }

  /**
   * Unapplied patches the selected guards let through that come before the top patch in the
   * series (skipped while guarded off, or listed there by hand): a push never goes back down to them.
   */
  skippedBelowTop(): string[] {
    const top = this.top();
    if (!top) return [];
    const applied = new Set(this.applied());
    // A top missing from the series (a hand-edited series file): no patch is known to be below it.
    if (!this.readSeries().patchEntries().some((e) => e.name === top)) return [];
    return this.patchNames((e) => !applied.has(e.name) && isPushable(e, this.state.guards), top);
  }

  /** What pq select --reapply would do with the selection as it is now (see reapplyWayOf). */
  reapplyWay(): { popTo: string | null; pushTo: string | null } | null {
    return reapplyWayOf(this.applied(), this.state.guards, this.readSeries());
  }

  /** A patch name as the user wrote it (name, position, prefix) resolved against the series. */
  resolve(target: StackTarget, opts: { whole?: boolean } = {}): string {
    return resolveName(this.readSeries(), target, opts);
  }

  patchPath(name: string): string {
    return join(this.queueDir, name);
  }

  async readPatch(name: string): Promise<string> {
    const text = readQueueText(this.queueDir, name);
    if (text === null) throw missingPatchFile(this.queueDir, name);
    return text;
  }

  async patchHeader(name: string): Promise<PatchHeader> {
    return parseHeader(headerOf(await this.readPatch(name)));
  }

  /**
   * An applied patch's text as it applies to this tree now: its header over a diff made
   * from the exact file versions it turned into which (so offsets and fuzz from its push
   * are gone). Unapplied patches come back as stored.
   */
  async currentPatchText(name: string): Promise<string> {
    const text = await this.readPatch(name);
    const record = this.state.applied.find((a) => a.name === name);
    if (!record || record.needsRefresh) return text;
    return joinHeaderAndDiff(
      dropDiffstat(headerOf(text)),
      buildPatchDiff(record.files, record.renames ?? [], (v) => this.versionContent(v), textHunkPaths(() => text)),
    );
  }

  /** Next and previous patches relative to the top, as hg qnext/qprev. */
  next(): string | null {
    return pushCandidates(this.state, this.readSeries())[0] ?? null;
  }

  prev(): string | null {
    return this.state.applied.at(-2)?.name ?? null;
  }

  /**
   * `reportUnreadable`: a tree pq cannot read (a symlinked directory) is reported in
   * `unreadable` instead of refused, for those who only show the status (pq status, the TUI);
   * the operations that go on from a status (rebase, absorb, sync) keep the refusal.
   */
  async status(opts: { reportUnreadable?: boolean } = {}): Promise<StackStatus> {
    if (!this.lock) this.reload();
    const loadedFrom = rawStateStamp(this.tree);
    const status = await this.statusOnce(opts);
    // A reader takes no lock: another pq that began its operation while this status read the
    // queue's files, or finished it, may have left it half of each (safe-6 #2, verify-6 N2).
    const holder = lockHolder(statePaths(this.tree).lock);
    if (holder !== null) {
      const { topChangedInQueue: _t, changedInQueue: _c, unappliedMissing: _u, ...rest } = status;
      return { ...rest, busy: { pid: holder } };
    }
    if (rawStateStamp(this.tree) === loadedFrom) return status;
    this.reload();
    return this.statusOnce(opts);
  }

  private async statusOnce(opts: { reportUnreadable?: boolean }): Promise<StackStatus> {
    const top = this.state.applied.at(-1);
    const tx = this.transaction("status");
    const ctx = this.opContext(tx);
    let preview: Awaited<ReturnType<typeof planRefresh>> | null = null;
    let unreadable: StackStatus["unreadable"];
    try {
      preview = top ? await planRefresh(await planContext(ctx, this.state.applied), tx.ws, top, { preview: true }) : null;
    } catch (e) {
      if (!opts.reportUnreadable || !(e instanceof PqError) || (e.code !== "unsafe-path" && e.code !== "unsupported")) throw e;
      unreadable = { message: e.message, details: e.details, data: e.data };
    }
    // A reader takes no lock: one held by another pq means an operation is under way (safe-6 #2).
    const holder = lockHolder(statePaths(this.tree).lock);
    const onDisk = top && holder === null ? readText(this.patchPath(top.name)) : null;
    const changedInQueue = holder === null ? this.appliedChangedInQueue() : [];
    // Those a push -a would reach: it skips a guarded one, missing or not (t147 N4).
    const unappliedMissing = holder === null ? pushCandidates(this.state, this.readSeries()).filter((name) => fileStat(`${this.queueDir}/${name}`) === null) : [];
    // HEAD's verdicts are kept per commit in the stat cache, as push and pop keep them: a git process only when HEAD moved.
    const inexact = this.state.applied.flatMap((r) => (r.inexact ? [{ name: r.name, reason: r.inexact }] : []));
    const guardedOff = this.appliedGuardedOff();
    const committedUnder = top ? await differFromHead(ctx, versionsBelowStack(this.state.applied), { remember: true }) : [];
    const headMoved = committedUnder.length ? await headMovedUnder(ctx, this.state.applied, committedUnder) : null;
    const pushedOn = committedUnder.length && !headMoved ? await belowHandCommits(ctx, this.state.applied, committedUnder) : null;
    const gone = preview ? changesGone(this.state.applied, preview, versionText(tx.ws, ctx.store)) : null;
    const missing = preview && !gone?.files.length ? filesGone(this.state.applied, preview) : [];
    return {
      top: top?.name ?? null,
      ...(top && onDisk !== null && sha1(onDisk) !== top.hash ? { topChangedInQueue: true } : {}),
      ...(changedInQueue.length ? { changedInQueue } : {}),
      ...(unappliedMissing.length ? { unappliedMissing } : {}),
      applied: this.state.applied.length,
      unapplied: this.unapplied().length,
      needsRefresh: top?.needsRefresh,
      ...(inexact.length ? { inexact } : {}),
      pending: preview ? preview.changed : [],
      ...(preview?.packaging.length ? { packaging: preview.packaging } : {}),
      untracked: preview
        ? preview.untracked
        : unreadable
          ? []
        : ((await (await this.repo())?.untrackedFiles()) ?? []).filter((p) => !isPqOwnPath(this, p.replace(/\/$/, ""))),
      guards: this.selectedGuards(),
      ...(guardedOff.length ? { guardedOff } : {}),
      ...(unreadable ? { unreadable } : {}),
      ...(committedUnder.length ? { committedUnder } : {}),
      ...(headMoved ? { headMoved } : {}),
      ...(pushedOn ? { pushedOn } : {}),
      ...(gone?.files.length ? { changesGone: gone } : {}),
      ...(preview?.unmerged ? { unmerged: preview.unmerged } : {}),
      ...(missing.length ? { filesGone: missing } : {}),
      ...(holder !== null ? { busy: { pid: holder } } : {}),
    };
  }

  /** Applied patches the selected guards exclude, bottom first (see StackStatus.guardedOff). */
  appliedGuardedOff(): string[] {
    if (!this.state.applied.length) return [];
    const entries = new Map(this.series().map((e) => [e.name, e]));
    return this.state.applied.flatMap((r) => {
      const entry = entries.get(r.name);
      return entry && !isPushable(entry, this.state.guards) ? [r.name] : [];
    });
  }

  /**
   * Applied patches whose file in the queue is not the text that was applied (a pull, an
   * undone sync, an edit by hand). A file unchanged since pq last hashed it is known from the
   * stat cache, so a thousand-patch stack reads only the files that changed.
   */
  private appliedChangedInQueue(): string[] {
    const changed: string[] = [];
    for (const record of this.state.applied) {
      // Names are checked relative paths: no join (and its normalising) for each of a thousand.
      const path = `${this.queueDir}/${record.name}`;
      const st = fileStat(path);
      let hash = st ? (this.statCache.patchHash(record.name, st) ?? null) : null;
      if (!hash) {
        const text = readText(path);
        hash = text === null ? null : sha1(text);
      }
      if (hash !== record.hash) changed.push(record.name);
    }
    return changed;
  }

  /**
   * What the top patch would contain after a refresh (hg qdiff); `sinceRefresh` (quilt diff -z): only the
   * changes made since the last refresh, against what the patches left; `files`: only these.
   */
  async diff(opts: { sinceRefresh?: boolean; files?: string[] } = {}): Promise<string> {
    const top = requireTop(this.state);
    const tx = this.transaction("diff");
    const named = opts.files?.length ? new Set(opts.files) : null;
    const plan = await planRefresh(await planContext(this.opContext(tx), this.state.applied), tx.ws, top, named ? { only: named } : {});
    if (!opts.sinceRefresh && !named) return plan.diff;
    // Since the refresh: the moves made since (git mv, mv), as renames too, from where the refresh
    // left the file: a recorded f.c -> g.c that is f.c -> h.c now is g.c -> h.c (t52 N15).
    const recorded = new Set((top.renames ?? []).map(([from, to]) => `${from}\0${to}`));
    const leftAt = new Map((top.renames ?? []).map(([from, to]) => [from, to]));
    const moves = opts.sinceRefresh
      ? plan.renames.flatMap(([from, to]): [string, string][] => (recorded.has(`${from}\0${to}`) ? [] : [[leftAt.get(from) ?? from, to]]))
      : plan.renames;
    // One side of a rename named: the other comes with it, as a refresh writes the pair (t46 N6).
    const wanted = named && new Set([...named, ...moves.flatMap((r) => (r.some((p) => named.has(p)) ? r : []))]);
    const files = pathMap<FileChange>();
    for (const path of opts.sinceRefresh ? plan.changed : Object.keys(plan.files)) {
      if (wanted && !wanted.has(path)) continue;
      const change = plan.files[path];
      if (!change) continue;
      // Since the refresh: from what the top patch left (null, a file it deletes, included).
      files[path] = opts.sinceRefresh ? { pre: path in top.files ? top.files[path].post : change.pre, post: change.post } : change;
    }
    const renames = moves.filter(([from, to]) => files[from] !== undefined || files[to] !== undefined);
    return buildPatchDiff(files, renames, (v) => this.versionContent(v));
  }

  /**
   * Verdicts of the last `pq ci` of this stack, by patch and backend, for the states it
   * still describes (see ci-verdicts.ts).
   */
  ciVerdicts(): Map<string, Record<string, string>> {
    return ciVerdicts(this.tree, this.queueDir, this.pushable());
  }

  /** The newest `limit` operations (all without a limit), newest first, and which of them are undone. */
  recentOperations(limit?: number): RecentOperations {
    return recentOperations(statePaths(this.tree).oplog, limit);
  }

  // ---------------------------------------------------------------- operations

  /** Apply patches. A patch that does not apply throws (those before it stay applied). */
  async push(opts: PushOptions = {}): Promise<PushReport> {
    return this.withLock(
      async () => {
      // Results the push cache remembers whose stored copy turns out damaged when the journal's
      // versions are checked (a pack with a flipped byte, whose size still looks whole) are
      // forgotten there: planned once more, the push applies those patches again (t39 F2).
      for (let attempt = 0; ; attempt++) {
        const tx = this.transaction("push");
        const { report, failure } = await planPush(this.opContext(tx, opts.onEvent), opts).catch((e: unknown) => {
          throw withQuiltHint(this.tree, e);
        });
        if (!opts.dryRun && report.pushed.length) {
          try {
            await this.run(tx, `push ${span(report.pushed[0].name, report.pushed.at(-1)!.name)}`, opts.onEvent);
          } catch (e) {
            if (attempt === 0 && e instanceof PqError && e.data.lostObjects) continue;
            throw e;
          }
        }
        // The refusal carries what was pushed before it (or would be, in a dry run): the CLI
        // prints those patches' offsets and fuzz, and --json has them (dry-6 #1, #7).
        if (failure) throw new PqError(failure.code, failure.message, failure.details, { ...failure.data, ...report });
        return report;
      }
    },
      { dryRun: opts.dryRun },
    );
  }

  async pop(opts: PopOptions = {}): Promise<PopReport> {
    return this.withLock(async () => {
      const tx = this.transaction("pop");
      const report = await this.planPopChecked(this.opContext(tx, opts.onEvent), opts);
      if (report.popped.length) await this.run(tx, `pop ${span(report.popped[0], report.popped.at(-1)!)}`, opts.onEvent, report.backup);
      return report;
    });
  }

  /**
   * pq select [G..] --reapply (hg qselect --reapply) as one transaction: the selection, the pop
   * down to the first patch whose fate it changed, and the push back up to where the top was
   * (see reapplyWayOf). One undo takes it back, and a kill leaves the stack before or after it;
   * as three operations, an undo took back the push alone and a kill left the stack popped, the
   * selection made (t154 N2). A push that fails refuses the whole command, nothing changed.
   */
  async selectReapply(guards: string[] | null, opts: { onEvent?: EventSink } = {}): Promise<{ excluded: string[]; moved: boolean }> {
    refuseDuringStoppedRebase(this.tree, "select");
    return this.withLock(async () => {
      try {
        return await this.selectReapplyLocked(guards, opts);
      } catch (e) {
        // Over unrefreshed edits the pop's or push's own ways end in a plain push or pop, which
        // the selection (not made: nothing was changed) does not follow (t157 N7): the command's own way.
        if (!(e instanceof PqError) || e.code !== "dirty") throw e;
        const again = ["pq select", ...(guards === null ? [] : guards.length ? guards.map((g) => operandWords(g)) : ["--none"]), "--reapply"].join(" ");
        // Files no applied patch changes can be set aside with git (git stash would take the applied patches' changes too).
        const files = Array.isArray(e.data.files) ? (e.data.files as string[]) : [];
        const inApplied = new Set(this.state.applied.flatMap((r) => Object.keys(r.files)));
        const ways = [`pq refresh to keep them in the top patch, then ${again} again`];
        if (files.length && files.every((f) => !inApplied.has(f))) ways.push(`or ${setAsideAdvice(files, again)}`);
        throw new PqError(e.code, e.message, ways, e.data);
      }
    });
  }

  private async selectReapplyLocked(guards: string[] | null, opts: { onEvent?: EventSink }): Promise<{ excluded: string[]; moved: boolean }> {
      const tx = this.transaction("select");
      const ctx = this.opContext(tx, opts.onEvent);
      const excluded = guards ? planSelect(ctx, guards) : [];
      const way = reapplyWayOf(appliedNames(tx.state), tx.state.guards, tx.series());
      let backup: string | undefined;
      if (way) {
        const popped = await this.planPopChecked(ctx, way.popTo === null ? { all: true } : { target: way.popTo });
        backup = popped.backup;
        if (way.pushTo !== null && !appliedNames(tx.state).includes(way.pushTo)) {
          const { failure } = await planPush(ctx, { target: way.pushTo, onEvent: opts.onEvent });
          if (failure)
            throw new PqError(
              failure.code,
              failure.message,
              [...failure.details, "pq select G ... without --reapply sets the selection alone; then pop and push as you choose"],
              failure.data,
            );
        }
      }
      const label = ["select", ...(guards === null ? [] : guards.length ? guards : ["--none"]), "--reapply"].join(" ");
      if (guards || way) await this.run(tx, label, opts.onEvent, backup);
      return { excluded, moved: way !== null };
  }

  /** A pop planned in `ctx`'s transaction with the checks pq pop makes besides the plan: commits made on top, staged content. */
  private async planPopChecked(ctx: OpContext, opts: PopOptions): Promise<PopReport> {
    const before = ctx.tx.state.applied;
    let report: PopReport;
    try {
      report = planPop(ctx, opts);
    } catch (e) {
      // Files that differ because HEAD moved under the patches (a pull) are no edits to refresh:
      // that refusal, with its way out, comes first (t44 N4).
      if (e instanceof PqError && e.code === "dirty" && Array.isArray(e.data.files)) {
        const files = e.data.files as string[];
        await refuseCommitsOnTop(ctx, before, before.filter((r) => files.some((f) => r.files[f] !== undefined)).map((r) => r.name));
      }
      throw e;
    }
    try {
      await refuseCommitsOnTop(ctx, before, report.popped);
      // A staged version --force unstages is saved next to the tree's edits.
      const staged = await unstagePoppedContent(ctx, before, report.popped, opts.force);
      if (staged) report.backup = report.backup ? `${report.backup} and ${staged}` : staged;
    } catch (e) {
      // Refused before anything was written: the backup --force made for it goes too (t44 N11).
      if (report.backup) rmSync(report.backup, { recursive: true, force: true });
      throw e;
    }
    return report;
  }

  /** Whether a target means "nothing applied" (0, unless a patch is called that), as pop and goto take it. */
  meansNothing(target: StackTarget): boolean {
    return namesNothing(this.readSeries(), target);
  }

  async goto(target: StackTarget, opts: { force?: boolean; onEvent?: EventSink } = {}): Promise<PushReport | PopReport> {
    if (this.meansNothing(target)) return this.pop({ all: true, ...opts });
    const name = this.resolve(target);
    // Push or pop is told from the stack under the lock: one read before a wait for another pq's
    // lock popped after that pq's pop -a, or refused, where the stack had moved (t116 N2).
    return this.withLock(async () => {
      if (this.state.applied.some((a) => a.name === name)) return this.pop({ target: name, ...opts });
      // --force is for the pop side only: a goto never force-applies a patch with rejects.
      return this.push({ target: name, onEvent: opts.onEvent });
    });
  }

  /** Returns the name the patch was given (see nameInQueue). */
  async newPatch(name: string, opts: { message?: string; author?: string } = {}): Promise<string> {
    const named = this.nameInQueue(name);
    await this.transact(`new ${named}`, (ctx) => planNew(ctx, named, opts));
    return named;
  }

  /**
   * A new patch name given as its path from the tree's root (debian/patches/X.patch, as a shell
   * completes it) is the name in the queue (X.patch), as quilt takes it; a patch had been made
   * in debian/patches/debian/patches/ (t57 N7).
   */
  nameInQueue(name: string): string {
    const place = this.queuePlace();
    // The queue directory's own path (a completion stopped short): no patch name (t58 N4).
    const queue = place.fromTree;
    if ((queue !== null && (name === queue || name === `${queue}/`)) || (isAbsolute(name) && normalize(`${name}/`) === `${place.dir}/`))
      throw new PqError("usage", `${name} is the queue directory itself, not a patch name`, [`name the patch (pq new NAME), or as ${queue ?? place.dir}/NAME`]);
    // As its path from the tree's root (./ before it too) or its absolute path: the name in the queue.
    return pathInQueue(name, place) ?? name;
  }

  /** Where the queue directory is (see Series.queuePlace). */
  private queuePlace(): QueuePlace {
    return { dir: this.queueDir, fromTree: this.reservedPaths()[0] ?? null };
  }

  /** Start tracking files in the top patch (quilt add): needed for new, untracked files. */
  async add(paths: string[]): Promise<string[]> {
    return this.transact(`add ${listed(paths)}`, (ctx) => planAdd(ctx, paths));
  }

  /** Take files out of the top patch (quilt remove); pq undo puts them back. */
  async remove(paths: string[]): Promise<{ removed: string[]; edited: string[] }> {
    return this.transact(`remove ${listed(paths)}`, (ctx) => planRemove(ctx, paths));
  }

  /** Drop the unrefreshed changes of these files (quilt revert); pq undo brings them back. */
  async revert(paths: string[]): Promise<string[]> {
    return this.transact(`revert ${listed(paths)}`, (ctx) => planRevert(ctx, paths));
  }

  async refresh(opts: RefreshOptions = {}): Promise<RefreshReport> {
    const report = await this.transact("refresh", async (ctx) => {
      const report = await planRefreshTop(ctx, opts);
      ctx.tx.label = `refresh ${report.name}`;
      return report;
    });
    return report;
  }

  /** `was`: the header `header` was edited from (in $EDITOR); refused if the patch's header is another now. */
  async setHeader(name: string, header: PatchHeader, opts: { was?: PatchHeader } = {}): Promise<void> {
    await this.transact(`header ${name}`, (ctx) => planSetHeader(ctx, this.resolveIn(ctx, name), header, opts.was));
  }

  async writePatch(name: string, text: string, strip?: number): Promise<void> {
    await this.transact(`write ${name}`, (ctx) => planWritePatch(ctx, name, text, strip));
  }

  /**
   * Add patches to the series after the top applied patch (hg qimport), optionally pushing them.
   * `select`: guards to select with the import where none are selected yet (an hg queue's
   * qselect), said through `onSelected`.
   */
  async insertPatches(
    items: ImportItem[],
    opts: { push?: boolean; onEvent?: EventSink; select?: string[]; onSelected?: (guards: string[]) => void } = {},
  ): Promise<PushReport | null> {
    return this.withLock(async () => {
      const tx = this.transaction(`import ${listed(items.map((i) => i.name))}`);
      const ctx = this.opContext(tx, opts.onEvent);
      planInsert(ctx, items);
      if (opts.select?.length && !tx.state.guards.length) {
        planSelect(ctx, opts.select);
        opts.onSelected?.(tx.state.guards);
      }
      let outcome: Awaited<ReturnType<typeof planPush>> | null = null;
      // The push is planned in the same transaction: the guards are already in its series. It goes
      // up to the last imported patch the selected guards let through (push -a skips the others
      // the same way); with none, the import alone is done.
      if (opts.push && items.length) {
        const entries = new Map(tx.series().entries().map((e) => [e.name, e]));
        const target = [...items].reverse().find((i) => isPushable(entries.get(i.name)!, tx.state.guards))?.name;
        outcome = target
          ? await planPush(ctx, { target, onEvent: opts.onEvent })
          : { report: { pushed: [], top: tx.state.applied.at(-1)?.name ?? null } };
      }
      await this.run(tx, tx.label, opts.onEvent);
      if (outcome?.failure) {
        // The import itself is done (pq undo takes it back): the refusal says so, not "nothing was changed".
        const f = outcome.failure;
        const imported = `imported ${listed(items.map((i) => i.name))}, but the push stopped: `;
        throw new PqError(f.code, imported + f.message.replace(/ \(nothing was changed\)$/, " (it stays unapplied)"), f.details, f.data);
      }
      return outcome?.report ?? null;
    });
  }

  async deletePatches(names: string[], opts: { keep?: boolean } = {}): Promise<string[]> {
    if (!this.rebasing) refuseDuringStoppedRebase(this.tree, "delete");
    return this.transact(`delete ${listed(names)}`, (ctx) => planDelete(ctx, names, opts));
  }

  /** Returns the new name (see nameInQueue). */
  async renamePatch(from: string, to: string): Promise<string> {
    refuseDuringStoppedRebase(this.tree, "rename");
    const named = this.nameInQueue(to);
    await this.transact(`rename ${from} ${named}`, (ctx) => planRename(ctx, from, named));
    carryCiVerdicts(this.tree, this.queueDir, from, named);
    return named;
  }

  async reorder(name: string, where: ReorderWhere): Promise<void> {
    await this.transact(`reorder ${name}`, (ctx) => planReorder(ctx, name, where));
  }

  async fold(names: string[], opts: { message?: string; keep?: boolean; onEvent?: EventSink } = {}): Promise<FoldReport> {
    return this.transact(`fold ${listed(names)}`, (ctx) => planFold(ctx, names, opts), opts.onEvent);
  }

  async setGuards(name: string, guards: string[]): Promise<void> {
    await this.transact(`guard ${name} ${guards.join(" ")}`.trim(), (ctx) => planSetGuards(ctx, name, guards));
  }

  /** Select guards; returns applied patches the new selection would not have pushed. */
  async select(guards: string[]): Promise<string[]> {
    refuseDuringStoppedRebase(this.tree, "select");
    return this.transact(`select ${guards.join(" ")}`.trim(), (ctx) => planSelect(ctx, guards));
  }

  /** Turn the bottom applied patches, up to and including `target`, into git commits (hg qfinish). */
  async finish(opts: { target?: StackTarget; all?: boolean; onEvent?: EventSink } = {}): Promise<{ commits: { name: string; commit: string }[] }> {
    refuseDuringStoppedRebase(this.tree, "finish");
    refuseDuringStoppedSyncMove(this.tree, "finish");
    return this.transact("finish", (ctx) => planFinish(ctx, opts), opts.onEvent);
  }

  /**
   * Runs a command made of several operations (rebase, sync) so that the operation log
   * marks them as one: undo and redo then take them back and forward together. Nested
   * calls join the outer group.
   */
  async asOneCommand<T>(fn: () => Promise<T>, source?: "sync", first?: Pick<OplogEntry, "rebasePlan">): Promise<T> {
    if (this.group) return fn();
    this.group = `${Date.now().toString(36)}-${process.pid.toString(36)}-${(groupSeq++).toString(36)}`;
    this.source = source ?? null;
    this.groupFirst = first ?? null;
    this.groupLogged = false;
    try {
      return await fn();
    } finally {
      this.group = null;
      this.source = null;
      this.groupFirst = null;
    }
  }

  /**
   * Logs an operation that changes nothing on disk (a rebase's end after its last stop): its
   * entry carries what the command's first entry carries (the stopped rebase), so an undo of
   * the command goes back through it.
   */
  async logMarker(label: string): Promise<void> {
    await this.withLock(async () => {
      const tx = this.transaction(label);
      await this.run(tx, label, undefined, undefined, {}, true);
    });
  }

  /** Whether the command under way (asOneCommand) has logged an operation yet. */
  loggedInCommand(): boolean {
    return this.group !== null && this.groupLogged;
  }

  /** The stopped rebase's files as object ids, for the log (see OplogEntry.rebasePlan); null when none is stopped. */
  rebasePlanIds(): [string, string] | null {
    const paths = statePaths(this.tree);
    const plan = readText(paths.rebase);
    const saved = readText(paths.rebaseSaved);
    return plan === null || saved === null ? null : [this.store.putChecked(plan), this.store.putChecked(saved)];
  }

  /** Take back the last `count` commands (or re-do the last undone ones) as one transaction. */
  async undo(opts: { count?: number; force?: boolean; redo?: boolean; onEvent?: EventSink } = {}): Promise<UndoReport> {
    const direction = opts.redo ? "redo" : "undo";
    refuseDuringStoppedSync(this.tree, direction);
    if (existsSync(join(statePaths(this.tree).dir, "rebase.json"))) {
      throw new PqError(
        "refused",
        direction === "undo"
          ? "a pq rebase is in progress; pq undo would take back only part of it"
          : "a pq rebase is stopped; pq redo is refused while it is (a --continue it would re-do is pq rebase --continue itself)",
        ["pq rebase --continue goes on (or finishes it); pq rebase --abort puts the base, the queue and the tree back as they were"],
      );
    }
    return this.withLock(async () => {
      const tx = this.transaction(direction);
      const { report, ids, rebasePlan } = await planUndo(this.opContext(tx, opts.onEvent), direction, opts.count ?? 1, Boolean(opts.force));
      const label = `${direction} ${report.entries.map((e) => e.op).join(", ")}`;
      // The log's backup names the between-backup too: a kill after the journal is completed by the next command, which says where (t65 N2).
      const backups = [report.backup, report.betweenBackup].filter((b): b is string => b !== undefined).join(" and ") || undefined;
      await this.run(tx, label, opts.onEvent, backups, direction === "undo" ? { undoes: ids } : { redoes: ids }, true);
      // A rebase's --continue (or --skip) taken back: the rebase is stopped again where it was.
      if (direction === "undo" && rebasePlan) {
        const paths = statePaths(this.tree);
        writeAtomic(paths.rebaseSaved, this.store.get(rebasePlan[1]), true);
        writeAtomic(paths.rebase, this.store.get(rebasePlan[0]), true);
        report.rebaseStopped = true;
      }
      return report;
    });
  }

  async redo(opts: { count?: number; force?: boolean; onEvent?: EventSink } = {}): Promise<UndoReport> {
    return this.undo({ ...opts, redo: true });
  }

  // ---------------------------------------------------------------- internals

  /** Run fn under the lock with a fresh state: another pq may have changed it meanwhile. */
  async withLock<T>(fn: () => Promise<T>, opts: { changes?: boolean; dryRun?: boolean } = {}): Promise<T> {
    if (this.lock) return fn(); // re-entrant: an operation built from others
    mark("stack opened");
    // A long-lived stack (the TUI's) after git clean -fdx took .pq/: said as such, not as the lock file's ENOENT (tui-8 T17).
    refuseGoneStack(this.tree);
    const lockPath = statePaths(this.tree).lock;
    this.lock = await takeWaiting(() => (opts.dryRun ? TreeLock.acquireToRead(lockPath) : TreeLock.acquire(lockPath)));
    let releaseQueue: (() => void) | null = null;
    try {
      // Another tree's pq on the same queue directory (see queue-lock.ts).
      releaseQueue = await takeQueueLock(this.tree, this.queueDir);
      // Completing an interrupted operation writes the tree, the queue and the state: no dry run
      // does (dry-6 #8). Asked under the lock: a live pq's journal is its operation under way,
      // and the lock said so (t61 N1: it was called interrupted, exit 13).
      if (opts.dryRun && existsSync(statePaths(this.tree).journal)) {
        throw new PqError("damaged", "an interrupted operation waits to be completed, and a dry run writes nothing, so it does not complete it", [
          "pq status completes it (as any command does), then run the dry run again",
        ]);
      }
      // Another pq may have written objects and caches since this one read them.
      this.openCaches();
      const replayed = await recover(this.execContext());
      // Files the user changed since the interrupted operation began, which its completion saved and
      // wrote over: the operation asked for now is not done on that tree (t96 N4: a refresh then
      // took the tree as the completion left it and said "unchanged" over a resolution it had saved).
      if (replayed && !replayed.discarded && replayed.backups.length) this.savedByRecovery = replayed.backups.join(" and ");
      if (replayed) {
        const saved = [
          replayed.ownBackup ? `; the unrefreshed edits it overwrote are in ${replayed.ownBackup}` : "",
          replayed.backups.length ? `; files changed since it began were saved in ${replayed.backups.join(" and ")}` : "",
        ].join("");
        this.onEvent({
          kind: "recover",
          message: replayed.discarded
            ? `dropped an unreadable journal (an operation torn before its journal was whole, which writes nothing before it is: the tree was not touched); kept as ${replayed.kept}`
            : `completed an interrupted operation (${replayed.op})${saved}`,
        });
      }
      if (opts.changes !== false && !this.syncing) refuseDuringInterruptedSync(this.tree, "the change");
      this.reload();
      mark("locked, caches and state read");
      return await fn();
    } finally {
      mark("operation done");
      this.store.close();
      // Later operations of a long-lived stack (the TUI's) read the store afresh.
      this.openedStore = null;
      releaseQueue?.();
      this.lock.release();
      this.lock = null;
      mark("unlocked");
    }
  }

  /** One planner in one transaction under the lock. */
  private async transact<T>(label: string, plan: (ctx: OpContext) => T | Promise<T>, onEvent?: EventSink): Promise<T> {
    return this.withLock(async () => {
      const tx = this.transaction(label);
      const result = await plan(this.opContext(tx, onEvent));
      await this.run(tx, tx.label, onEvent);
      return result;
    });
  }

  /** The user was shown where a replay saved their files (the TUI's status line): the next operation need not stop for it. */
  acknowledgeRecovery(): void {
    this.savedByRecovery = null;
  }

  private transaction(label: string): Transaction {
    const op = label.split(" ", 1)[0];
    // Every operation that writes (not status's or diff's look at the tree) stops after a replay
    // that saved files changed since the interrupted operation began (t96 N4, t97 N2: pop and undo went on).
    if (this.savedByRecovery !== null && op !== "status" && op !== "diff") {
      const saved = this.savedByRecovery;
      this.savedByRecovery = null;
      throw new PqError("refused", `an interrupted operation was completed first, and the files you changed since it began were saved in ${saved}; ${op} was not done`, [
        "look at what was saved (diff it with the tree), carry over what you want, then run the command again",
      ]);
    }
    const before = this.lendState();
    const tx = new Transaction(label, this.queueDir, this.tree, this.store, this.statCache, before.state, before.text);
    tx.ws.reserved = this.reservedPaths();
    if (BY_SERIES_POSITION.has(label.split(" ", 1)[0])) refuseUnlistedApplied(tx);
    return tx;
  }

  /** Tree paths no patch may write: the queue directory when it lives inside the tree. */
  private reservedPaths(): string[] {
    const rel = queueInTree(this.tree, this.queueDir);
    return rel ? [rel] : [];
  }

  private opContext(tx: Transaction, onEvent?: EventSink): OpContext {
    const stack = this;
    return {
      tree: this.tree,
      queueDir: this.queueDir,
      // The state before the operation, parsed again only if a planner asks (see lendState).
      get state() {
        return stack.state;
      },
      store: this.store,
      statCache: this.statCache,
      pushCache: this.pushCache,
      emit: onEvent ?? this.onEvent,
      repo: () => this.repo(),
      tx,
    };
  }

  private execContext(): ExecContext {
    return { tree: this.tree, queueDir: this.queueDir, store: this.store, statCache: this.statCache, repo: () => this.repo(), command: this.command };
  }

  /** Execute a planned transaction (nothing at all when it changes nothing). */
  private async run(
    tx: Transaction,
    label: string,
    onEvent?: EventSink,
    backup?: string,
    extra: { undoes?: string[]; redoes?: string[] } = {},
    always = false,
  ): Promise<void> {
    tx.label = label;
    if (!always && tx.isEmpty()) return;
    const emit = onEvent ?? this.onEvent;
    const entry = await execute(
      this.execContext(),
      tx,
      {
        op: label,
        ...(backup ? { backup } : {}),
        ...(this.group ? { group: this.group } : {}),
        ...(this.source ? { source: this.source } : {}),
        ...(this.takingBack ? { undoes: this.takingBack, abort: true as const } : {}),
        ...(this.groupFirst ?? {}),
        ...(tx.finished ? { finished: tx.finished } : {}),
        ...extra,
      },
      (done, total) => emit({ kind: "write", message: "writing files", current: done, total }),
    );
    this.groupFirst = null;
    this.groupLogged = true;
    // Said as a recovery is: on stderr, and on the TUI's status line.
    if (entry.changedDuring) emit({ kind: "recover", message: `files changed while ${label} ran were saved in ${entry.changedDuring}: the operation wrote its own versions over them` });
    this.pushCache.flush();
    this.state = tx.state;
    // The plan's parse of the series, for the queries after it (a push's report asks for the
    // series: parsing 1000 names again cost ~2 ms); readSeries takes it only for the same text.
    const parsed = tx.seriesParsed();
    if (parsed) this.seriesRead = parsed;
    this.readStamp = null; // written just now: the next reload reads it
  }

  private resolveIn(ctx: OpContext, target: StackTarget): string {
    return resolveName(ctx.tx.series(), target);
  }

  /** The last series read and its text: queries read the file each time, and parse it again only when it changed. */
  private seriesRead: { text: string; series: Series } | null = null;

  private readSeries(): Series {
    // The series is UTF-8 text (quilt and hg read it so): names are decoded like file names.
    const text = readQueueText(this.queueDir, "series") ?? "";
    // Callers only read it (entries() hands out copies); edits go through a transaction's own Series.
    if (this.seriesRead?.text !== text) {
      const series = Series.fromBytes(text);
      series.queuePlace = () => this.queuePlace();
      this.seriesRead = { text, series };
    }
    return this.seriesRead.series;
  }

  private versionContent(v: Version): string | null {
    return v === null ? null : this.store.get(versionId(v)!);
  }

  // --- added for rebase/absorb
  /** A recorded file version's bytes: rebase merges with a patch's recorded pre- and post-images. */
  versionText(v: Version): string | null {
    return this.versionContent(v);
  }

  /** Run a planner from a module outside the class (rebase's base move) as one transaction. */
  async runPlanner<T>(label: string, plan: (ctx: OpContext) => T | Promise<T>, onEvent?: EventSink): Promise<T> {
    return this.transact(label, plan, onEvent);
  }

  /** Take back markConflicted where no conflict is left (a sync's abort over a binary conflict that kept the patch as it was). */
  async unmarkConflicted(name: string): Promise<void> {
    await this.transact(`conflict mark of ${name} taken back`, (ctx) => {
      const record = ctx.tx.state.applied.find((a) => a.name === name);
      if (record?.needsRefresh === "conflict") delete record.needsRefresh;
    });
  }

  /** Mark an applied patch conflicted: push, pop and finish then refuse until pq refresh. */
  async markConflicted(name: string): Promise<void> {
    await this.transact(`conflicted ${name}`, (ctx) => {
      const record = ctx.tx.state.applied.find((a) => a.name === name);
      if (!record) throw new PqError("refused", `${name} is not applied`);
      record.needsRefresh = "conflict";
    });
  }
}

/**
 * Operations that place patches by the series' order (push, import and new after the top, fold,
 * finish from the bottom, moves): over an applied patch the series no longer lists (its line
 * deleted or commented out by hand) they stacked onto it, folded into it or refused with no way
 * on (t44 N3). quilt refuses every command then; pq refuses these, and pop (which goes by what
 * was applied), status and the edits of one patch still work.
 */
const BY_SERIES_POSITION = new Set(["push", "import", "new", "fold", "finish", "delete", "rename", "reorder"]);

/** Refuses when an applied patch is not in the series (see BY_SERIES_POSITION). */
function refuseUnlistedApplied(tx: Transaction): void {
  if (!tx.state.applied.length) return;
  const listed = new Set(tx.seriesView().names());
  const missing = tx.state.applied.filter((r) => !listed.has(r.name)).map((r) => r.name);
  if (!missing.length) return;
  throw new PqError(
    "refused",
    `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} applied, but the series no longer lists ${missing.length === 1 ? "it" : "them"} (a hand edit of the series, a git pull of the queue, or another tree using the queue directory, whose .pq/backups may hold its version?)`,
    [
      `put the line${missing.length === 1 ? "" : "s"} back in the series, where ${missing.length === 1 ? "it was" : "they were"}; or pq pop -a (pop goes by what was applied), then edit the series as you want it`,
      "in a shared queue whose git pull brought a colleague's delete or rename: pq sync takes it with the stack",
    ],
    { patches: missing },
  );
}

/** "a" for one patch, "a..c" for several. */
const span = (first: string, last: string): string => (first === last ? first : `${first}..${last}`);

/** Names in an operation's name: a few as they are, many as first..last with their count (a fold of 399 made a 5 KB line). */
const listed = (names: string[]): string => (names.length <= 4 ? names.join(" ") : `${span(names[0], names.at(-1)!)} (${names.length})`);

/** state.json's inode, size and mtime, or null when it was modified too recently to tell (or is missing). */
/** state.json's identity now (inode, size, mtime), however recent. */
function rawStateStamp(tree: string): string | null {
  const st = statSync(statePaths(tree).state, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : null;
}

function stateStamp(tree: string): string | null {
  const st = statSync(statePaths(tree).state, { throwIfNoEntry: false });
  return st && st.mtimeMs < Date.now() - 10 ? `${st.ino}:${st.size}:${st.mtimeMs}` : null;
}

/**
 * What hg's `qselect --reapply` does after a change of the selection, as two moves: pop to the
 * applied patch below the first one whose fate changed (an applied patch now guarded off, an
 * unapplied one below the top now let through; null: pop -a), then push back up to where the
 * top was (the last patch let through at or below it). Null when the selection changes nothing
 * applied. The series' order stays (push --move would change it for everyone sharing the queue: t129 N7).
 */
function reapplyWayOf(applied: string[], guards: string[], series: Series): { popTo: string | null; pushTo: string | null } | null {
  const top = applied.at(-1);
  if (!top) return null;
  const entries = series.patchEntries();
  const names = entries.map((e) => e.name);
  const topAt = names.indexOf(top);
  if (topAt === -1) return null;
  const isApplied = new Set(applied);
  const pushable = new Set(entries.filter((e) => isPushable(e, guards)).map((e) => e.name));
  const changed = names.findIndex((name, i) => (isApplied.has(name) ? !pushable.has(name) : pushable.has(name) && i < topAt));
  if (changed === -1) return null;
  const popTo = applied.filter((name) => names.indexOf(name) < changed).at(-1) ?? null;
  const pushTo = names.slice(0, topAt + 1).filter((name) => pushable.has(name)).at(-1) ?? null;
  return { popTo, pushTo };
}
