/** What `pq status` says about the shared queue: which kind, ahead/behind, conflicts. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addsConflictMarkers } from "../queue/patch-text.js";
import type { Stack } from "../queue/stack.js";
import { readText, sha1 } from "../tree/files.js";
import { QueueRepo, type QueueRepoKind } from "./queue-repo.js";
import { diffId, fixNotApplying, loadSyncState, type NotApplying, type SyncState } from "./sync-state.js";
import type { ConflictKind, QueueConflict } from "./types.js";
import { operandWords } from "../core/shell-word.js";
import { deleteWay } from "./delete-way.js";
import { conflictRefresh } from "./conflict-refresh.js";

export interface SharedStatus {
  /** own: the queue directory is its own repository; in-tree: it is versioned with the tree. */
  kind: QueueRepoKind;
  upstream: string | null;
  /** Commits not yet pushed / not yet merged, against the last fetch. */
  ahead: number;
  behind: number;
  /** The upstream branch does not exist (yet): nothing of this queue is on the remote. */
  upstreamMissing?: true;
  /** The queue's repository is on no branch (a checkout of a commit). */
  detached?: true;
  uncommitted: string[];
  /** Patches a stopped sync left with conflicts (pq sync --continue after resolving them). */
  conflicted: string[];
  /** Each conflict's patch, kind and files (a NAME.theirs kept beside its patch): each kind is resolved its own way (see conflictAdvice). */
  conflicts: { patch: string; kind: ConflictKind; files?: string[]; deleteWith?: string; otherUpstream?: true }[];
  /**
   * Of a stopped sync's conflicts, the patches not known to be decided (see unresolvedOf). Empty:
   * pq sync --continue is what is left, unless notApplying says otherwise.
   */
  unresolved: string[];
  /** Patches the last --continue found not applying, with the resolution as it was then (see SyncState.notApplying). */
  notApplying: NotApplying[];
  syncInProgress: boolean;
  /** A pq sync --abort was cut short: only --abort finishes it (see SyncState.aborting). */
  abortInterrupted?: true;
}

