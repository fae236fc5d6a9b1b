/**
 * The applied stack follows a new version of the queue: pop down to the lowest applied
 * patch that changed (or moved), write the new queue files, push back up to where the
 * user was. Only the Stack's public operations are used, so unrefreshed edits are
 * refused exactly as `pq pop` refuses them, and the writes go through the stack's journal.
 */
import { operandWords } from "../core/shell-word.js";
import type { Finished } from "./finished.js";
import { PqError } from "../errors.js";
import { isPushable, type SeriesEntry } from "../queue/series.js";
import { parsePatch } from "../patch/index.js";
import type { PushReport, Stack } from "../queue/stack.js";
import { sha1 } from "../tree/files.js";
import { parseSeries } from "./simulate.js";
import type { QueueConflict, QueueVersion } from "./types.js";
import { conflictRefresh } from "./conflict-refresh.js";

export interface RestackReport {
  popped: string[];
  pushed: string[];
  top: string | null;
  /** Set when the push back stopped early (a conflicted patch, or one that does not apply). */
  stoppedAt?: string;
  /** Why the push back stopped, when it failed: the refusal's message, code and advice. */
  error?: string;
  errorCode?: PqError["code"];
  errorDetails?: string[];
  /** The refusal's data (a failed push's `patch`, and `unknownBase` where git has not the blob it started from). */
  errorData?: Record<string, unknown>;
  /** Where a forced pop (an abort) saved files with edits before putting the tree back. */
  backup?: string;
  /** Where sync --abort saved queue files changed while the sync was stopped (see SyncState.written). */
  queueBackup?: string;
  /** The top patch before the restack (named by the advice when the stack could not be put back). */
  wasTop?: string | null;
  /**
   * Patches that were applied here and are not now: deleted there (or renamed and changed,
   * which looks the same), renamed (`now`: the same text under a new name, above where the
   * stack went back up to), or guarded off by the selected guards. Their changes left the tree.
   */
  left?: {
    name: string;
    why: "not-in-series" | "finished" | "renamed" | "guarded" | "made-meanwhile";
    now?: string;
    /** not-in-series: a patch new in the series, applied where it was (renamed and changed there?). */
    inItsPlace?: string;
    finished?: Finished;
  }[];
}

/** Refuse before anything changes if the tree has edits that a pop would lose. */
export async function refuseUnrefreshed(stack: Stack, what: string, conflicts: readonly QueueConflict[] = []): Promise<void> {
  const s = await stack.status();
  if (s.needsRefresh)
    throw new PqError(
      "needs-refresh",
      `${s.top} needs a refresh before you can ${what}`,
      // Resolved in the patch file instead of the tree (collab-17 F16): that version is applied by a pop and a push.
      s.topChangedInQueue
        ? [
            `${s.top} was edited in the queue (a resolution made in the patch file?): pq pop --force, then pq push, applies that version; or resolve the tree's conflicts and pq refresh --force`,
          ]
        : [`resolve its conflicts, then ${(s.top && conflictRefresh(conflicts, s.top)) || "pq refresh"}`],
      { pathsFrom: stack.tree },
    );
  // Only files the applied patches change are popped (and would lose the edit); an edit in any
  // other file stays where it is, as pq pop leaves it, and a pushed patch that needs it refuses itself.
  const popped = new Set(stack.appliedRecords().flatMap((r) => Object.keys(r.files)));
  const inTheWay = s.pending.filter((p) => popped.has(p));
  if (inTheWay.length) {
    // The top patch changed in the queue (a git pull): a refresh would overwrite that new
    // version, so it is no way out here (collab-7 #5); a patch of their own is.
    const keep = s.topChangedInQueue
      ? `${s.top} changed in the queue since it was pushed (a pull), so pq refresh would overwrite that version: pq new NAME and pq refresh keep your changes as a patch of their own${what === "sync" ? " (then pq commit)" : ""}, or pq pop --force saves them to .pq/backups and drops them`
      : what === "sync"
        ? "pq refresh to keep them in the top patch (then pq commit), or undo them first"
        : "pq refresh to keep them in the top patch (the merge commits them), or undo them first";
    throw new PqError(
      "dirty",
      `unrefreshed changes in ${inTheWay.slice(0, 8).join(", ")}, which the applied patches change: ${what} would have to pop them`,
      [keep],
      { files: inTheWay },
    );
  }
}

