/**
 * pq sync: fetch, merge (the semantic merge, not git's text merge), commit the merge,
 * push; a lost push race means fetch and merge again, a bounded number of times, never
 * force. The applied stack follows the merged queue (restack.ts). Conflicts stop before
 * anything is pushed, with .pq/sync.json holding what --continue and --abort need.
 */
import { existsSync } from "node:fs";
import { operandList, operandWords, shellWord } from "../core/shell-word.js";
import { deleteWay } from "./delete-way.js";
import { join, relative } from "node:path";
import { leadsOutside } from "../tree/paths.js";
import { failpoint } from "../core/failpoint.js";
import { addsConflictMarkers, dropDiffstat, headerOf, joinHeaderAndDiff } from "../queue/patch-text.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { childProcess } from "../core/child-process.js";
import { PqError } from "../errors.js";
import { conflictRefresh } from "./conflict-refresh.js";
import { systemRefusal } from "../core/system-refusal.js";
import type { Stack } from "../queue/stack.js";
import {
  abortCutShort,
  INTERRUPTED_SYNC_STASH,
  pathMap,
  refuseDuringStoppedRebase,
  statePaths,
  stoppedSyncRefresh,
} from "../queue/state.js";
import { backupFiles, setAsideAdvice } from "../queue/ops/context.js";
import { OplogReader } from "../queue/oplog.js";
import { sha1, writeAtomic } from "../tree/files.js";
import { isPushable } from "../queue/series.js";
import { OTHER_UPSTREAM_WAY } from "./status.js";
import { mergeQueues } from "./queue-merge.js";
import { isQueueExtra, QueueRepo, type PendingQueue } from "./queue-repo.js";
import { finishedWords, refuseUnrefreshed, restack, upstreamWithCommit, type RestackReport } from "./restack.js";
import { gitBlobId, parsePatch } from "../patch/index.js";
import { parseSeries, regenerateDiff, simulateQueue, throughPatchesBelow, untriedGuardsNote, type PatchRun } from "./simulate.js";
import { finishedIn } from "./finished.js";
import { validateIncoming } from "./incoming.js";
import { madeOverInHistory, mergeServices } from "./merge-services.js";
import { refuseNewlyBroken } from "./push-check.js";
import { clearSyncState, diffId, fixNotApplying, loadSyncState, saveSyncState, type NotApplying, type SyncState } from "./sync-state.js";
import { SYNC_RENAME_TRAILER, type QueueConflict, type QueueVersion } from "./types.js";

export interface GateVerdict {
  ok: boolean;
  /** The matrix (and the first failing log) to show the user. */
  report: string;
  /** Cells that fail (blocking or not: some failed before). */
  failing?: number;
  /** Guards the check did not select (past the first few: see MAX_GUARDS_TRIED), said with the verdict. */
  untried?: string[];
}
export type Gate = (before: QueueVersion | null, after: QueueVersion) => Promise<GateVerdict>;

export interface SyncOptions {
  maxRetries?: number;
  gate?: Gate;
  onEvent?: EventSink;
}

export interface SyncReport {
  result: "up-to-date" | "pushed" | "fast-forward" | "conflicts" | "gate-failed";
  attempts: number;
  head: string | null;
  conflicts: QueueConflict[];
  notes: string[];
  restack?: RestackReport;
  gate?: GateVerdict;
  pushMessage?: string;
  /** false: the push needed no merge (the remote had nothing new). */
  merged?: boolean;
}

/**
 * The queue version committed with the files beside it that are not part of it (.gitattributes,
 * .gitignore, .github/): `baseRev`'s, and for a merge what the other parent changed of them,
 * merged three-way as git merges them (t60 N13: a merge dropped a colleague's new dotfiles; t64
 * N4: a file both sides changed kept ours whole). What cannot be merged (a conflict, a deletion
 * against a change) keeps `baseRev`'s side, or the change, and is said in `notes`.
 */
async function commitVersion(
  qr: QueueRepo,
  baseRev: string,
  version: QueueVersion,
  parents: string[],
  message: string,
  notes: string[] = [],
  /** The commit whose files beside the queue the new one has (default baseRev's): the remote's, when they come in with it. */
  outsideFrom?: string,
): Promise<string> {
  const extras = async (rev: string | null) => {
    const out = pathMap<string>();
    if (rev) for (const [p, t] of Object.entries(await qr.git.filesAt(rev))) if (isQueueExtra(p)) out[p] = t;
    return out;
  };
  const files = await extras(baseRev);
  const other = parents.find((p) => p !== baseRev);
  if (other) {
    const [theirs, common] = await Promise.all([extras(other), qr.mergeBase(baseRev, other).then(extras)]);
    for (const p of new Set([...Object.keys(theirs), ...Object.keys(common)])) {
      const [mine, their, base] = [files[p], theirs[p], common[p]];
      if (their === base || mine === their) continue;
      if (mine === base) {
        if (their === undefined) delete files[p];
        else files[p] = their;
      } else if (mine !== undefined && their !== undefined) {
        const merged = await qr.git.mergeFile(mine, base ?? "", their, ["yours", "base", "theirs"]);
        if (merged.conflicts === 0) files[p] = merged.content;
        else
          notes.push(
            `${p}: changed on both sides where git cannot merge them: yours was kept, the remote's change is in ${other.slice(0, 12)} (git -C ${shellWord(qr.queueDir)} show ${other.slice(0, 12)}:${p})`,
          );
      } else {
        // Deleted on one side, changed on the other: the change is kept, as nothing of it would come back.
        files[p] = (mine ?? their)!;
        notes.push(
          `${p}: ${mine === undefined ? "deleted here and changed on the remote" : "changed here and deleted on the remote"}: the changed file was kept`,
        );
      }
    }
  }
  Object.assign(files, version.patches, { series: version.series });
  return qr.git.commitDirectory(outsideFrom ?? baseRev, qr.prefix, files, parents, message);
}

/**
 * A file a version's patch was made over another version of than this tree gives it, and than
 * any version HEAD's recent history had (a newer upstream's), or null. The version it was made
 * over is told by its index line's blob: the file as the version's patches below it make it,
 * from HEAD's file or from a file HEAD's history had (an older upstream's, which the colleague
 * follows), is that blob. A patch that names no blobs (a plain diff) tells nothing.
 */
async function madeOnAnotherUpstream(
  stack: Stack,
  version: QueueVersion,
  name: string,
  headFile: (path: string) => Promise<string | null>,
): Promise<string | null> {
  const git = await stack.repo();
  if (!git) return null;
  const entries = parseSeries(version.series, "the remote's").filter((e) => isPushable(e, stack.selectedGuards()));
  const at = entries.findIndex((e) => e.name === name);
  if (at === -1) return null;
  const throughBelow = throughPatchesBelow(version, entries, name);
  let files: ReturnType<typeof parsePatch>["files"];
  try {
    files = parsePatch(version.patches[name] ?? "", { strip: entries[at].strip ?? 1 }).files;
  } catch {
    return null;
  }
  for (const fp of files) {
    const blob = fp.index?.oldBlob;
    if (!blob || /^0+$/.test(blob) || fp.oldPath === null || fp.oldPath !== fp.newPath) continue;
    const path = fp.oldPath;
    const head = await headFile(path);
    if (head === null) continue;
    const through = (content: string) => throughBelow(content, path);
    // Made over this tree's version (through the patches below it): not another upstream.
    const pre = through(head);
    if (pre !== null && gitBlobId(pre).startsWith(blob)) continue;
    // Made over a version HEAD's history has had: the colleague is on an older upstream, and this tree is the one ahead.
    if ((await madeOverInHistory(git, path, blob, through)) === null) return path;
  }
  return null;
}

/**
 * Unrefreshed edits in files no applied patch changes, which a patch the sync brings (new or
 * changed, and pushed back by the restack) also changes: its push would refuse only after the
 * whole stack was popped. Refused first, with nothing changed.
 */
