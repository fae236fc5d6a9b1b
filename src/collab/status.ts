/** What `pq status` says about the shared queue: which kind, ahead/behind, conflicts. */
import type { Stack } from "../queue/stack.js";
import { QueueRepo, type QueueRepoKind } from "./queue-repo.js";
import { loadSyncState } from "./sync.js";
import type { ConflictKind } from "./types.js";

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
    syncInProgress: sync !== null,
  };
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