export async function restack(
  stack: Stack,
  next: QueueVersion,
  write: () => void,
  opts: {
    top: string | null;
    renamed?: Record<string, string>;
    /** Patches a colleague finished (see finished.ts): said so when they leave the stack. */
    finished?: Record<string, Finished>;
    stopAt?: string[];
    upToStop?: boolean;
    force?: boolean;
    /** Up to `top` and no further (sync --abort: the stack as it was before the sync, not as the stop left it). */
    exactly?: boolean;
    /**
     * The patches applied before the sync, when a stop has pushed more since (to show a conflict's
     * markers): the stack comes back as high as they were, not as high as the stop went (t35 F15).
     */
    wasApplied?: string[];
  },
): Promise<RestackReport> {
  const applied = stack.appliedRecords();
  const entries = parseSeries(next.series, "the merged");
  const pushable = entries.filter((e) => isPushable(e, stack.selectedGuards())).map((e) => e.name);
  let keep = 0;
  while (
    keep < applied.length &&
    applied[keep].name === pushable[keep] &&
    next.patches[pushable[keep]] !== undefined &&
    sha1(next.patches[pushable[keep]]) === applied[keep].hash
  )
    keep++;
  // Up to `top` and no further: patches above it the stop pushed go too, also when their text
  // is the same (a patch deleted there and changed here, kept as ours: collab-8 C1).
  if (opts.exactly) {
    const exactTop = opts.top ? (opts.renamed?.[opts.top] ?? opts.top) : null;
    const at = exactTop === null ? -1 : applied.findIndex((r) => r.name === exactTop);
    if (exactTop === null || at !== -1) keep = Math.min(keep, at + 1);
  }
  // The patch the user was on: the sync's start's (an abort from a stop on another: t118 N2), under its new name.
  const wasTop = opts.top !== undefined ? (opts.top === null ? null : (opts.renamed?.[opts.top] ?? opts.top)) : stack.top();
  const report: RestackReport = { popped: [], pushed: [], top: stack.top(), wasTop };
  if (keep < applied.length) {
    const r = await stack.pop(keep === 0 ? { all: true, force: opts.force } : { target: applied[keep - 1].name, force: opts.force });
    report.popped = r.popped;
    if (r.backup) report.backup = r.backup;
  }
  write();
  let target = opts.top ? (opts.renamed?.[opts.top] ?? opts.top) : null;
  if (target && !pushable.includes(target)) {
    // The old top is gone: go back up as far as the old stack was high.
    target = pushable[Math.min(applied.length, pushable.length) - 1] ?? null;
  }
  // Every patch that was applied comes back (a colleague moved one down, below ones we had on
  // top of it: going up to the old top alone left those out), as StGit's pull keeps them.
  const position = new Map(pushable.map((name, i) => [name, i]));
  const highest = Math.max(
    -1,
    ...(opts.wasApplied ?? applied.map((r) => r.name)).map((name) => position.get(opts.renamed?.[name] ?? name) ?? -1),
  );
  if (target && !opts.exactly && highest > pushable.indexOf(target)) target = pushable[highest];
  const at = target ? pushable.indexOf(target) : -1;
  // A conflicted patch is where the user has work to do: the stack goes up to the lowest one
  // (even above the old top, so its markers are in the tree), never past it.
  const stop = (opts.stopAt ?? []).map((n) => pushable.indexOf(n)).filter((i) => i !== -1 && (opts.upToStop || i <= at));
  if (stop.length) {
    target = pushable[Math.min(...stop)];
    report.stoppedAt = target;
  }
  if (target && !stack.applied().includes(target)) {
    const before = new Set(stack.applied());
    try {
      const r: PushReport = await stack.push({ target });
      report.pushed = r.pushed.map((p) => p.name);
    } catch (e) {
      if (!(e instanceof PqError)) throw e;
      // A push refused as a whole (edits in the way of one patch): go up as far as the patch before it.
      const blocked = typeof e.data.patch === "string" ? pushable.indexOf(e.data.patch) : -1;
      const below = blocked > 0 ? pushable[blocked - 1] : null;
      if (below && !stack.applied().includes(below)) {
        try {
          report.pushed = (await stack.push({ target: below })).pushed.map((p) => p.name);
        } catch (again) {
          if (!(again instanceof PqError)) throw again;
        }
      }
      // A push that stopped at a patch keeps the ones before it: they count as pushed.
      report.pushed = stack.applied().filter((name) => !before.has(name));
      report.error = e.message;
      report.errorCode = e.code;
      report.errorDetails = e.details;
      report.errorData = { ...e.data, ...guardedOffBelow(entries, next, stack.selectedGuards(), e) };
      report.stoppedAt = stack.top() ?? undefined;
    }
  }
  // A stop at a patch that stayed applied under others (its text unchanged: a binary file kept as
  // yours has no markers): down to it, where it is marked for its refresh, as a changed one is by
  // the push. Left under the others, nothing asked for a decision and --continue called it resolved (t123 N3).
  if (report.stoppedAt && !report.error && target && stack.top() !== target && stack.applied().includes(target)) {
    const r = await stack.pop({ target, force: opts.force });
    report.popped = [...report.popped, ...r.popped];
    if (r.backup) report.backup = r.backup;
  }
  // A stop pushed above where the user was (to show a conflict's markers): back down to it, once
  // the conflicts are resolved (t35 F15).
  const backDown =
    opts.wasApplied && !report.error
      ? target === null
        ? opts.wasApplied.length === 0 && stack.applied().length > 0 // nothing was applied (t37 N1)
        : stack.top() !== target && stack.applied().includes(target)
      : false;
  if (backDown) {
    const r = await stack.pop(target === null ? { all: true, force: opts.force } : { target, force: opts.force });
    report.popped = [...report.popped, ...r.popped];
    if (r.backup) report.backup = r.backup;
  }
  report.top = stack.top();
  const hashOf = new Map(applied.map((r) => [r.name, r.hash]));
  const left = leftBehind(
    report.popped,
    hashOf,
    stack.applied(),
    entries,
    pushable,
    next,
    opts.renamed ?? {},
    opts.finished ?? {},
    applied.map((r) => r.name),
  );
  if (left.length) report.left = left;
  return report;
}