async function refuseEditsUnderIncoming(stack: Stack, current: QueueVersion, next: QueueVersion): Promise<void> {
  const applied = stack.applied();
  if (!applied.length) return;
  const pendingList = (await stack.status()).pending;
  // An edit saved during the fetch in a file the applied patches change (the check before the
  // fetch saw none): that check's refusal, whose ways out are for such a file; setting it aside
  // with git checkout took the patch's change out too (t144 N2).
  const ofAppliedStack = new Set(stack.appliedRecords().flatMap((r) => Object.keys(r.files)));
  if (pendingList.some((p) => ofAppliedStack.has(p))) await refuseUnrefreshed(stack, "sync");
  const pending = new Set(pendingList);
  // A change staged in git's index (git add, git rm --cached) stops the push as an edit does: said
  // first too (t118 N5: the sync took the remote's queue, popped the stack and stopped at the base).
  const git = await stack.repo();
  const staged = new Set<string>();
  if (git && (await git.stagedChanges())) {
    for (const path of await git.stagedPaths()) if (!ofAppliedStack.has(path)) staged.add(path);
  }
  const pushable = parseSeries(next.series, "the remote's").filter((e) => isPushable(e, stack.selectedGuards()));
  const position = new Map(pushable.map((e, i) => [e.name, i]));
  const highest = Math.max(-1, ...applied.map((name) => position.get(name) ?? -1));
  for (const entry of pushable.slice(0, highest + 1)) {
    const text = next.patches[entry.name];
    // An applied patch the remote left as it is stays; one the sync will push anew (new, changed, or moved
    // below your top or un-guarded there: collab-7 #6) meets the edits.
    if (text === undefined || (text === current.patches[entry.name] && applied.includes(entry.name))) continue;
    let paths: string[];
    let created: string[];
    try {
      const files = parsePatch(text, { strip: entry.strip ?? 1 }).files;
      paths = files.flatMap((fp) => [fp.oldPath, fp.newPath]).filter((p): p is string => p !== null);
      created = files.filter((fp) => fp.kind === "create" && fp.newPath !== null).map((fp) => fp.newPath!);
    } catch {
      continue; // refused as a damaged patch elsewhere
    }
    // A file of yours (untracked) where the patch creates one: its push would stop there too (collab-8 C10).
    // Files of the applied patches: a file one of them creates is the stack's, not in the way.
    const inTheWay = created.filter((p) => !ofAppliedStack.has(p) && existsSync(join(stack.tree, p)));
    if (inTheWay.length) {
      throw new PqError(
        "dirty",
        `${inTheWay.join(", ")} ${inTheWay.length === 1 ? "is" : "are"} in your tree where ${entry.name} (new or changed there) creates ${inTheWay.length === 1 ? "it" : "them"}: the sync would pop your stack and then stop there; nothing was changed`,
        ["move your copy away (or git add and commit it, if it is meant for everyone), then pq sync"],
        { patch: entry.name, files: inTheWay },
      );
    }
    const stagedHit = [...new Set(paths)].filter((p) => staged.has(p));
    if (stagedHit.length) {
      throw new PqError(
        "dirty",
        `${stagedHit.join(", ")}, which ${entry.name} (new, changed or moved below your top there) changes, ${stagedHit.length === 1 ? "has a change" : "have changes"} staged in git's index: the sync would pop your stack and then stop there; nothing was changed`,
        [
          `commit ${stagedHit.length === 1 ? "it" : "them"}, or unstage ${stagedHit.length === 1 ? "it" : "them"} (git restore --staged -- ${stagedHit.map(shellWord).join(" ")}), then pq sync`,
        ],
        { patch: entry.name, files: stagedHit, pathsFrom: stack.tree },
      );
    }
    const hit = [...new Set(paths)].filter((p) => pending.has(p));
    if (hit.length) {
      throw new PqError(
        "dirty",
        `unrefreshed changes in ${hit.join(", ")}, which ${entry.name} (new, changed or moved below your top there) also changes: the sync would pop your stack and then stop there; nothing was changed`,
        [`${setAsideAdvice(hit, "pq sync")}; or make them a patch of their own (pq new, pq refresh, pq commit: the sync shares it)`],
        { patch: entry.name, files: hit, pathsFrom: stack.tree },
      );
    }
  }
}

/** Write `version` to the queue directory with the stack following, then move HEAD to `commit`. */
async function integrate(
  stack: Stack,
  qr: QueueRepo,
  version: QueueVersion,
  commit: string,
  expected: string | null,
  state: Omit<SyncState, "phase" | "target">,
): Promise<RestackReport> {
  await refuseEditsUnderIncoming(stack, qr.readDisk(), version);
  // The remote's tree changes, with nothing applied (see SyncState.withTree): refused before anything is written.
  const withTree = state.withTree && expected !== null ? expected : null;
  if (withTree !== null) await qr.moveOutsideFiles(withTree, commit, { checkOnly: true });
  saveSyncState(stack.tree, { ...state, phase: "integrating", target: commit });
  if (withTree !== null) await qr.moveOutsideFiles(withTree, commit);
  const before = stack.applied();
  const disk = qr.readDisk();
  let wrote = false;
  let r: RestackReport;
  try {
    r = await restack(
      stack,
      version,
      () => {
        wrote = true;
        qr.writeDisk(version, disk);
      },
      { top: state.origTop, renamed: state.renamed, finished: state.finished },
    );
  } catch (e) {
    // The pop refused (edits made in the tree since the sync began): nothing was changed, so
    // there is no interrupted sync to complete; the user refreshes and syncs again. Left
    // marked, every command would refuse until a sync that refuses the same way. A pop that
    // stopped half way (a full disk) left its journal, which the next command completes: the
    // stack is then popped, and the sync stays to be finished, as after a kill (t56 N1: it was
    // forgotten, and the next sync left the patches popped, saying nothing).
    if (!wrote && !existsSync(statePaths(stack.tree).journal) && sameApplied(stack, before)) clearSyncState(stack.tree);
    throw e;
  }
  await qr.moveHead(commit, expected);
  clearSyncState(stack.tree);
  return r;
}

/** Whether the stack on disk has exactly `before` applied (an unreadable state: no). */
function sameApplied(stack: Stack, before: string[]): boolean {
  try {
    stack.reload();
    return stack.applied().join("\n") === before.join("\n");
  } catch {
    return false;
  }
}

async function prepare(stack: Stack): Promise<{ qr: QueueRepo; up: NonNullable<Awaited<ReturnType<QueueRepo["upstream"]>>> }> {
  const qr = await QueueRepo.require(stack.queueDir);
  const up = await qr.upstream();
  // A checkout of an older version (git -C patches checkout origin/main~1) is no missing remote (collab-17 F11).
  if (!up && (await qr.detached()))
    throw new PqError("refused", `the queue's repository is on a detached HEAD (a git checkout of a commit), not on its branch`, [
      `git -C ${shellWord(stack.queueDir)} checkout BRANCH (its branch, as git branch lists it) goes back; a commit made meanwhile is on no branch: git -C ${shellWord(stack.queueDir)} branch NAME keeps it`,
    ]);
  if (!up)
    throw new PqError("no-queue", `the queue repository has no upstream branch to sync with`, [
      `git -C ${shellWord(stack.queueDir)} remote add origin URL, then git -C ${shellWord(stack.queueDir)} push -u origin HEAD (or pq init --shared URL)`,
    ]);
  return { qr, up };
}

