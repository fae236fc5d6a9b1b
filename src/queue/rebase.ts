/**
 * pq rebase (StGit rebase, hg mq's qsave/update/qpush -m ritual in one command): pop the
 * applied patches, move the base to a new upstream commit, and push them back one by one.
 * A patch that no longer applies is merged three ways from its recorded file versions; a
 * patch whose change upstream already has is dropped, naming the commit; each patch that
 * needed offsets is refreshed so the queue is clean afterwards. A conflict stops the
 * rebase (--continue after fixing and pq refresh; --abort puts base, queue and tree back).
 *
 * Everything needed to go back is saved in .pq/rebase.json before anything changes.
 */
import { operandWords } from "../core/shell-word.js";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { addsConflictMarkers } from "./patch-text.js";
import { join } from "node:path";
import { PqError } from "../errors.js";
import { parseHeader } from "../mail/header.js";
import { asciiJson, readText, sha1, writeAtomic } from "../tree/files.js";
import { planPush } from "./ops/push.js";
import { handCommitAdvice } from "./ops/pop.js";
import { rewriteFromRecord } from "./rewrite.js";
import { containedUpstream, mergePatch, patchIdsOf, upstreamCommitFor, addedInMovedFolders, upstreamPatchIds, upstreamRenames } from "./rebase-merge.js";
import { headerOf } from "./patch-text.js";
import type { Stack } from "./stack.js";
import { adoptRecords, pathMap, refuseDuringStoppedSyncMove, statePaths, type AppliedPatch } from "./state.js";
import { isPushable } from "./series.js";
import { planMoveBase } from "./rebase-base.js";
import { backupFiles } from "./ops/context.js";
import { gitOut, stagedChanges } from "./git-cli.js";
import { OplogReader } from "./oplog.js";

export type RebaseOutcome = "clean" | "offsets" | "merged" | "conflicted" | "resolved" | "dropped";

export interface RebaseStep {
  name: string;
  outcome: RebaseOutcome;
  /** offsets: the hunks that moved; merged/conflicted: per-file notes; dropped: the upstream commit. */
  notes: string[];
  commit?: string;
}

interface RebasePlan {
  version: 1;
  oldHead: string;
  newHead: string;
  upstream: string;
  series: string;
  /** Every patch file in the queue, byte for byte, as it was before. */
  patches: Record<string, string>;
  applied: string[];
  /** The applied patches' recorded file versions (the merge bases). */
  records: AppliedPatch[];
  todo: string[];
  done: RebaseStep[];
  /** The patch the rebase stopped at. */
  stopped?: string;
  /** An --abort began: a kill between its transactions leaves the abort to finish, not the rebase to go on (t65 N4). */
  aborting?: true;
  /** The branch the rebase moved (refs/heads/NAME; "" on a detached HEAD); absent in a plan written before it was kept. */
  branch?: string;
  /**
   * Per patch the rebase itself rewrote (a merge, a conflicted merge, offsets refreshed), the
   * sha1 of the text it left: an --abort saves and names only queue files changed after that
   * (t80 N4: it named its own merges "queue files changed"). A resolution refreshed by hand is
   * not the rebase's, even once --continue went past it.
   */
  wrote?: Record<string, string>;
  /**
   * The patch whose conflicted merge the rebase is writing (its text, its push, its mark, then
   * the stop are four writes): a rebase killed between them is stopped there by the next
   * --continue, not taken for a clean push of the markers (t83 N1).
   */
  merging?: { name: string; hash: string };
}

/** The branch HEAD is on (refs/heads/NAME), or "" on a detached HEAD. */
function headBranch(tree: string): string {
  try {
    return gitOut(tree, ["symbolic-ref", "-q", "HEAD"]).trim();
  } catch {
    return "";
  }
}

/**
 * --continue, --skip and --abort move or read the branch the rebase moved: on another one (a git
 * checkout -b while it was stopped) the abort reset that one to the old base and left the
 * rebased branch where it was, saying it was back (t70 N3).
 */