/** Popped patches that are not applied again, and why (see RestackReport.left). */
function leftBehind(
  popped: string[],
  hashOf: Map<string, string>,
  appliedNow: string[],
  entries: { name: string }[],
  pushable: string[],
  next: QueueVersion,
  renamed: Record<string, string>,
  finished: Record<string, Finished>,
  /** The stack's patches before, in order. */
  wasApplied: string[],
): NonNullable<RestackReport["left"]> {
  const applied = new Set(appliedNow);
  const listed = new Set(entries.map((e) => e.name));
  const nameOfText = new Map(Object.entries(next.patches).map(([name, text]) => [sha1(text), name]));
  const left: NonNullable<RestackReport["left"]> = [];
  for (const name of popped) {
    if (applied.has(name)) continue;
    if (listed.has(name)) {
      // Guarded off now; otherwise above where the stack went back up to.
      if (!pushable.includes(name)) left.push({ name, why: "guarded" });
      continue;
    }
    const hash = hashOf.get(name);
    const now = renamed[name] ?? (hash !== undefined ? nameOfText.get(hash) : undefined);
    if ((now === undefined || !listed.has(now)) && Object.hasOwn(finished, name))
      left.push({ name, why: "finished", finished: finished[name] });
    else if (now === undefined || !listed.has(now)) {
      // A patch new in the series applied in its place: most likely the same patch renamed and
      // changed there, whose changes did not leave the tree (t144 N5).
      const inItsPlace = appliedNow[wasApplied.indexOf(name)];
      left.push(
        inItsPlace !== undefined && !wasApplied.includes(inItsPlace)
          ? { name, why: "not-in-series", inItsPlace }
          : { name, why: "not-in-series" },
      );
    } else if (!applied.has(now)) left.push({ name, why: "renamed", now });
  }
  return left;
}

/**
 * A restack that could not bring the stack back up: the queue's change stands, the stack is
 * lower than it was. Refused with the push's own code and advice, so that a script sees it.
 */