async function syncOnce(stack: Stack, opts: SyncOptions): Promise<SyncReport> {
  const { qr, up } = await prepare(stack);
  const pending = loadSyncState(stack.tree);
  if (pending?.aborting) throw abortCutShort("pq sync");
  if (pending?.phase === "conflicts") {
    throw new PqError(
      "conflict",
      "a sync stopped on conflicts and is not finished",
      [`resolve them, ${stoppedSyncRefresh(stack.tree)}, then pq sync --continue; or pq sync --abort`],
      { pathsFrom: stack.tree },
    );
  }
  const recovered =
    pending?.phase === "integrating"
      ? await stashAdvice(
          stack,
          // Refused before it wrote anything (see integrate): the interrupted sync is set aside.
          "the interrupted sync was set aside (nothing of it had reached the tree or the queue): pq refresh works again, and pq sync after it",
          () => recoverIntegration(stack, qr, pending),
        )
      : undefined;
  if (pending?.phase === "stopping") {
    // Killed while writing a conflicted merge: put everything back, then sync afresh.
    opts.onEvent?.({ kind: "sync", message: "rolling back an interrupted sync" });
    await abortOnce(stack);
  }
  qr.refuseUnfinishedGitOperation("a sync");
  // Before the uncommitted queue's refusal: its pq commit is refused while a rebase is stopped (t144 N13).
  refuseDuringStoppedRebase(stack.tree, "sync");
  const pendingQueue = await qr.pending();
  const { changed: dirty, links } = pendingQueue;
  qr.refuseSymlinks(links, "a sync");
  if (dirty.length)
    throw new PqError("dirty", `the queue has uncommitted changes: ${dirty.slice(0, 8).join(", ")}`, ["pq commit -m MESSAGE first"]);
  await stashAdvice(
    stack,
    pending?.phase === "integrating" ? "the interrupted sync was completed first: pq refresh works again, and pq sync after it" : null,
    () => refuseUnrefreshed(stack, "sync"),
  );
  // Untracked files the series does not list (a note, a patch kept by delete -k: see
  // PendingQueue.unlisted) stay out of the sync as out of pq commit; only one the remote's queue
  // has too is in its way (t108 N1: every sync had refused while such a file was there).
  const report = await loop(stack, qr, up, opts, [], leftOutOfCommits(pendingQueue));
  // The completed sync's restack is the one to report when this one moved nothing, or when
  // it could not bring the stack back (the caller reports that as a refusal).
  if (recovered && (!report.restack || recovered.error)) report.restack = recovered;
  return report;
}

/**
 * A refusal over unrefreshed edits while an interrupted sync waits: pq refresh sends the user
 * to pq sync, and pq sync back to pq refresh (t35 F5). Said with the way past both.
 */
async function stashAdvice<T>(stack: Stack, gone: string | null, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof PqError) || e.code !== "dirty" || gone === null) throw e;
    const more = loadSyncState(stack.tree) ? `an interrupted sync waits to complete; ${INTERRUPTED_SYNC_STASH}` : gone;
    throw new PqError(e.code, e.message, [...e.details, more], e.data);
  }
}

/** Finish moving to a merge that was fully computed when the process died. */
async function recoverIntegration(stack: Stack, qr: QueueRepo, s: SyncState): Promise<RestackReport | undefined> {
  const head = await qr.head();
  if (head === s.target) {
    // Killed between moving the branch and resetting the index to it: the index still holds
    // the queue files from before the merge, and a plain git commit would revert the merge.
    await qr.run(["reset", "-q", "HEAD", "--", "."]);
    clearSyncState(stack.tree);
    return undefined;
  }
  // The queue's HEAD is where the sync left it, or it moved since (a commit made by hand):
  // completing the move would drop that commit from the branch, so stop and say so.
  if (head !== s.origHead) {
    throw new PqError(
      "refused",
      `the queue's branch moved to ${head?.slice(0, 12)} after a sync was interrupted; completing that sync would drop it`,
      [
        `pq sync --abort puts the queue back to ${s.origHead?.slice(0, 12) ?? "its state"} before the sync (the newer commit stays reachable: git -C ${shellWord(qr.queueDir)} reflog)`,
        `then re-apply that commit's change (git -C ${shellWord(qr.queueDir)} cherry-pick) and pq sync again`,
      ],
    );
  }
  const version = await qr.versionAt(s.target!);
  const { phase: _p, target: _t, ...rest } = s;
  return integrate(stack, qr, version, s.target!, s.origHead, rest);
}