export async function sharedStatus(stack: Stack): Promise<SharedStatus | null> {
  const qr = await QueueRepo.open(stack.queueDir);
  if (!qr) return null;
  const up = await qr.upstream();
  const ab = await qr.aheadBehind(up);
  const sync = loadSyncState(stack.tree);
  return {
    kind: qr.kind,
    upstream: up ? up.ref.replace(/^refs\/remotes\//, "") : null,
    ahead: ab?.ahead ?? 0,
    behind: ab?.behind ?? 0,
    ...(ab?.upstreamMissing ? { upstreamMissing: true as const } : {}),
    ...(!up && (await qr.detached()) ? { detached: true as const } : {}),
    uncommitted: await qr.uncommitted(),
    conflicted: sync?.phase === "conflicts" ? [...new Set(sync.conflicts.map((c) => c.patch))] : [],
    conflicts:
      sync?.phase === "conflicts"
        ? sync.conflicts.map((c) => ({
            patch: c.patch,
            kind: c.kind,
            ...(c.files ? { files: c.files } : {}),
            ...(c.kind === "delete-modify" ? { deleteWith: deleteWay(stack.applied(), c.deletes ?? c.patch) } : {}),
            ...(c.otherUpstream ? { otherUpstream: true as const } : {}),
          }))
        : [],
    unresolved: sync?.phase === "conflicts" ? unresolvedOf(stack, sync) : [],
    notApplying: sync?.phase === "conflicts" ? notApplyingNow(stack, sync) : [],
    syncInProgress: sync !== null,
    ...(sync?.aborting ? { abortInterrupted: true as const } : {}),
  };
}

/** Whether each of these queue files still has the diff whose diffId is given. */
function stillSo(queueDir: string, files: Record<string, string>): boolean {
  return Object.entries(files).every(([file, id]) => diffId(readText(join(queueDir, file))) === id);
}

/**
 * The patches the last --continue found not applying, while neither they nor the resolution
 * changed; one the user has pushed with --merge to fix (applied, its conflicts to resolve) is
 * said to be that, not "does not apply" (t41 N1).
 */
function notApplyingNow(stack: Stack, sync: SyncState): NotApplying[] {
  const fixing = new Map(stack.appliedRecords().flatMap((r) => (r.needsRefresh ? [[r.name, r.needsRefresh] as const] : [])));
  return (sync.notApplying ?? [])
    .filter((n) => n.unchanged !== undefined && stillSo(stack.queueDir, n.unchanged))
    .map((n) => {
      const how = fixing.get(n.patch);
      return how === undefined ? n : { ...n, fixing: how === "forced" ? "rejects" : "markers" };
    });
}

/**
 * SharedStatus.unresolved: a content conflict while its patch file adds conflict markers, or
 * while its applied patch is still marked as needing a refresh for it (a binary file a sync
 * kept as yours has no markers: t40 N11); a NAME.theirs or NAME.ours while it is beside its
 * patch; a header, delete/modify or apply conflict until its patch file changes or goes (pq
 * header, pq delete, a refresh) after the stop, which is all the files can say of a decision
 * (keeping the patch as it is, --continue takes as the decision).
 */
function unresolvedOf(stack: Stack, sync: SyncState): string[] {
  const queueDir = stack.queueDir;
  const marked = new Set(stack.appliedRecords().flatMap((r) => (r.needsRefresh === "conflict" ? [r.name] : [])));
  const pending = (c: QueueConflict): boolean => {
    const text = () => readText(join(queueDir, c.patch));
    if (c.kind === "name") return (c.files ?? []).some((f) => existsSync(join(queueDir, f)));
    if (c.kind === "content") return marked.has(c.patch) || addsConflictMarkers(text() ?? "");
    const left = sync.written?.[c.patch];
    const now = text();
    return left !== undefined && now !== null && sha1(now) === left;
  };
  return [...new Set(sync.conflicts.filter(pending).map((c) => c.patch))];
}

/**
 * What a stopped sync waits for, in one line: the conflicts still to resolve; or, once they
 * are, the patches the last --continue found not applying over the resolution; or --continue.
 */
export function stoppedSyncLine(shared: Pick<SharedStatus, "conflicted" | "conflicts" | "unresolved" | "notApplying">): string {
  if (shared.unresolved.length)
    return `sync stopped on conflicts in ${shared.unresolved.join(", ")}: ${conflictAdvice(shared.conflicts.filter((c) => shared.unresolved.includes(c.patch)))}`;
  const fixing = shared.notApplying.filter((n) => n.fixing);
  if (fixing.length) {
    // Pushed with --merge, the conflicts are marked in the files; with --force, the hunks that did not fit are in .rej files (t42 N4).
    const what = new Set(fixing.map((n) => (n.fixing === "rejects" ? "hunks in .rej files" : "conflicts marked in the tree")));
    return `sync stopped: ${fixing.map((n) => n.patch).join(", ")}, pushed to be fixed over the resolution, ${fixing.length === 1 ? "has" : "have"} ${[...what].join(" or ")}: fix them and pq refresh; then pq sync --continue (or --abort)`;
  }
  if (shared.notApplying.length) {
    const names = shared.notApplying.map((n) => n.patch);
    return `sync stopped: the conflicts in ${shared.conflicted.join(", ")} are resolved, but ${shared.notApplying.map((n) => `${n.patch} (${n.failures.join("; ")})`).join(", ")} ${names.length === 1 ? "does" : "do"} not apply over the resolution: ${fixNotApplying(shared.notApplying[0])}; then pq sync --continue (or --abort)`;
  }
  return `sync stopped on conflicts in ${shared.conflicted.join(", ")}, resolved: pq sync --continue commits the merge (or --abort)`;
}

/** stoppedSyncLine's first half, for a line shared with other facts (the TUI's header). */
export function stoppedSyncSummary(shared: Pick<SharedStatus, "unresolved" | "notApplying">): string {
  if (shared.unresolved.length) return `sync stopped on conflicts in ${shared.unresolved.join(", ")}`;
  if (shared.notApplying.some((n) => n.fixing))
    return `sync stopped: ${shared.notApplying.every((n) => n.fixing !== "markers") ? "rejected hunks" : "conflicts"} to fix in the tree, then pq refresh`;
  if (shared.notApplying.length)
    return `sync stopped: ${shared.notApplying.map((n) => n.patch).join(", ")} ${shared.notApplying.length === 1 ? "does" : "do"} not apply over the resolution`;
  return "sync stopped, its conflicts resolved: pq sync --continue";
}

/** The way on when the remote's queue was carried onto a newer upstream than this tree's. */
export const OTHER_UPSTREAM_WAY =
  "pq sync --abort, git fetch, pq rebase (which carries this tree and its patches onto the newer upstream), pq commit -m MESSAGE, then pq sync";

/** How to resolve a stopped sync's conflicts, kind by kind. */
export function conflictAdvice(
  conflicts: { patch: string; kind: ConflictKind; files?: string[]; deleteWith?: string; otherUpstream?: true }[],
): string {
  // A version made on a newer upstream is followed by a rebase of this tree, not carried by hand:
  // keeping ours pushed the queue back onto the older upstream for everyone (t144 N8).
  const upstream = [...new Set(conflicts.filter((c) => c.otherUpstream).map((c) => c.patch))];
  if (upstream.length) return `${OTHER_UPSTREAM_WAY} (theirs of ${upstream.join(", ")} was made on a newer upstream)`;
  const names = (kind: ConflictKind) => [...new Set(conflicts.filter((c) => c.kind === kind).map((c) => c.patch))].join(", ");
  const kept = conflicts.flatMap((c) => (c.kind === "name" ? (c.files ?? []) : []));
  const steps = [
    names("header") && `choose ${names("header")}'s header with pq header NAME -m/-u`,
    names("content") &&
      `resolve ${names("content")} (the marked files, or the file the sync kept) and ${conflictRefresh(conflicts) ?? "pq refresh"}`,
    kept.length && `compare ${kept.join(", ")} with the patch of its name, keep what is needed in it, delete ${kept.join(", ")}`,
    names("delete-modify") &&
      `${conflicts
        .filter((c) => c.kind === "delete-modify")
        .map((c) => c.deleteWith ?? `pq delete ${operandWords(c.patch)}`)
        .join("; ")} if deleted is right (or keep it as it is)`,
    names("delete-change") &&
      `where a file ${names("delete-change")} has was deleted on one side, rm it and pq refresh if deleted is right (pq goto the patch first), or keep it as the sync left it`,
    names("rename") &&
      `choose the name of the file ${names("rename")} moves (as the sync said: mv, pq add and pq refresh; or keep yours as it is)`,
    // Keeping yours drops their change for everyone; where they carried the queue onto a newer upstream, that carries it back (t151 N3).
    names("apply") &&
      `carry theirs of ${names("apply")} over by hand (pq log -p NAME shows it) and pq refresh, or keep yours, which drops their change for everyone (if theirs was carried onto a newer upstream than this tree's: ${OTHER_UPSTREAM_WAY})`,
  ].filter(Boolean);
  return `${steps.join("; ")}; then pq sync --continue (or --abort)`;
}