function refuseOtherBranch(stack: Stack, plan: RebasePlan, doing: string): void {
  if (plan.branch === undefined) return;
  const now = headBranch(stack.tree);
  if (now === plan.branch) return;
  const name = (ref: string) => (ref ? ref.replace(/^refs\/heads\//, "") : "a detached HEAD");
  let exists = plan.branch === "";
  try {
    if (plan.branch) exists = gitOut(stack.tree, ["rev-parse", "--verify", "--quiet", plan.branch]).trim() !== "";
  } catch {
    exists = false;
  }
  // Renamed while the rebase was stopped (git branch -m): its old name is no branch to check out (t72 N3).
  if (!exists)
    throw new PqError(
      "refused",
      `the rebase moved ${name(plan.branch)}, which is no branch now (renamed or deleted since), and HEAD is on ${name(now)}: ${doing} would act on the wrong branch`,
      [
        `nothing was changed; if HEAD's branch is that one renamed, git branch -m ${name(now)} ${name(plan.branch)} gives it its name back; else git branch ${name(plan.branch)} ${plan.newHead.slice(0, 12)} and git checkout ${name(plan.branch)}; then pq rebase ${doing.replace(/^pq rebase /, "")} again`,
      ],
      { branch: plan.branch, head: now },
    );
  throw new PqError(
    "refused",
    `the rebase moved ${name(plan.branch)}, and HEAD is on ${name(now)} now: ${doing} would act on the wrong branch`,
    [`nothing was changed; git checkout ${plan.branch ? name(plan.branch) : plan.newHead.slice(0, 12)} goes back to it, then pq rebase ${doing.replace(/^pq rebase /, "")} again`],
    { branch: plan.branch, head: now },
  );
}

/** Where the queue as it was before the last finished rebase is kept (pq range-diff OLD NEW compares queue directories). */
export const oldQueueDir = (stack: Stack) => join(statePaths(stack.tree).dir, "rebase-last");

function keepOldQueue(stack: Stack, plan: RebasePlan): void {
  const dir = oldQueueDir(stack);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, "series"), plan.series);
  for (const [name, text] of Object.entries(plan.patches)) writeAtomic(join(dir, name), text);
}

export interface RebaseReport {
  upstream: string;
  oldHead: string;
  newHead: string;
  steps: RebaseStep[];
  /** Set when the rebase stopped at a conflicted patch. */
  stopped?: string;
  /** The stack was already on the upstream commit: nothing was done. */
  upToDate?: boolean;
  /** --abort: where edits made while the rebase was stopped were saved before the tree was put back. */
  backup?: string;
  /** --abort: where queue files changed while the rebase was stopped (a refresh of a resolution, a new patch; not its own merges) were saved. */
  queueBackup?: string;
  /** --abort: patches made while the rebase was stopped, which go with it (their files saved in queueBackup). */
  madeMeanwhile?: string[];
}

const planPath = (stack: Stack) => statePaths(stack.tree).rebase;
/** What the rebase started from (queue files, records): big, written once. */
const savedPath = (stack: Stack) => statePaths(stack.tree).rebaseSaved;
const SAVED = ["series", "patches", "records"] as const;

function loadPlan(stack: Stack): RebasePlan | null {
  const text = readText(planPath(stack));
  const saved = readText(savedPath(stack));
  if (text === null || saved === null) return null;
  const plan: RebasePlan = { ...(JSON.parse(text) as RebasePlan), ...(JSON.parse(saved) as Pick<RebasePlan, (typeof SAVED)[number]>) };
  adoptRecords(plan.records ?? []);
  return plan;
}

/** The progress after every step; the saved queue only when the rebase starts. */
function savePlan(stack: Stack, plan: RebasePlan, start = false): void {
  const { series, patches, records, ...progress } = plan;
  if (start) writeAtomic(savedPath(stack), asciiJson({ series, patches, records }) + "\n", true);
  writeAtomic(planPath(stack), asciiJson(progress) + "\n", true);
}

function dropPlan(stack: Stack): void {
  rmSync(planPath(stack), { force: true });
  rmSync(savedPath(stack), { force: true });
}

export function rebaseInProgress(stack: Stack): boolean {
  return existsSync(planPath(stack));
}


/** One line for pq status while a rebase is under way. */
export function rebaseStatus(stack: Stack): string | null {
  const text = readText(planPath(stack));
  if (text === null) return null;
  const plan = JSON.parse(text) as Pick<RebasePlan, "upstream" | "stopped" | "todo" | "aborting">;
  if (plan.aborting) return `rebase onto ${plan.upstream}: its --abort was interrupted: pq rebase --abort finishes it`;
  const where = plan.stopped ? `stopped at ${plan.stopped}` : "interrupted";
  // The patch it stopped at is still on the to-do list: count the ones after it.
  const left = plan.stopped ? `${plan.todo.filter((n) => n !== plan.stopped).length} more patch(es) after it` : `${plan.todo.length} patch(es) to go`;
  return `rebase onto ${plan.upstream} in progress, ${where}, ${left}: pq rebase --continue (after pq refresh) or pq rebase --abort`;
}

async function requireGit(stack: Stack) {
  const git = await stack.repo();
  if (!git) throw new PqError("no-queue", "rebase needs a git work tree");
  return git;
}