async function loop(
  stack: Stack,
  qr: QueueRepo,
  up: { remote: string; ref: string; branch: string },
  opts: SyncOptions,
  notes: string[],
  /** The untracked editor leftovers in the queue directory, when the caller has them (see QueueRepo.pending). */
  leftOut?: string[],
): Promise<SyncReport> {
  const emit = opts.onEvent ?? ignoreEvents;
  const max = opts.maxRetries ?? 5;
  let result: SyncReport["result"] = "up-to-date";
  let restacked: RestackReport | undefined;
  let mergedAny = false;
  const start = { head: await qr.head(), top: stack.top(), applied: stack.applied() };
  for (let attempt = 1; attempt <= max + 1; attempt++) {
    emit({ kind: "sync", message: `fetching ${up.remote}` });
    const knownBefore = attempt === 1 ? await qr.resolve(up.ref) : null;
    await qr.fetch(up.remote);
    const ours = await qr.head();
    const theirs = await qr.resolve(up.ref);
    // The shared branch rewound (a force-push) past what was fetched before: this sync puts the
    // dropped commits back with its push, which git does without a word; said (t88 N3).
    if (knownBefore && theirs && knownBefore !== theirs && !(await qr.isAncestor(knownBefore, theirs))) {
      const kept = ours !== null && (await qr.isAncestor(knownBefore, ours));
      const note = `${up.remote}'s ${up.branch} was rewritten since the last fetch (${knownBefore.slice(0, 12)} is no longer in it; a force-push?): ${kept ? "this queue has the commits it dropped, and this sync's push puts them back" : "the commits it dropped were never merged here"}`;
      if (!notes.includes(note)) notes.push(note);
    }
    if (theirs && theirs !== ours) {
      leftOut ??= leftOutOfCommits(await qr.pending());
      await refuseLeftoversInTheWay(qr, theirs, leftOut);
    }
    const origTop = stack.top();
    const base = {
      version: 1 as const,
      origHead: ours,
      theirs: theirs ?? "",
      origTop,
      origApplied: stack.applied(),
      conflicts: [],
      renamed: pathMap(),
      ...(ours !== start.head ? { syncStart: start } : {}),
    } as Omit<SyncState, "phase" | "target">;
    if (theirs && ours !== theirs && !(ours && (await qr.isAncestor(theirs, ours)))) {
      // A colleague's finish reads as a deletion from here: their commits name it (collab-17 F14).
      const finished = await finishedIn(qr, ours ? `${ours}..${theirs}` : theirs);
      for (const f of Object.values(finished))
        f.known = childProcess().spawnSync("git", ["-C", stack.tree, "cat-file", "-e", `${f.commit}^{commit}`]).status === 0;
      if (Object.keys(finished).length) base.finished = finished;
      // One not applied here leaves no stack to say it: said here, as the applied ones are by the restack (t23 F3).
      const appliedHere = new Set(stack.applied());
      for (const [name, f] of Object.entries(finished)) {
        const note = `${finishedWords({ name, finished: f })}: pq rebase brings the tree to ${upstreamWithCommit({ finished: f })}, before pushing the patches above it`;
        if (!appliedHere.has(name) && !notes.includes(note)) notes.push(note);
      }
      // Each side's own commits: a tree commit of yours is not "the remote's" (collab-8 C6).
      const forkedAt = ours ? await qr.mergeBase(ours, theirs) : null;
      const mine = ours && forkedAt ? await qr.changesOutsideQueue(forkedAt, ours) : [];
      if (mine.length) throw ownTreeCommits(mine);
      const outside = ours ? await qr.changesOutsideQueue(forkedAt ?? ours, theirs) : [];
      // Both sides changed the queue (no fast-forward): git pull would merge the patch files as
      // text, so the sync takes the tree's changes in itself, with nothing applied (t144 N9, t150 N5).
      const diverged = outside.length > 0 && ours !== null && !(await qr.isAncestor(ours, theirs));
      if (outside.length && (!diverged || stack.applied().length)) {
        throw new PqError(
          "refused",
          `the remote branch also changes files outside the queue (${outside.slice(0, 5).join(", ")})`,
          diverged
            ? [
                "both sides changed the queue, which git pull would merge as text: pq pop -a, then pq sync (with no patch applied it takes the remote's tree changes in with its queue, merged patch by patch), then pq push -a",
              ]
            : ["pop the stack (pq pop -a), git pull the tree, then pq push -a and pq sync"],
        );
      }
      if (diverged) base.withTree = true;
      const incoming = await qr.versionAt(theirs);
      // Committed with plain git: a symlink would be taken as a patch whose text is its target's
      // path, and the patch's change would leave everyone's tree without a word (collab-8 C2).
      const links = await qr.git.symlinksAt(theirs);
      if (links.length) {
        throw new PqError(
          "unsafe-path",
          `the remote's queue (${up.remote}/${up.branch} at ${theirs.slice(0, 12)}) holds ${links.length === 1 ? "a symlink" : "symlinks"}: ${links.slice(0, 5).join(", ")}; a shared queue holds regular files only`,
          [
            "nothing was changed; ask whoever pushed it to commit the patch file itself instead (git log -- FILE in the queue's repository says who)",
          ],
          { files: links },
        );
      }
      // pq's per-tree state (.pq/) committed into the queue: checked out, it made the queue directory
      // look like a tree with a stack of its own to every pq command run in it, and following their
      // refusal committed a stack's state into the shared queue (t127 N11).
      // In any folder of the queue (bugfix/.pq/ took over pq in patches/bugfix: t131 N1).
      const stateIn = async (rev: string) => (await qr.git.pathsUnder(rev, "")).filter((path) => /(^|\/)\.pq(\/|$)/.test(path));
      const state = await stateIn(theirs);
      if (state.length && !(ours && (await stateIn(ours)).length)) {
        throw new PqError(
          "unsafe-path",
          `the remote's queue (${up.remote}/${up.branch} at ${theirs.slice(0, 12)}) holds ${state.slice(0, 3).join(", ")}${state.length > 3 ? ", ..." : ""}: pq's own state of one tree, which no shared queue carries`,
          [
            `nothing was changed; ask whoever pushed it to remove it (git rm -r ${operandList(stateFolders(state))} in the queue's repository, commit, push; git log -- ${operandList(stateFolders(state))} there says who), then pq sync`,
          ],
          { files: state },
        );
      }
      // A remote branch whose top lost its series is no queue (pq init --shared and the gate say so):
      // read as a series listing nothing, it popped the whole stack and called every patch deleted (t156 N4).
      qr.refuseUncheckoutableAt(theirs, `the remote's queue (${up.remote}/${up.branch} at ${theirs.slice(0, 12)})`, [
        "nothing was changed; ask whoever pushed it to push a version without it (git fsck in the queue's repository names it), then pq sync",
      ]);
      if (ours && qr.seriesRemovedBy(ours, theirs)) {
        throw new PqError(
          "bad-patch",
          `the remote's queue (${up.remote}/${up.branch} at ${theirs.slice(0, 12)}) has no series file: it would take the queue away from everyone`,
          [
            `nothing was changed; ask whoever pushed it to restore the series file (git log -- series in the queue's repository says who removed it), then pq sync`,
          ],
        );
      }
      const queueInTree = relative(stack.tree, stack.queueDir);
      validateIncoming(
        incoming,
        await qr.versionAt(ours),
        "the remote's",
        qr.queueDir,
        queueInTree && !leadsOutside(queueInTree) ? [queueInTree] : [],
      );
      if (!ours || (await qr.isAncestor(ours, theirs))) {
        emit({ kind: "sync", message: "fast-forward" });
        restacked = await integrate(stack, qr, incoming, theirs, ours, base);
        if (result === "up-to-date") result = "fast-forward";
      } else {
        emit({ kind: "sync", message: "merging" });
        mergedAny = true;
        const mb = forkedAt;
        // No history in common with a branch this queue had merged before: it was rewritten (a
        // new root, force-pushed). Merged against an empty base, everything on both sides counts
        // as added, and a patch dropped on purpose comes back; git pull refuses such a merge too.
        const startedApart = mb === null && !(await qr.everMerged(up.ref, ours));
        if (mb === null && !startedApart) {
          throw new PqError(
            "refused",
            `the remote's queue (${up.remote}/${up.branch} at ${theirs.slice(0, 12)}) has no history in common with yours: it was rewritten and force-pushed`,
            [
              "nothing was changed",
              `to take the remote's queue, keeping yours on a branch: git -C ${shellWord(qr.queueDir)} branch my-queue, pq pop -a, git -C ${shellWord(qr.queueDir)} reset --hard ${up.remote}/${up.branch}, then pq push -a`,
              "to keep yours: agree with whoever rewrote it; pq sync never forces a push",
            ],
            { theirs, ours },
          );
        }
        // No value the remote's branch ever had is in this queue's history: both queues were
        // started apart (pq init --shared on an empty remote, each before the other pushed).
        // Nothing was dropped on either side, so an empty base is right: every patch on each
        // side is new, as in git merge --allow-unrelated-histories.
        if (startedApart) notes.push(`${up.remote}/${up.branch} and this queue were started apart: merged with nothing in common`);
        const [vb, vo, vt] = await Promise.all([qr.versionAt(mb), qr.versionAt(ours), qr.versionAt(theirs)]);
        const svc = await mergeServices(stack, [vb, vo, vt]);
        const merged = await mergeQueues(vb, vo, vt, svc);
        // A patch changed here that a colleague finished: the conflict says so, and the way on (t23 F2).
        for (const c of merged.conflicts) {
          const f = c.kind === "delete-modify" ? base.finished?.[c.patch] : undefined;
          if (f) {
            c.message = `${finishedWords({ name: c.patch, finished: f })} there, but changed here: the changed version is kept; git pull the tree (it has the patch as that commit), make your change a patch of its own over it, then pq delete ${operandWords(c.patch)}`;
            c.deletes = c.patch;
          }
        }
        // Theirs made on a newer upstream: keeping ours would carry the queue back for everyone (t144 N8).
        for (const c of merged.conflicts) {
          // Changed on both sides, or on theirs alone (t150 N7: said as not applying "nor on its own side").
          if (c.kind !== "apply") continue;
          const file = await madeOnAnotherUpstream(stack, vt, c.patch, svc.baseFile);
          if (file === null) continue;
          c.otherUpstream = true;
          const both = c.message.includes("changed on both sides");
          c.message = `${c.patch}${both ? " changed on both sides, and theirs" : ": the remote's version"} starts from a version of ${file} this tree's HEAD does not have: a colleague carried the queue onto a newer upstream (pq log -p ${operandWords(c.patch)} says who); resolving it over this tree would carry it back for everyone: ${OTHER_UPSTREAM_WAY}`;
        }
        notes.push(...merged.notes);
        if (merged.conflicts.length && base.withTree) {
          // An earlier round's merge (its push lost a race) is taken back first, as an abort would (t152 N8).
          if (base.syncStart) {
            saveSyncState(stack.tree, { ...base, phase: "conflicts", conflicts: [] });
            await abortOnce(stack);
          }
          // A stop would leave the tree on this side's files and the queue on the merge's: said before anything is written.
          throw new PqError(
            "conflict",
            `the merge has ${merged.conflicts.length} conflict(s) (${[...new Set(merged.conflicts.map((c) => c.patch))].join(", ")}), and the remote brings tree changes too, which a stopped sync cannot hold: nothing was changed`,
            [
              // The patches and files, not the conflicts' own words: those describe a stop, which did not happen (t152 N5).
              `conflicted: ${[...new Set(merged.conflicts.map((c) => `${c.patch}${c.files?.length && c.kind === "content" ? ` (${c.files.join(", ")})` : ""}`))].join(", ")}`,
              // --keep: uncommitted edits in files the reset does not change stay; one it would change refuses it (t152 N5: --hard lost them).
              `to take theirs and carry yours over by hand: git branch mine, git reset --keep ${up.remote}/${up.branch} (your queue stays on the branch mine: git show mine:${qr.prefix}NAME), then pq push -a, make your change again, pq refresh FILES (your change's files alone: a bare refresh takes every changed file), pq commit and pq sync`,
            ],
            { patches: merged.conflicts.map((c) => c.patch) },
          );
        }
        if (merged.conflicts.length) {
          const state: SyncState = {
            ...base,
            phase: "stopping",
            conflicts: merged.conflicts,
            renamed: merged.renamed,
            apart: merged.apart,
          };
          saveSyncState(stack.tree, state);
          const disk = qr.readDisk();
          // The stack goes up to the first patch whose files need editing; a header or a name
          // to decide needs no patch applied, so the applied stack only follows.
          const toEdit = merged.conflicts.filter((c) => c.kind !== "header" && c.kind !== "name").map((c) => c.patch);
          restacked = await restack(stack, merged.queue, () => qr.writeDisk(merged.queue, disk), {
            top: origTop,
            renamed: merged.renamed,
            finished: base.finished,
            stopAt: toEdit,
            upToStop: toEdit.length > 0,
          });
          // The way to delete a kept patch, from where the stop left the stack (an applied one is popped first).
          for (const c of merged.conflicts)
            if (c.deletes !== undefined)
              c.message = c.message.replace(`pq delete ${operandWords(c.deletes)}`, deleteWay(stack.applied(), c.deletes));
          // Marked as push --merge marks a conflicted patch: pop and push refuse until pq refresh.
          const stopped = restacked.stoppedAt;
          if (stopped && stack.top() === stopped && merged.conflicts.some((c) => c.patch === stopped && c.kind === "content")) {
            await stack.markConflicted(stopped);
          }
          const written = pathMap(Object.entries(qr.diskFiles()).map(([path, text]): [string, string] => [path, sha1(text)]));
          saveSyncState(stack.tree, { ...state, phase: "conflicts", written });
          return { result: "conflicts", attempts: attempt, head: ours, conflicts: merged.conflicts, notes, restack: restacked };
        }
        const message = mergeMessage(theirs, up, merged.notes, merged.apart);
        const commit = await commitVersion(qr, ours, merged.queue, [ours, theirs], message, notes, base.withTree ? theirs : undefined);
        restacked = await integrate(stack, qr, merged.queue, commit, ours, { ...base, renamed: merged.renamed });
      }
    }
    const head = await qr.head();
    if (!head || head === theirs) {
      // Nothing to merge, but the queue may have moved without a sync (a git pull of it by hand):
      // the applied stack follows it as it would have (t35 F16: "already up to date", the old
      // versions left applied). The queue matches its commit here (prepare refuses otherwise).
      if (!restacked) {
        const followed = await restack(stack, qr.readDisk(), () => undefined, { top: stack.top() });
        if (followed.popped.length || followed.pushed.length || followed.error) restacked = followed;
      }
      return { result, attempts: attempt, head, conflicts: [], notes, ...(restacked ? { restack: restacked } : {}) };
    }
    // A queue inside the tree's repository pushes HEAD: the tree's own commits would ride along
    // unchecked, a `git commit -a` of the applied patches among them (collab-7 #4). Refused, as
    // the incoming direction refuses them; git push shares a tree commit meant for everyone.
    const outgoing = theirs ? await qr.changesOutsideQueue(theirs, head) : [];
    if (outgoing.length) throw ownTreeCommits(outgoing);
    // After a merge too: the merge applied in memory only what either side changed, with this tree's
    // guards, so a patch neither changed that a lower change broke, or one guarded off here, went out
    // broken (collab-17 F12, F24). The applied stack vouches for most of a merged queue anyway.
    const untried: string[] = [];
    await refuseNewlyBroken(stack, qr, theirs, head, untried);
    if (untried.length) notes.push(untriedGuardsNote(untried));
    let gate: GateVerdict | undefined;
    if (opts.gate) {
      emit({ kind: "sync", message: "checking the merged queue (pq ci)" });
      gate = await opts.gate(theirs ? await qr.versionAt(theirs) : null, await qr.versionAt(head));
      if (!gate.ok)
        return { result: "gate-failed", attempts: attempt, head, conflicts: [], notes, gate, ...(restacked ? { restack: restacked } : {}) };
    }
    emit({ kind: "sync", message: `pushing to ${up.remote}` });
    // The commit checked above, not HEAD: a git commit made by hand in the queue's repository
    // meanwhile went out with it unchecked (t37 N5); it stays here, ahead, for the next sync.
    const pushed = await qr.git.pushRef(up.remote, `${head}:refs/heads/${up.branch}`);
    if (pushed.ok)
      return {
        result: "pushed",
        attempts: attempt,
        head,
        conflicts: [],
        notes: [...notes, ...(qr.kind === "own" ? treeAheadNote(stack.tree) : [])],
        pushMessage: pushed.message,
        merged: mergedAny,
        ...(gate ? { gate } : {}),
        ...(restacked ? { restack: restacked } : {}),
      };
    if (!pushed.rejected) {
      // A connection that failed is not the remote's refusal (t88 N1: a dropped link read "the remote refused").
      const unreached = !/\[remote rejected\]|declined|denied|refusing/i.test(pushed.message) && TRANSPORT_FAILED.test(pushed.message);
      // Stopped here, before anything was sent: the queue repository's own pre-push hook (t100 N3: "the remote refused" sent the user to the server).
      const stoppedHere = !unreached && !pushed.reached && qr.git.hasHook("pre-push");
      const what = unreached
        ? `the push did not reach ${up.remote}: the connection failed`
        : stoppedHere
          ? `the push was stopped here, before it reached ${up.remote} (by a pre-push hook of the queue's repository: its words are below)`
          : `the remote refused the push`;
      // pq's gate on the remote judges every commit pushed: a fix committed over the refused commit
      // sends that one again, refused for good (t123 N1). One commit of the fixed queue goes through.
      const gateRefusedCommit = !unreached && !stoppedHere && /remote: pq: refusing \S+: /.test(pushed.message);
      const upstreamName = up.ref.replace(/^refs\/remotes\//, "");
      throw new PqError("git", what, [
        ...pushed.message.split("\n"),
        ...(gateRefusedCommit
          ? [
              `the remote's pq gate checks each commit pushed, and a fix committed over the refused one sends that commit again: fix the patch (pq refresh), then git -C ${shellWord(qr.queueDir)} reset --soft ${upstreamName} (your queue commits since the last sync become one uncommitted change; the patch files stay as they are), pq commit -m MESSAGE, and pq sync`,
            ]
          : []),
        unreached
          ? `your queue is committed here (${head.slice(0, 12)}) and nothing of it was lost: check that ${up.remote} can be reached (git -C ${shellWord(qr.queueDir)} push --dry-run ${up.remote}), then pq sync again`
          : `your queue is committed here (${head.slice(0, 12)}) and nothing of it was lost: deal with what ${stoppedHere ? "the hook" : "the remote"} says, then pq sync again`,
      ]);
    }
    // Said only when it does (t35 F13: said with --retries 0 too, which then gave up).
    if (attempt <= max) emit({ kind: "sync", message: "someone pushed first: fetching and merging again" });
    notes.push(`attempt ${attempt}: the push lost a race; merged again`);
  }
  // Fetched once more, so that pq status counts against what won the race (t35 F13: "1 ahead, 0 behind" after losing it).
  await qr.fetch(up.remote).catch(() => undefined);
  throw new PqError("git", `the push lost the race ${max + 1} time${max === 0 ? "" : "s"}; nothing was forced`, ["run pq sync again"]);
}

/**
 * The queue just pushed applies on this tree's HEAD; colleagues' trees are at its upstream. A
 * tree commit not pushed (a pq finish makes one) is a base they do not have: said, so that the
 * tree is pushed too (collab-8 C3: a finished patch left everyone's queue not applying).
 */
function treeAheadNote(tree: string): string[] {
  const r = childProcess().spawnSync("git", ["rev-list", "--count", "@{upstream}..HEAD"], { cwd: tree, encoding: "utf8" });
  const ahead = r.status === 0 ? Number(r.stdout.trim()) : 0;
  if (!ahead) return [];
  const upstream = childProcess()
    .spawnSync("git", ["rev-parse", "--abbrev-ref", "@{upstream}"], { cwd: tree, encoding: "utf8" })
    .stdout.trim();
  return [
    `your tree has ${ahead} commit(s) that ${upstream} does not (pq finish makes them): colleagues' trees lack them, and the queue pushed applies on them; git push the tree too`,
  ];
}

/** A queue inside the tree's repository: the branch's own commits change tree files, which a sync does not share. */
function ownTreeCommits(files: string[]): PqError {
  return new PqError(
    "refused",
    `your branch has commits that change files outside the queue (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""}): pq sync shares the queue, not the tree`,
    [
      "git log shows them; patches committed by hand (git commit -a) are taken back with git reset to the commit below them (pq status says so)",
      "a tree change meant for everyone: pq pop -a, git push it yourself, pq push -a, then pq sync",
      // A gate checks each pushed commit: the tree change alone breaks the patch it moves (t150 N6).
      "where your queue commits carry patches over that tree change and a gate checks each pushed commit, push them as one: pq pop -a, git reset --soft @{upstream}, git commit -m MESSAGE, git push, then pq push -a",
    ],
    { files },
  );
}

function mergeMessage(
  theirs: string,
  up: { remote: string; branch: string },
  notes: string[],
  apart: Record<string, string> = pathMap(),
): string {
  const trailers = Object.entries(apart).map(([ours, taken]) => `${SYNC_RENAME_TRAILER}: ${ours} -> ${taken}`);
  return (
    [
      `pq sync: merge ${up.remote}/${up.branch} (${theirs.slice(0, 12)})`,
      "",
      ...notes.map((n) => `- ${n}`),
      ...(trailers.length ? ["", ...trailers] : []),
    ]
      .join("\n")
      .trim() + "\n"
  );
}

/**
 * Why pq push --merge cannot help a patch the simulation found failing, file by file as push
 * --merge would find it (null: it can), so that the advice is one that works (t42 N4: a hunk
 * edited by hand no longer applies to the blob it names).
 */
async function whyNoMerge(stack: Stack, text: string | undefined, strip: number, run: PatchRun): Promise<string | null> {
  if (text === undefined) return null;
  const failing = run.filePatches
    .map((fp) => fp.newPath ?? fp.oldPath!)
    .filter((path) => run.failures.some((f) => f.startsWith(`${path}: `)));
  for (const path of new Set(failing)) {
    const help = await stack.mergeHelp(text, strip, path);
    if (!help.can) return help.why;
  }
  return null;
}

async function continueOnce(stack: Stack, opts: SyncOptions): Promise<SyncReport> {
  const extrasNotes: string[] = [];
  const { qr, up } = await prepare(stack);
  const state = loadSyncState(stack.tree);
  if (state?.aborting) throw abortCutShort("pq sync --continue");
  if (state?.phase === "stopping")
    throw new PqError("refused", "the sync was interrupted before its conflicts were written", ["pq sync rolls it back and syncs again"]);
  if (!state || state.phase !== "conflicts") {
    // A --continue stopped while it pushed (killed, the network gone) committed the merge and
    // cleared its record: said so, with the way to push it (t60 N7: only "no sync is waiting").
    const ahead = await qr.run(["rev-list", "--count", `${up.ref}..HEAD`]).then(
      (n) => Number(n.trim()),
      () => 0,
    );
    throw new PqError(
      "refused",
      ahead > 0
        ? `no sync is waiting to be continued; the queue has ${ahead} commit(s) not pushed (a sync's merge committed and not pushed, or your own)`
        : "no sync is waiting to be continued",
      [ahead > 0 ? "pq sync pushes them (merging what the remote has meanwhile)" : "pq sync starts one"],
    );
  }
  await refuseUnrefreshed(stack, "continue the sync", state.conflicts);
  const disk = qr.readDisk();
  const meanwhile = changedDuringStop(qr, state);
  // A file beside the patches the series does not list (a README) holds the markers as its own
  // lines, not as a patch's added ones: pushed as they were, "resolved by hand" (t64 N5).
  const listed = new Set(parseSeries(disk.series, "your").map((e) => e.name));
  const markedIn = (name: string, text: string) => (listed.has(name) ? addsConflictMarkers(text) : /^(<<<<<<<|>>>>>>>) /m.test(text));
  const left = state.conflicts.filter(
    (c) => c.kind === "content" && disk.patches[c.patch] !== undefined && markedIn(c.patch, disk.patches[c.patch]),
  );
  if (left.length) {
    const files = left.filter((c) => !listed.has(c.patch)).map((c) => c.patch);
    throw new PqError("conflict", `conflict markers are still in ${left.map((c) => c.patch).join(", ")}`, [
      files.length
        ? `edit ${files.join(", ")} in ${stack.queueDir} (not a patch: no pq refresh), then pq sync --continue`
        : `pq goto the patch, edit the marked files, ${conflictRefresh(left) ?? "pq refresh"}, then pq sync --continue`,
    ]);
  }
  // A file kept beside a patch of the same name (NAME.theirs or NAME.ours) is a decision still to
  // make: committed as it is, it reached everyone as a stray file (t35 F11).
  const undecided = state.conflicts
    .flatMap((c) => (c.kind === "name" ? (c.files ?? []) : []))
    .filter((f) => existsSync(join(stack.queueDir, f)));
  if (undecided.length) {
    throw new PqError(
      "conflict",
      `${undecided.join(", ")} ${undecided.length === 1 ? "is" : "are"} still in the queue directory, kept until you decide`,
      [
        `compare each with the patch of its name, keep what is needed in the patch (pq refresh if it is applied), delete ${undecided.join(", ")}, then pq sync --continue`,
      ],
    );
  }
  const sim = await simulateQueue(disk, (await mergeServices(stack, [disk])).baseFile, stack.selectedGuards());
  const broken = [...sim.runs].filter(([, r]) => r.pushable && !r.ok);
  if (broken.length) {
    const textId = (name: string) => diffId(disk.patches[name] ?? null);
    // Each failure depends on the resolution and on the other failing patches too: fixing a
    // lower one can let a higher one apply again (t42 N5).
    const depends = [...state.conflicts.map((c) => c.patch), ...broken.map(([name]) => name)];
    const strips = new Map(parseSeries(disk.series, "the").map((e) => [e.name, e.strip ?? 1]));
    const notApplying: NotApplying[] = [];
    for (const [patch, r] of broken) {
      const noMerge = await whyNoMerge(stack, disk.patches[patch], strips.get(patch) ?? 1, r);
      notApplying.push({
        patch,
        unchanged: pathMap<string>(depends.map((name) => [name, textId(name)])),
        failures: r.failures,
        ...(noMerge === null ? {} : { noMerge }),
      });
    }
    saveSyncState(stack.tree, { ...state, notApplying });
    throw new PqError("apply-failed", `the queue does not apply: ${broken.map(([n, r]) => `${n} (${r.failures.join("; ")})`).join(", ")}`, [
      `${fixNotApplying(notApplying[0])}; then pq sync --continue; or pq sync --abort`,
    ]);
  }
  // Commits made on the queue's branch since the sync stopped (git commit by hand) are kept:
  // the merge goes on top of them.
  const head = await qr.head();
  let ours = state.origHead;
  const regenerated: string[] = [];
  // A --continue killed after it committed the merge (and before it cleared the sync's
  // state): that merge is taken as made, not made a second time on top (safe-6 #15).
  if (!(head && (await ownMerge(qr, head, state)))) {
    // Patches above a resolved conflict whose context the resolution moved (it changed the line
    // count) are regenerated to apply exactly, as a merge without a conflict regenerates them
    // (verify-7 V5); the stop had left their bytes alone (collab-7 #1).
    // A kept or removed file of a delete/change conflict moves context as a resolved marker does.
    const conflicted = new Set(state.conflicts.filter((c) => c.kind === "content" || c.kind === "delete-change").map((c) => c.patch));
    let above = false;
    for (const e of parseSeries(disk.series, "the merged")) {
      if (conflicted.has(e.name)) above = true;
      const run = sim.runs.get(e.name);
      if (!above || conflicted.has(e.name) || !run?.ok || run.exact || (e.strip ?? 1) !== 1 || disk.patches[e.name] === undefined) continue;
      const text = joinHeaderAndDiff(dropDiffstat(headerOf(disk.patches[e.name])), regenerateDiff(run.pre, run.post, run.filePatches));
      disk.patches[e.name] = text;
      writeAtomic(join(stack.queueDir, e.name), text);
      regenerated.push(e.name);
    }
    if (head !== ours) {
      if (!head || (ours && !(await qr.isAncestor(ours, head)))) throw branchMoved(qr.queueDir, head, ours, "continue");
      ours = head;
    }
    const commit = await commitVersion(
      qr,
      ours ?? state.theirs,
      disk,
      ours ? [ours, state.theirs] : [state.theirs],
      mergeMessage(
        state.theirs,
        up,
        state.conflicts.map((c) => `${c.patch}: ${c.kind} conflict${c.files?.length ? ` in ${c.files.join(", ")}` : ""}, resolved by hand`),
        state.apart,
      ),
      extrasNotes,
    );
    await qr.moveHead(commit, ours);
    failpoint("sync-merge-committed");
  } else {
    // Killed right after moving the branch: the index is set to it (moveHead sets it first since
    // t83 N2; a pq before that, killed between its two steps, left the queue before the merge in
    // the index, and a plain git commit would revert it: collab-7 #2).
    await qr.run(["reset", "-q", "HEAD", "--", "."]);
  }
  const top = state.origTop ? (state.renamed[state.origTop] ?? state.origTop) : null;
  // Back as high as the stack was before the sync, not as high as the stop pushed to show the markers (t35 F15).
  const wasApplied = Array.isArray(state.origApplied) ? state.origApplied.map((name) => state.renamed[name] ?? name) : undefined;
  const r = await restack(stack, disk, () => undefined, { top, ...(wasApplied ? { wasApplied } : {}) });
  failpoint("sync-restacked");
  // Cleared once the stack is back up: a --continue killed before that finds the sync still
  // stopped, takes its merge as made (ownMerge) and restacks again (verify-6 N3).
  clearSyncState(stack.tree);
  const report = await loop(stack, qr, up, opts, [
    // What the merge said of the files beside the queue's own (a dotfile changed on both sides: t66 N3).
    ...extrasNotes,
    // Each patch once, with its kinds: one with a content and a header conflict was named twice (t104 N3).
    `conflicts in ${conflictKinds(state.conflicts)} resolved by hand`,
    ...regenerated.map((name) => `${name}: regenerated (the resolution moved its context)`),
    ...(meanwhile.length ? [`also in the merge, as changed while the sync was stopped: ${meanwhile.join(", ")}`] : []),
  ]);
  // The merge is --continue's own (the loop after it only pushes it): "merged and pushed", not "nothing to merge" (collab-8 C14).
  return { ...report, merged: true, restack: report.restack ?? r };
}

/**
 * Queue files changed while the sync was stopped other than the conflicted patches and the
 * series (a refreshed patch, a new one): --continue commits the queue as it is, so they go
 * out with the merge, and it says so (collab-8 C8); --abort takes them back, saved first.
 */
function changedDuringStop(qr: QueueRepo, state: SyncState): string[] {
  if (!state.written) return [];
  const conflicted = new Set(state.conflicts.map((c) => c.patch));
  const files = qr.diskFiles();
  const changed = Object.entries(files)
    .filter(([path, text]) => path !== "series" && !conflicted.has(path) && state.written![path] !== sha1(text))
    .map(([path]) => (state.written![path] === undefined ? `${path} (new)` : path));
  const removed = Object.keys(state.written)
    .filter((path) => path !== "series" && !conflicted.has(path) && files[path] === undefined)
    .map((path) => `${path} (deleted)`);
  return [...changed, ...removed].sort();
}

/** The logged operations of the newest pq sync (one group of source "sync"), newest first. */
function stoppedSyncIds(tree: string): string[] {
  const reader = new OplogReader(statePaths(tree).oplog);
  let group: string | undefined;
  const ids: string[] = [];
  // The user's own operations while the sync was stopped (a refresh, a new patch) are taken
  // back by the abort too (their files saved first): logged so, undo after the abort does not
  // stop at them as changes made outside the log (collab-7 #3).
  const during: string[] = [];
  for (let e = reader.older(); e !== null; e = reader.older()) {
    if (group === undefined && e.source === "sync" && !e.undoes) {
      group = e.group;
      ids.push(...during);
    } else if (group === undefined) {
      during.push(e.id);
      continue;
    } else if (e.group !== group) break;
    if (e.group === group) ids.push(e.id);
  }
  return ids;
}

/** ownMerge for --abort, which can only drop a merge made right on the branch as the sync left it. */
function parentsOnly(qr: QueueRepo, commit: string, state: SyncState): boolean {
  const parents = qr.parents(commit);
  return (
    parents.at(-1) === state.theirs &&
    (state.origHead === null ? parents.length === 1 : parents.length === 2 && parents[0] === state.origHead)
  );
}

/**
 * Whether `commit` is the merge this stopped sync's --continue makes: theirs as its last
 * parent, and the branch as the sync left it (or a commit made on it since) as its first.
 */
async function ownMerge(qr: QueueRepo, commit: string, state: SyncState): Promise<boolean> {
  const parents = qr.parents(commit);
  if (parents.at(-1) !== state.theirs) return false;
  if (state.origHead === null) return parents.length === 1;
  return parents.length === 2 && (parents[0] === state.origHead || (await qr.isAncestor(state.origHead, parents[0])));
}

function branchMoved(queueDir: string, head: string | null, orig: string | null, what: "continue" | "abort"): PqError {
  return new PqError(
    "refused",
    `the queue's branch moved to ${head?.slice(0, 12) ?? "(none)"} since the sync stopped (it was at ${orig?.slice(0, 12) ?? "(none)"})`,
    what === "abort"
      ? [
          "pq sync --continue makes the merge on top of that commit (it is kept)",
          `or, to drop it: git -C ${shellWord(queueDir)} reset --hard ${orig?.slice(0, 12) ?? "ORIG"}, then pq sync --abort`,
        ]
      : [`the new commit does not descend from ${orig?.slice(0, 12) ?? "the branch"}: pq sync --abort, then pq sync`],
    { head, orig },
  );
}

async function abortOnce(stack: Stack): Promise<RestackReport> {
  const qr = await QueueRepo.require(stack.queueDir);
  const state = loadSyncState(stack.tree);
  if (!state) throw new PqError("refused", "no sync to abort", ["pq status shows where the stack and the queue are"]);
  const head = await qr.head();
  // A commit made on the branch since the sync stopped would be dropped by moving it back; the
  // sync's own merge (a --continue killed after committing it) is not the user's.
  const own = head !== null && parentsOnly(qr, head, state);
  if (head !== state.origHead && head !== (state.target ?? null) && !own) throw branchMoved(qr.queueDir, head, state.origHead, "abort");
  // Back to where the sync started: before an earlier round's merge too (see SyncState.syncStart).
  const startHead = state.syncStart ? state.syncStart.head : state.origHead;
  const orig = await qr.versionAt(startHead);
  const round = state.syncStart ? await qr.versionAt(state.origHead) : null;
  const disk = qr.readDisk();
  // Work done while the sync was stopped is neither the queue before it nor what it wrote: saved before the queue is put back.
  const textIn = (v: QueueVersion | null, path: string) =>
    v === null ? undefined : path === "series" ? v.series : (v.patches[path] ?? null);
  const origText = (path: string) => textIn(orig, path)!;
  // A sync stopped while it moved to its merge (a full disk, a kill) wrote that version's files: its own, not work done meanwhile (t72 N5).
  const target = state.phase === "integrating" && state.target ? await qr.versionAt(state.target).catch(() => null) : null;
  const targetText = (path: string) => (target === null ? undefined : path === "series" ? target.series : (target.patches[path] ?? null));
  const madeMeanwhile = Object.entries(qr.diskFiles())
    .filter(
      ([path, text]) =>
        text !== origText(path) &&
        text !== targetText(path) &&
        text !== textIn(round, path) &&
        (state.written === undefined || sha1(text) !== state.written[path]),
    )
    .map(([path]) => path);
  // An abort cut short after it put the queue back finds nothing made meanwhile on disk any more:
  // what its first run saved, and where, is in the record (t80 N3: the finishing run said nothing).
  const savedBefore = state.aborting ? state.abortSaved : undefined;
  const queueBackup = madeMeanwhile.length ? backupFiles(stack.tree, madeMeanwhile, "sync-abort-queue", stack.queueDir) : savedBefore?.dir;
  const saved = madeMeanwhile.length ? madeMeanwhile : (savedBefore?.files ?? []);
  // Said first: an abort cut short from here on is an abort to finish (see SyncState.aborting).
  if (!state.aborting)
    saveSyncState(stack.tree, { ...state, aborting: true, ...(queueBackup ? { abortSaved: { dir: queueBackup, files: saved } } : {}) });
  // The abort takes the stopped sync's pops and pushes back, as an undo does: logged so, pq
  // undo goes on to what came before the sync instead of refusing at it (safe-6 #10).
  stack.takingBack = stoppedSyncIds(stack.tree);
  let r: RestackReport;
  try {
    // Up to the top the sync started from: patches pushed while it was stopped are taken back with it.
    r = await restack(stack, orig, () => qr.writeDisk(orig, disk), {
      top: state.syncStart ? state.syncStart.top : state.origTop,
      force: true,
      exactly: true,
    });
    // A conflict that kept the patch as it was (a binary file: yours is kept) left it applied,
    // and the restack had nothing to move: its mark is the sync's, and goes with it (t118 N8).
    const top = stack.appliedRecords().at(-1);
    if (top?.needsRefresh === "conflict" && state.conflicts?.some((c) => c.patch === top.name)) await stack.unmarkConflicted(top.name);
  } finally {
    stack.takingBack = null;
  }
  // Files beside the queue a move to the merge took in go back too (see SyncState.withTree): from
  // this round's target to where the round started, then from there to where the sync started (an
  // earlier round's merge took them in: t152 N7). Each file is moved only from the versions named.
  if (state.withTree && state.target && state.origHead) await qr.moveOutsideFiles(state.target, state.origHead);
  if (state.syncStart && state.origHead && startHead) await qr.moveOutsideFiles(state.origHead, startHead);
  if (startHead && (await qr.head()) !== startHead) await qr.moveHead(startHead, null);
  else await qr.run(["reset", "-q", "HEAD", "--", "."]);
  clearSyncState(stack.tree);
  if (!queueBackup) return r;
  // A patch made while the sync was stopped is not "deleted there": it goes with the abort, its file saved (verify-7 V6).
  const made = new Set(saved.filter((p) => p !== "series" && origText(p) === null));
  return { ...r, queueBackup, left: r.left?.map((l) => (made.has(l.name) ? { ...l, why: "made-meanwhile" as const } : l)) };
}

/** What git says when a push or fetch never reached the remote (the network, the server gone); an http status (403, 500) is the remote's answer (t92 N3). */
const TRANSPORT_FAILED =
  /Could not read from remote repository|remote end hung up|early EOF|Connection (refused|reset|timed out)|Could not resolve host|Failed to connect|unable to connect/i;

/**
 * pq sync's own pops and pushes are not refused as changes made during an interrupted sync,
 * and the operation log marks them as one command (one undo takes them back). The tree lock
 * is held from the fetch to the end: a refresh or a new patch made in another terminal while
 * the sync fetched was popped and overwritten by the sync, which had read the stack before.
 */
async function asSync<T>(stack: Stack, fn: () => Promise<T>): Promise<T> {
  const was = stack.syncing;
  stack.syncing = true;
  try {
    return await stack.withLock(() => stack.asOneCommand(fn, "sync"), { changes: false });
  } finally {
    stack.syncing = was;
  }
}

export function sync(stack: Stack, opts: SyncOptions = {}): Promise<SyncReport> {
  return asSync(stack, () => sayingTheWayBack(stack, () => syncOnce(stack, opts)));
}

export function syncContinue(stack: Stack, opts: SyncOptions = {}): Promise<SyncReport> {
  return asSync(stack, () =>
    sayingTheWayBack(stack, async () => {
      const report = await continueOnce(stack, opts);
      // The resolution refreshed while the sync was stopped is the sync's now (committed, pushed):
      // a --continue that moved no patch logs its end all the same, so that pq undo meets the sync
      // (which it refuses) and not that refresh, whose undo put the markers back (t79 N2).
      if (!stack.loggedInCommand()) await stack.logMarker("sync --continue: done");
      return report;
    }),
  );
}

/**
 * The operating system's refusal (a full disk, a name too long for where the tree lives) in the
 * middle of a sync leaves the sync interrupted, and every pq sync after it met the same refusal
 * and said only to fix it (t64 N12): said with both ways on, completing it and taking it back.
 */
async function sayingTheWayBack<T>(stack: Stack, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    // git's own failure (its update-ref on a full disk: t72 N4) leaves the sync as half done as the system's does.
    const gitFailed = e instanceof PqError && e.code === "git";
    const refusal = e instanceof PqError ? null : systemRefusal(e);
    if (refusal === null && !gitFailed) throw e;
    let left: SyncState | null = null;
    try {
      left = loadSyncState(stack.tree);
    } catch {
      /* a damaged record is said by the next command */
    }
    if (left === null) throw e;
    const complete = left.phase === "conflicts" ? "pq sync --continue finishes it" : "pq sync completes it";
    const wayBack = `the sync is left interrupted: ${complete} once that is fixed, or pq sync --abort takes it back (the queue and the applied stack as they were before it)`;
    if (gitFailed) throw new PqError(e.code, e.message, [...e.details, wayBack], { ...e.data, interruptedSync: left.phase });
    throw new PqError("system", refusal!.message, [refusal!.next, wayBack], { interruptedSync: left.phase });
  }
}

