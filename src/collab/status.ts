/** What `pq status` says about the shared queue: which kind, ahead/behind, conflicts. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { addsConflictMarkers } from "../queue/patch-text.js";
import type { Stack } from "../queue/stack.js";
import { readText, sha1 } from "../tree/files.js";
import { QueueRepo, type QueueRepoKind } from "./queue-repo.js";
import { loadSyncState, type NotApplying, type SyncState } from "./sync.js";
import type { ConflictKind, QueueConflict } from "./types.js";

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
  /** Each conflict's patch and kind: a header conflict is resolved with pq header, the others with a refresh. */
  conflicts: { patch: string; kind: ConflictKind }[];
  /**
   * Of a stopped sync's conflicts, the ones not known to be resolved: a patch whose file still
   * adds conflict markers, a NAME.theirs or NAME.ours still beside its patch, and every conflict
   * of the other kinds (a header, a deleted patch, one that did not apply: nothing in the files
   * says whether the user has decided). Empty: pq sync --continue is what is left.
   */
  unresolved: string[];
  /** Patches the last --continue found not applying, still as they were then (see SyncState.notApplying). */
  notApplying: NotApplying[];
  syncInProgress: boolean;
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
    conflicts: sync?.phase === "conflicts" ? sync.conflicts.map((c) => ({ patch: c.patch, kind: c.kind })) : [],
    unresolved: sync?.phase === "conflicts" ? unresolvedOf(stack.queueDir, sync) : [],
    notApplying:
      sync?.phase === "conflicts"
        ? (sync.notApplying ?? []).filter((n) => sha1(readText(join(stack.queueDir, n.patch)) ?? "") === n.sha1)
        : [],
    syncInProgress: sync !== null,
  };
}

/** See SharedStatus.unresolved. */
function unresolvedOf(queueDir: string, sync: SyncState): string[] {
  const pending = (c: QueueConflict): boolean => {
    if (c.kind === "name") return (c.files ?? []).some((f) => existsSync(join(queueDir, f)));
    if (c.kind !== "content") return true;
    const text = readText(join(queueDir, c.patch));
    return text !== null && addsConflictMarkers(text);
  };
  return [...new Set(sync.conflicts.filter(pending).map((c) => c.patch))];
}

/**
 * What a stopped sync waits for, in one line: the conflicts still to resolve; or, once they
 * are, the patches the last --continue found not applying over the resolution; or --continue.
 */
export function stoppedSyncLine(shared: Pick<SharedStatus, "conflicted" | "conflicts" | "unresolved" | "notApplying">): string {
  // Set only by a --continue that found no markers and no undecided NAME.theirs: the others are decided.
  if (shared.notApplying.length) {
    const names = shared.notApplying.map((n) => n.patch);
    return `sync stopped: the conflicts in ${shared.conflicted.join(", ")} are resolved, but ${shared.notApplying.map((n) => `${n.patch} (${n.failures.join("; ")})`).join(", ")} ${names.length === 1 ? "does" : "do"} not apply over the resolution: pq goto ${names[0]}, fix it and pq refresh; then pq sync --continue (or --abort)`;
  }
  if (shared.unresolved.length)
    return `sync stopped on conflicts in ${shared.conflicted.join(", ")}: ${conflictAdvice(shared.conflicts.filter((c) => shared.unresolved.includes(c.patch)))}`;
  return `sync stopped on conflicts in ${shared.conflicted.join(", ")}, resolved (no markers left): pq sync --continue commits the merge (or --abort)`;
}

/** stoppedSyncLine's first half, for a line shared with other facts (the TUI's header). */
export function stoppedSyncSummary(shared: Pick<SharedStatus, "conflicted" | "unresolved" | "notApplying">): string {
  if (shared.notApplying.length)
    return `sync stopped: ${shared.notApplying.map((n) => n.patch).join(", ")} ${shared.notApplying.length === 1 ? "does" : "do"} not apply over the resolution`;
  if (shared.unresolved.length) return `sync stopped on conflicts in ${shared.conflicted.join(", ")}`;
  return "sync stopped, its conflicts resolved: pq sync --continue";
}

/** How to resolve a stopped sync's conflicts: a header conflict with pq header, the others by editing and refreshing. */
export function conflictAdvice(conflicts: { patch: string; kind: ConflictKind }[]): string {
  const names = (header: boolean) => [...new Set(conflicts.filter((c) => (c.kind === "header") === header).map((c) => c.patch))];
  const [headers, others] = [names(true), names(false)];
  const steps = [
    ...(headers.length ? [`choose ${headers.join(", ")}'s header with pq header NAME -m/-u`] : []),
    ...(others.length ? [`resolve ${others.join(", ")} and pq refresh`] : []),
  ];
  return `${steps.join("; ")}; then pq sync --continue (or --abort)`;
}