export function restackFailure(r: RestackReport | undefined, data: Record<string, unknown> = {}): PqError | null {
  if (!r?.error) return null;
  // A colleague's finish: the patches above it apply once the tree has its commit (collab-17 F14).
  const finished = (r.left ?? []).filter((l) => l.why === "finished");
  // A patch made over file versions this tree's git has never seen: a colleague's pq rebase onto a
  // newer upstream, most likely, which only a rebase of this tree follows; --force would leave .rej
  // files where the patch applies cleanly once the tree is there (t104 N1).
  const failing = r.errorData?.patch;
  // A patch it builds on is guarded off by this tree's selection (t150 N1: that was said as a newer upstream).
  const guardedBelow = Array.isArray(r.errorData?.guardedBelow) ? (r.errorData.guardedBelow as { name: string; guards: string[] }[]) : [];
  const wanted = [...new Set(guardedBelow.flatMap((g) => g.guards.filter((x) => x.startsWith("+")).map((x) => x.slice(1))))];
  const guardWay =
    typeof failing === "string" && guardedBelow.length
      ? [
          `${failing} builds on ${guardedBelow.map((g) => `${g.name} (${g.guards.join(" ")})`).join(", ")}, which the guards selected here leave out${
            wanted.length ? `: pq select ${wanted.join(" ")} applies ${guardedBelow.length === 1 ? "it" : "them"}` : ""
          }; or whoever guarded ${guardedBelow.length === 1 ? "it" : "them"} (pq log series says who) guards ${operandWords(failing)} the same way`,
        ]
      : [];
  const otherUpstream =
    !guardWay.length && r.errorCode === "apply-failed" && typeof failing === "string" && r.errorData?.unknownBase
      ? [
          `${failing} was made over other versions of its files than this tree has: if a colleague carried the queue onto a newer upstream (pq log ${operandWords(failing)} says who changed it), git fetch, then pq rebase, carries this tree there`,
        ]
      : [];
  return new PqError(
    r.errorCode ?? "refused",
    `the applied stack could not be put back (it stopped at ${r.stoppedAt ?? "the base"}): ${r.error}`,
    [
      // Not git pull: the patches still applied change the files it would update (t35 F9).
      ...finished.map(
        (l) => `${finishedWords(l)}: pq rebase brings the tree to ${upstreamWithCommit(l)}, carrying the applied patches; then pq push -a`,
      ),
      ...guardWay,
      ...otherUpstream,
      ...(r.errorDetails ?? []),
      // The patch you were on may have left the series with the change (an abort takes a patch made meanwhile out: collab-17 F10).
      r.wasTop && !r.left?.some((l) => l.name === r.wasTop && l.why !== "guarded")
        ? `then pq goto ${operandWords(r.wasTop)}, the patch you were on`
        : r.wasTop
          ? `then pq push (or pq goto) as far as you want: ${r.wasTop}, the patch you were on, is no longer in the series`
          : "then pq push (or pq goto) up to the patch you were on",
    ],
    { stoppedAt: r.stoppedAt ?? null, ...data },
  );
}

/**
 * The patches below a patch that failed to apply that the selected guards leave out and that
 * change a file it changes: what it most likely builds on (see restackFailure).
 */
function guardedOffBelow(
  entries: SeriesEntry[],
  next: QueueVersion,
  guards: string[],
  e: PqError,
): { guardedBelow?: { name: string; guards: string[] }[] } {
  const name = e.data.patch;
  if (e.code !== "apply-failed" || typeof name !== "string") return {};
  const at = entries.findIndex((x) => x.name === name);
  const filesOf = (x: SeriesEntry): string[] => {
    try {
      return parsePatch(next.patches[x.name] ?? "", { strip: x.strip ?? 1 }).files.flatMap((fp) =>
        [fp.oldPath, fp.newPath].filter((p): p is string => p !== null),
      );
    } catch {
      return [];
    }
  };
  if (at <= 0) return {};
  const own = new Set(filesOf(entries[at]));
  const found = entries
    .slice(0, at)
    .filter((x) => !isPushable(x, guards) && filesOf(x).some((p) => own.has(p)))
    .map((x) => ({ name: x.name, guards: x.guards }));
  return found.length ? { guardedBelow: found } : {};
}

/** "P.patch was finished by Ann into the tree's commit 0123456789ab" (the queue's history says so, when the tree lacks the commit). */
export function finishedWords(l: { name: string; finished?: Finished }): string {
  const commit = l.finished?.commit.slice(0, 12) ?? "(unknown)";
  const by = l.finished?.by ? ` by ${l.finished.by}` : "";
  return l.finished?.known === false
    ? `${l.name} was finished${by} into commit ${commit}, the queue's history says, which this tree's repository does not have`
    : `${l.name} was finished${by} into the tree's commit ${commit}`;
}

/** Where pq rebase takes the tree for a finished patch's commit: its upstream, which has it (or should: fetched first). */
export function upstreamWithCommit(l: { finished?: Finished }): string {
  return l.finished?.known === false
    ? "its upstream (git fetch it first, and check it has that commit)"
    : "its upstream, which has that commit";
}