export function syncAbort(stack: Stack): Promise<RestackReport> {
  return asSync(stack, () => abortOnce(stack));
}

/**
 * An untracked file in the queue directory that pq commit leaves out (an editor leftover such as
 * P.patch.orig, a note, a patch kept by delete -k), named like a file the remote's queue has: the
 * sync would write over it (t64 N6).
 */
async function refuseLeftoversInTheWay(qr: QueueRepo, theirs: string, leftOut: string[]): Promise<void> {
  if (!leftOut.length) return;
  const incoming = await qr.git.filesAt(theirs);
  // The same name, or a file against a directory either way: a note "drafts" against their
  // drafts/x.patch, a notes/a.txt against their patch "notes" (t109 N3: the note was deleted, exit 0).
  const incomingDirs = new Set(Object.keys(incoming).flatMap(parentDirs));
  const inTheWay = leftOut.filter(
    (p) => incoming[p] !== undefined || incomingDirs.has(p) || parentDirs(p).some((dir) => incoming[dir] !== undefined),
  );
  if (inTheWay.length)
    throw new PqError(
      "dirty",
      `${inTheWay.join(", ")} in the queue directory ${inTheWay.length === 1 ? "is an untracked file" : "are untracked files"} the remote's queue has too (or a file of its where ${inTheWay.length === 1 ? "it has" : "they have"} a directory, or the other way round): the sync would write over ${inTheWay.length === 1 ? "it" : "them"}`,
      [`move ${inTheWay.length === 1 ? "it" : "them"} out of ${qr.queueDir}, then pq sync again`],
      { files: inTheWay },
    );
}