/** The default upstream: the current branch's upstream, after fetching it. */
function defaultUpstream(tree: string): string {
  let name: string;
  try {
    name = gitOut(tree, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"]).trim();
  } catch {
    throw new PqError("usage", "the current branch has no upstream branch", ["name the commit to rebase onto: pq rebase UPSTREAM (or git branch --set-upstream-to)"]);
  }
  const remote = gitOut(tree, ["config", "--get", `branch.${gitOut(tree, ["symbolic-ref", "--short", "HEAD"]).trim()}.remote`]).trim();
  if (remote && remote !== ".") gitOut(tree, ["fetch", "--quiet", remote]);
  return name;
}

/** How the operation that moves the base onto upstream is logged: the rebase's first (see stoppedRebaseIds). */
const REBASE_START = "rebase: base ";

/**
 * A rebase, its --continue and its --abort are each one command in the operation log (the
 * base move, pushes, refreshes and drops together): one pq undo takes a finished rebase back.
 * Each holds the tree lock from start to end: a pq started meanwhile (another terminal, the
 * TUI) is told the tree is locked instead of changing the stack under the rebase.
 */
export function rebase(stack: Stack, opts: { upstream?: string; onStep?: (s: RebaseStep) => void } = {}): Promise<RebaseReport> {
  return asRebase(stack, () => startRebase(stack, opts));
}

/** One command in the log, under the lock, its own steps (drops) not fenced off as a stopped rebase fences others (Stack.rebasing). */
async function asRebase<T>(stack: Stack, fn: () => Promise<T>, goesOn = false): Promise<T> {
  const was = stack.rebasing;
  stack.rebasing = true;
  try {
    // The log's first entry of the command says what an undo of it goes back to: the stopped rebase it went on from, or none.
    return await stack.withLock(() => stack.asOneCommand(fn, undefined, { rebasePlan: goesOn ? stack.rebasePlanIds() : null }));
  } finally {
    stack.rebasing = was;
  }
}

export function continueRebase(stack: Stack, opts: { onStep?: (s: RebaseStep) => void } = {}): Promise<RebaseReport> {
  return asRebase(stack, () => resumeRebase(stack, opts), true);
}

/**
 * git rebase --skip: the patch the rebase stopped at is dropped (popped with its conflicts,
 * edits in its files saved as pop --force saves them, the patch file kept in .pq/trash) and
 * the rebase goes on with the next (stack-6 #15).
 */
export function skipRebasePatch(stack: Stack, opts: { onStep?: (s: RebaseStep) => void } = {}): Promise<RebaseReport> {
  return asRebase(stack, async () => {
      const plan = loadPlan(stack);
      if (plan) refuseDuringAbort(plan);
      if (plan) refuseOtherBranch(stack, plan, "pq rebase --skip");
      if (!plan?.stopped) throw new PqError("refused", "no rebase is stopped at a patch", ["pq status shows where the stack is"]);
      const name = plan.stopped;
      if (stack.top() !== name) {
        throw new PqError("refused", `the rebase stopped at ${name}, which is not the top patch now`, [`pq goto ${operandWords(name)}, then pq rebase --skip`], { patch: name });
      }
      const popped = await stack.pop({ force: true });
      await stack.deletePatches([name]);
      const step: RebaseStep = {
        name,
        outcome: "dropped",
        notes: [`skipped (pq rebase --skip): the patch file is in .pq/trash${popped.backup ? `; your edits in its files were saved in ${popped.backup}` : ""}`],
      };
      closeStoppedStep(stack, plan, step, opts.onStep);
      return run(stack, plan, opts.onStep);
  }, true);
}

export function abortRebase(stack: Stack): Promise<RebaseReport> {
  return asRebase(stack, () => rollBackRebase(stack));
}

async function startRebase(stack: Stack, opts: { upstream?: string; onStep?: (s: RebaseStep) => void }): Promise<RebaseReport> {
  if (rebaseInProgress(stack)) throw new PqError("refused", "a rebase is already in progress", ["pq rebase --continue after fixing and pq refresh, or pq rebase --abort"]);
  // A stopped sync's --abort would put the queue back under the rebase's stop (t150 N4): one at a time.
  refuseDuringStoppedSyncMove(stack.tree, "rebase");
  // An applied patch the selected guards now leave out would be dropped from the stack by the
  // rebase's push, which skips it (t151 N6: the rebase stopped half done on another command's refusal).
  const selected = stack.selectedGuards();
  const guardedOff = stack
    .series()
    .filter((e) => stack.applied().includes(e.name) && !isPushable(e, selected))
    .map((e) => e.name);
  if (guardedOff.length)
    throw new PqError(
      "refused",
      `${guardedOff.join(", ")} ${guardedOff.length === 1 ? "is" : "are"} applied but guarded off by the selected guards: the rebase would leave ${guardedOff.length === 1 ? "it" : "them"} out; nothing was changed`,
      ["pq select --reapply pops and pushes the stack as the guards say (or pq select the guard that keeps it on), then pq rebase"],
      { patches: guardedOff },
    );
  const git = await requireGit(stack);
  if (stagedChanges(stack.tree)) throw new PqError("dirty", "the git index has staged changes", ["commit or unstage them first (git restore --staged -- :/ unstages them all; the work tree keeps them)"]);
  const status = await stack.status();
  if (status.needsRefresh) throw new PqError("needs-refresh", `${status.top} needs a refresh before a rebase`);
  const pending = stack.applied().length ? status.pending : await git.changedTrackedFiles();
  // What differs because HEAD moved under the patches, or because their changes are gone, is no
  // edit to refresh first: status's way out instead (t45 N2).
  if (pending.length && (status.headMoved || status.changesGone)) {
    throw new PqError(
      "refused",
      status.headMoved
        ? `HEAD moved under the applied patches since they were pushed: the tree is not what they make it over ${status.headMoved.head.slice(0, 12)}`
        : `the applied patches' changes to ${status.changesGone!.files.slice(0, 8).join(", ")} are gone from the tree`,
      status.headMoved ? handCommitAdvice("rebase", status.headMoved) : ["pq pop -a, then pq push -a, puts them back; then pq rebase"],
      { files: pending, pathsFrom: stack.tree },
    );
  }
  if (pending.length) {
    throw new PqError(
      "dirty",
      stack.applied().length
        ? `unrefreshed changes in ${pending.slice(0, 8).join(", ")}: the tree is not what the applied patches make it`
        : `the tree has changes that are in no patch: ${pending.slice(0, 8).join(", ")}`,
      stack.applied().length
        ? ["pq refresh them into a patch (or git stash them) first; pq diff shows what a refresh would take"]
        : // No patch applied to refresh them into (t107 N3).
          ["git stash them first, then pq rebase, then git stash pop; or pq new NAME and pq refresh to make them a patch"],
      { files: pending },
    );
  }
  const upstream = opts.upstream ?? defaultUpstream(stack.tree);
  let newHead: string;
  try {
    newHead = gitOut(stack.tree, ["rev-parse", "--verify", "--quiet", `${upstream}^{commit}`]).trim();
  } catch {
    throw new PqError("not-found", `${upstream} is not a commit`);
  }
  const oldHead = gitOut(stack.tree, ["rev-parse", "HEAD"]).trim();
  if (oldHead === newHead) return { upstream, oldHead, newHead, steps: [], upToDate: true };
  // The base move resets the branch to the upstream: commits of its own (a pq finish, a hand
  // commit) would be dropped from it without a word. git rebase would carry them; pq refuses.
  const local = gitOut(stack.tree, ["log", "--format=%h %s", `${newHead}..${oldHead}`]).trim().split("\n").filter(Boolean);
  if (local.length) {
    throw new PqError(
      "refused",
      `the branch has ${local.length} commit(s) that ${upstream} does not: ${local.slice(0, 3).join("; ")}${local.length > 3 ? "; ..." : ""}; moving the base to ${upstream} would drop them`,
      [
        "nothing was changed",
        `pq uncommit turns finished commits back into patches (then pq rebase carries them), or pq pop -a, git rebase ${upstream}, pq push -a`,
      ],
      { commits: local },
    );
  }
  const applied = stack.applied();
  const patches = pathMap<string>();
  for (const { name } of stack.series()) {
    const text = readText(stack.patchPath(name));
    if (text !== null) patches[name] = text;
  }
  const plan: RebasePlan = {
    version: 1,
    oldHead,
    newHead,
    upstream,
    series: readText(join(stack.queueDir, "series")) ?? "",
    patches,
    applied,
    records: adoptRecords(stack.appliedRecords().map((r) => JSON.parse(JSON.stringify(r)) as AppliedPatch)),
    todo: [...applied],
    done: [],
    branch: headBranch(stack.tree),
  };
  savePlan(stack, plan, true);
  try {
    // Pop and move the branch, index and files in one transaction (undoable like any other).
    await stack.runPlanner(`${REBASE_START}${oldHead.slice(0, 12)} -> ${upstream}`, (ctx) => planMoveBase(ctx, newHead));
  } catch (e) {
    // Refused while planning: nothing changed, no rebase to remember. Failed after its
    // journal was written (git's index locked by another git, say): the next pq completes
    // the move, so the rebase stays in progress for --continue and --abort.
    if (!existsSync(statePaths(stack.tree).journal)) {
      dropPlan(stack);
      throw e;
    }
    if (!(e instanceof PqError)) throw e;
    throw new PqError(e.code, `${e.message} (while moving the base: the rebase is in progress)`, [
      ...e.details,
      "once that is fixed, pq rebase --continue completes the move and goes on (or pq rebase --abort puts everything back)",
    ], e.data);
  }
  return run(stack, plan, opts.onStep);
}

async function resumeRebase(stack: Stack, opts: { onStep?: (s: RebaseStep) => void }): Promise<RebaseReport> {
  const plan = loadPlan(stack);
  if (!plan) throw new PqError("refused", "no rebase is in progress");
  refuseDuringAbort(plan);
  refuseOtherBranch(stack, plan, "pq rebase --continue");
  const head = gitOut(stack.tree, ["rev-parse", "HEAD"]).trim();
  if (head !== plan.newHead) {
    // Interrupted before the base moved: move it now (the transaction is all or nothing).
    if (head !== plan.oldHead) throw new PqError("refused", `HEAD is at ${head.slice(0, 12)}, neither the old base nor ${plan.upstream}`, ["pq rebase --abort puts everything back"]);
    await stack.runPlanner(`${REBASE_START}${plan.oldHead.slice(0, 12)} -> ${plan.upstream}`, (ctx) => planMoveBase(ctx, plan.newHead));
  }
  if (plan.stopped) {
    const record = stack.appliedRecords().find((r) => r.name === plan.stopped);
    if (!record) {
      throw new PqError("refused", `the rebase stopped at ${plan.stopped}, which is not applied now`, [
        `pq goto ${operandWords(plan.stopped)}, fix it, pq refresh, then pq rebase --continue (or pq rebase --abort)`,
      ]);
    }
    if (record.needsRefresh) throw new PqError("needs-refresh", `${record.name} still has conflicts to resolve`, ["fix the conflict markers, pq refresh, then pq rebase --continue"]);
    const status = await stack.status();
    if (status.pending.length) throw new PqError("dirty", `unrefreshed changes in ${status.pending.join(", ")}`, ["pq refresh first"]);
    // The conflicted result is written into the queue with its markers; a pop --force and a
    // push re-applies that text as it is, so the patch itself is checked, as sync --continue does.
    const text = (await stack.readPatch(plan.stopped).catch(() => "")) ?? "";
    if (addsConflictMarkers(text) && /^\+=======$/m.test(text)) {
      throw new PqError("conflict", `conflict markers are still in ${plan.stopped}`, [
        `edit the marked files (pq goto ${operandWords(plan.stopped)} if it is not on top), pq refresh, then pq rebase --continue; or pq rebase --abort`,
      ], { patch: plan.stopped });
    }
    closeStoppedStep(stack, plan, { name: plan.stopped, outcome: "resolved", notes: [] }, opts.onStep);
  }
  return run(stack, plan, opts.onStep);
}

/** The patch the rebase stopped at is done with (resolved by hand, or skipped): recorded, and the plan goes on from the next. */
function closeStoppedStep(stack: Stack, plan: RebasePlan, step: RebaseStep, onStep?: (s: RebaseStep) => void): void {
  plan.done.push(step);
  onStep?.(step);
  plan.todo.shift();
  delete plan.stopped;
  savePlan(stack, plan);
}

/** --continue and --skip after an --abort that was cut short: the abort is finished, not the rebase. */
function refuseDuringAbort(plan: RebasePlan): void {
  if (!plan.aborting) return;
  throw new PqError("refused", "a pq rebase --abort was interrupted; the rebase cannot go on", ["pq rebase --abort finishes it: the base, the queue and the tree come back as they were before the rebase"]);
}

/** Put base, queue files and tree back as they were before the rebase started. */
async function rollBackRebase(stack: Stack): Promise<RebaseReport> {
  const plan = loadPlan(stack);
  if (!plan) throw new PqError("refused", "no rebase is in progress");
  refuseOtherBranch(stack, plan, "pq rebase --abort");
  // A commit made on the branch while the rebase was stopped would be dropped by moving the
  // branch back: refused, as sync --abort refuses (stack-6 #10).
  const head = gitOut(stack.tree, ["rev-parse", "HEAD"]).trim();
  if (head !== plan.newHead && head !== plan.oldHead) {
    throw new PqError(
      "refused",
      `HEAD moved to ${head.slice(0, 12)} since the rebase stopped (it was at ${plan.newHead.slice(0, 12)}): the abort would drop that commit`,
      [
        `git reset --soft ${plan.newHead.slice(0, 12)} takes the commit back (its changes stay staged: commit them again after the abort), then pq rebase --abort`,
        "or keep it and finish the rebase: pq rebase --continue",
      ],
      { head, expected: plan.newHead },
    );
  }
  // Said first: a kill between the abort's transactions leaves an abort to finish, which
  // --continue must not take for a rebase to go on with (t65 N4).
  const began = !plan.aborting;
  if (began) savePlan(stack, { ...plan, aborting: true });
  // The abort takes the stopped rebase's operations back, as an undo does: logged so, pq undo
  // goes on to what came before the rebase (t61 N2: it refused at the abort for good), as after
  // a sync --abort.
  stack.takingBack = stoppedRebaseIds(stack.tree);
  // Queue files that are not as the rebase began (its merges, a resolution refreshed, a patch made
  // meanwhile) are saved before the queue is put back, and said, as sync --abort says them (t79 N3:
  // a patch made and refreshed while the rebase was stopped went to the trash unsaid).
  const names = stack.series().map((e) => e.name);
  const changed = names.filter((name) => {
    const now = readText(stack.patchPath(name));
    if (now === null || now === (plan.patches[name] ?? null)) return false;
    const hash = sha1(now);
    // The rebase's own writes: a merge it made, or the conflicted merge a kill cut short (t89 N4).
    return plan.wrote?.[name] !== hash && !(plan.merging?.name === name && plan.merging.hash === hash);
  });
  const madeMeanwhile = changed.filter((name) => plan.patches[name] === undefined);
  const queueBackup = changed.length ? backupFiles(stack.tree, changed, "rebase-abort-queue", stack.queueDir) : undefined;
  let backup: string | undefined;
  try {
    backup = await restore(stack, plan, began);
  } finally {
    stack.takingBack = null;
  }
  return {
    upstream: plan.upstream,
    oldHead: plan.oldHead,
    newHead: plan.newHead,
    steps: [],
    ...(backup ? { backup } : {}),
    ...(queueBackup ? { queueBackup } : {}),
    ...(madeMeanwhile.length ? { madeMeanwhile } : {}),
  };
}

/**
 * The logged operations of the stopped rebase, newest first: its start (the command whose
 * first operation moved the base), its --continue and --skip runs, and what was done by hand
 * while it was stopped (a refresh that resolved a conflict), which the abort takes back too.
 */
function stoppedRebaseIds(tree: string): string[] {
  const reader = new OplogReader(statePaths(tree).oplog);
  const ids: string[] = [];
  let start: string | undefined;
  for (let e = reader.older(); e !== null; e = reader.older()) {
    if (start !== undefined && e.group !== start) break;
    ids.push(e.id);
    if (start === undefined && e.op.startsWith(REBASE_START) && e.group !== undefined) start = e.group;
  }
  // No start found (a log cut short): nothing is said to be taken back, and undo stops at the abort as before.
  return start === undefined ? [] : ids;
}

/**
 * Puts base, queue and stack back; returns where edits in the way were saved, if any were.
 * `began`: this call marked the abort begun: refused before its first transaction wrote
 * anything (a directory where a file goes back), the rebase is left stopped as it was, for
 * --continue too (t72 N1: it was left an abort to finish).
 */
async function restore(stack: Stack, plan: RebasePlan, began: boolean): Promise<string | undefined> {
  // One transaction: pop what the rebase pushed, move the branch back, put the queue files back.
  const moved = await stack
    .runPlanner(`rebase --abort: base back to ${plan.oldHead.slice(0, 12)}`, (ctx) =>
    planMoveBase(ctx, plan.oldHead, {
      force: true,
      queue: { series: plan.series, patches: plan.patches },
      // The patches applied before the rebase go back up on the old base: an edit made in one of their files meanwhile is saved and taken out of their way (t70 N2: the push refused after the base had moved).
      reset: [...new Set(plan.records.flatMap((r) => Object.keys(r.files)))],
    }),
    )
    .catch((e: unknown) => {
      if (began && !existsSync(statePaths(stack.tree).journal)) {
        savePlan(stack, plan);
        if (e instanceof PqError) throw new PqError(e.code, e.message, [...e.details, "nothing was changed: the rebase is stopped as it was (pq rebase --abort again once that is fixed, or go on with --continue)"], e.data);
      }
      throw e;
    });
  for (const name of plan.done.map((s) => s.name).concat(plan.todo)) rmSync(join(stack.tree, `${name}.rej`), { force: true });
  if (plan.applied.length) await stack.push({ target: plan.applied.at(-1)! });
  dropPlan(stack);
  return moved.backup;
}

async function run(stack: Stack, plan: RebasePlan, onStep?: (s: RebaseStep) => void): Promise<RebaseReport> {
  const git = await requireGit(stack);
  const report = (): RebaseReport => ({ upstream: plan.upstream, oldHead: plan.oldHead, newHead: plan.newHead, steps: plan.done, ...(plan.stopped ? { stopped: plan.stopped } : {}) });
  const interrupted = await stopAtInterruptedMerge(stack, plan);
  if (interrupted) {
    onStep?.(interrupted);
    return { ...report(), steps: [...plan.done, interrupted] };
  }
  const range = `${plan.oldHead}..${plan.newHead}`;
  const subjects = new Map<string, string>();
  for (const line of gitOut(stack.tree, ["log", "--reverse", "--format=%H %s", range]).split("\n").filter(Boolean)) {
    const subject = line.slice(41);
    if (!subjects.has(subject)) subjects.set(subject, line);
  }
  // Patches pushed by hand while stopped (or before an interruption) are done already.
  const applied = new Set(stack.applied());
  const inSeries = new Set(stack.series().map((e) => e.name));
  while (plan.todo.length && (applied.has(plan.todo[0]) || !inSeries.has(plan.todo[0]))) {
    const name = plan.todo.shift()!;
    const step: RebaseStep = applied.has(name)
      ? { name, outcome: "clean", notes: ["already applied when the rebase went on"] }
      : { name, outcome: "dropped", notes: ["no longer in the series"] };
    plan.done.push(step);
    onStep?.(step);
  }
  const records = new Map(plan.records.map((r) => [r.name, r]));
  // Patches upstream took as they were (git rebase's test), found in one pass.
  const upstreamIds = upstreamPatchIds(stack.tree, range);
  const todoTexts = await Promise.all(plan.todo.map((n) => stack.readPatch(n)));
  const byPatchId = new Map<string, string>();
  if (upstreamIds.size) {
    patchIdsOf(stack.tree, todoTexts).forEach((id, i) => {
      const commit = id && upstreamIds.get(id);
      if (commit) byPatchId.set(plan.todo[i], commit);
    });
  }
  const content = (v: string | null) => stack.versionText(v);
  // Upstream's renames, asked of git once, when a merge first needs them.
  let renamed: Map<string, string> | undefined;
  const finishStep = (step: RebaseStep) => {
    if (step.outcome !== "dropped") noteWritten(stack, plan, [step.name]);
    plan.done.push(step);
    plan.todo.shift();
    savePlan(stack, plan);
    onStep?.(step);
  };

  while (plan.todo.length) {
    const name = plan.todo[0];
    if (byPatchId.has(name)) {
      await dropByPatchId(stack, plan, byPatchId, onStep);
      continue;
    }
    if (await pushRun(stack, plan, byPatchId, onStep)) continue;
    const text = await stack.readPatch(name);
    // A record describes this patch only if the file is the one it was made from.
    const saved = records.get(name);
    const record = saved && saved.hash === sha1(text) ? saved : undefined;
    if (containedUpstream(stack.tree, text, record, content, (path) => (renamed ??= upstreamRenames(stack.tree, plan.oldHead, plan.newHead)).get(path))) {
      const subject = parseHeader(headerOf(text)).subject;
      const commit = await upstreamCommitFor(git, range, subjects, subject, text);
      await stack.deletePatches([name]);
      finishStep({ name, outcome: "dropped", notes: [commit ? `upstream has it: ${commit.slice(0, 12)} ${commit.slice(41)}` : "upstream already contains its change"], ...(commit ? { commit: commit.slice(0, 40) } : {}) });
      continue;
    }
    try {
      const pushed = (await stack.push({ target: name, fuzz: 0 })).pushed[0];
      // A file the patch adds in a folder upstream renamed (git mv src lib) brings the old folder
      // back: said, as git's merge says it (verify-8 W6); moving it is the user's call.
      const created = Object.entries(stack.appliedRecords().at(-1)?.files ?? {})
        .filter(([, c]) => c.pre === null && c.post !== null)
        .map(([path]) => path);
      const stray = created.length ? addedInMovedFolders(created, (renamed ??= upstreamRenames(stack.tree, plan.oldHead, plan.newHead))) : [];
      if (pushed.notes.length) {
        await stack.refresh();
        finishStep({ name, outcome: "offsets", notes: [...pushed.notes, ...stray] });
      } else finishStep({ name, outcome: "clean", notes: stray });
      continue;
    } catch (e) {
      if (!(e instanceof PqError) || e.code !== "apply-failed") throw e;
    }
    if (!record) {
      // No recorded versions to merge from: apply what applies and leave .rej files.
      const pushed = (await stack.push({ target: name, force: true })).pushed[0];
      plan.stopped = name;
      savePlan(stack, plan);
      const step: RebaseStep = { name, outcome: "conflicted", notes: [...pushed.notes, "no recorded versions to merge from: rejected hunks are in .rej files"] };
      onStep?.(step);
      return { ...report(), steps: [...plan.done, step] };
    }
    const merged = await mergePatch(git, stack.tree, name, text, record, content, (renamed ??= upstreamRenames(stack.tree, plan.oldHead, plan.newHead)));
    if (merged.empty) {
      await stack.deletePatches([name]);
      finishStep({ name, outcome: "dropped", notes: ["the merge left nothing to change: upstream already contains it"] });
      continue;
    }
    if (merged.conflicts.length) {
      plan.merging = { name, hash: sha1(merged.text) };
      savePlan(stack, plan);
    }
    // Written with a/ b/ prefixes: a -p0 entry becomes -p1 with it, as a refresh makes it (verify-8 W8).
    await stack.writePatch(name, merged.text, 1);
    await stack.push({ target: name });
    if (merged.conflicts.length) {
      await stack.markConflicted(name);
      plan.stopped = name;
      delete plan.merging;
      noteWritten(stack, plan, [name]);
      savePlan(stack, plan);
      const step: RebaseStep = { name, outcome: "conflicted", notes: [...merged.notes, ...merged.conflicts] };
      onStep?.(step);
      return { ...report(), steps: [...plan.done, step] };
    }
    finishStep({ name, outcome: "merged", notes: merged.notes });
  }
  keepOldQueue(stack, plan);
  dropPlan(stack);
  // A --continue with nothing left to push (the stop was at the top patch) is a command of the
  // log all the same: its undo stops the rebase again, and pq undo N counts it (verify-10 Y4).
  if (!stack.loggedInCommand()) await stack.logMarker("rebase: done");
  return report();
}

/**
 * A rebase killed while it wrote a conflicted merge (see RebasePlan.merging): where the queue holds
 * the merged text (with its markers: its hash is kept), the stop is finished (pushed, marked conflicted, recorded)
 * and returned; where the write was rolled back, the merge is made again by the run. Null: no
 * merge was interrupted there.
 */
async function stopAtInterruptedMerge(stack: Stack, plan: RebasePlan): Promise<RebaseStep | null> {
  if (plan.merging === undefined) return null;
  const { name, hash } = plan.merging;
  const text = name === plan.todo[0] ? readText(stack.patchPath(name)) : null;
  if (text === null || sha1(text) !== hash) {
    delete plan.merging;
    savePlan(stack, plan);
    return null;
  }
  if (!stack.applied().includes(name)) await stack.push({ target: name });
  if (stack.appliedRecords().at(-1)?.needsRefresh !== "conflict") await stack.markConflicted(name);
  plan.stopped = name;
  delete plan.merging;
  noteWritten(stack, plan, [name]);
  savePlan(stack, plan);
  return { name, outcome: "conflicted", notes: ["the rebase was cut short while it wrote this merge: its conflicts are marked in the files"] };
}

/**
 * Push the next patches in one transaction with fuzz 0, up to the first that does not
 * apply (it takes the careful way, alone), and rewrite those that needed offsets from
 * the exact file versions they produced (a refresh, for patches that are not on top).
 * A rebase of a long queue is mostly such runs. Returns whether any patch was pushed.
 */
async function pushRun(stack: Stack, plan: RebasePlan, byPatchId: Map<string, string>, onStep?: (s: RebaseStep) => void): Promise<boolean> {
  let end = plan.todo.findIndex((n) => byPatchId.has(n));
  if (end === -1) end = plan.todo.length;
  const names = plan.todo.slice(0, Math.min(end, 1000));
  const steps = await stack.runPlanner(`rebase: push ${names[0]}..`, async (ctx) => {
    const { report } = await planPush(ctx, { target: names.at(-1)!, fuzz: 0 });
    const out: RebaseStep[] = [];
    for (const pushed of report.pushed) {
      if (pushed.notes.length) rewriteFromRecord(ctx, pushed.name);
      out.push({ name: pushed.name, outcome: pushed.notes.length ? "offsets" : "clean", notes: pushed.notes });
    }
    if (out.length) ctx.tx.label = `rebase: push ${names[0]}${out.length > 1 ? `..${out.at(-1)!.name}` : ""}`;
    return out;
  });
  for (const step of steps) {
    plan.done.push(step);
    plan.todo.shift();
    onStep?.(step);
  }
  noteWritten(
    stack,
    plan,
    steps.filter((s) => s.outcome === "offsets").map((s) => s.name),
  );
  if (steps.length) savePlan(stack, plan);
  return steps.length > 0;
}

/**
 * Remembers the text the rebase left in each of `names` (just pushed, so their records' hashes
 * are their files'), for the abort to tell its own rewrites from work done while it was stopped.
 */
function noteWritten(stack: Stack, plan: RebasePlan, names: string[]): void {
  if (!names.length) return;
  const records = new Map(stack.appliedRecords().map((r) => [r.name, r.hash]));
  for (const name of names) {
    const hash = records.get(name);
    if (hash !== undefined) (plan.wrote ??= {})[name] = hash;
  }
}


/** Drop the run of next patches whose patch id an upstream commit has, in one operation. */
async function dropByPatchId(stack: Stack, plan: RebasePlan, byPatchId: Map<string, string>, onStep?: (s: RebaseStep) => void): Promise<void> {
  let end = plan.todo.findIndex((n) => !byPatchId.has(n));
  if (end === -1) end = plan.todo.length;
  const names = plan.todo.slice(0, end);
  const commits = names.map((n) => byPatchId.get(n)!);
  const subjects = new Map(
    gitOut(stack.tree, ["log", "--no-walk=unsorted", "--format=%H %s", ...new Set(commits)])
      .split("\n")
      .filter(Boolean)
      .map((l) => [l.slice(0, 40), l.slice(41)]),
  );
  await stack.deletePatches(names);
  for (const [i, name] of names.entries()) {
    const step: RebaseStep = { name, outcome: "dropped", notes: [`upstream has it: ${commits[i].slice(0, 12)} ${subjects.get(commits[i]) ?? ""}`.trimEnd()], commit: commits[i] };
    plan.done.push(step);
    plan.todo.shift();
    onStep?.(step);
  }
  savePlan(stack, plan);
}