/** The .pq folders the paths are in (bugfix/.pq for bugfix/.pq/state.json), as git rm -r takes them (t133 N3). */
function stateFolders(paths: readonly string[]): string[] {
  return [
    ...new Set(
      paths.map((path) =>
        path
          .split("/")
          .slice(0, path.split("/").indexOf(".pq") + 1)
          .join("/"),
      ),
    ),
  ];
}

/** "p.patch (content, header), q.patch (apply)": each conflicted patch once, with its kinds of conflict. */
function conflictKinds(conflicts: readonly { patch: string; kind: string }[]): string {
  const kinds = new Map<string, string[]>();
  for (const c of conflicts) kinds.set(c.patch, [...new Set([...(kinds.get(c.patch) ?? []), c.kind])]);
  return [...kinds].map(([patch, k]) => `${patch} (${k.join(", ")})`).join(", ");
}

/** The directories a queue path lies in, outermost first ("a/b/c.patch": "a", "a/b"). */
function parentDirs(path: string): string[] {
  const parts = path.split("/");
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** The untracked files pq commit leaves out (editor leftovers, files the series does not list): a sync leaves them too, unless they are in its way. */
function leftOutOfCommits(pending: Pick<PendingQueue, "leftOut" | "unlisted">): string[] {
  return [...pending.leftOut, ...pending.unlisted];
}
